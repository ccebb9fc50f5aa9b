import path from 'node:path';
import type { TraceLink } from './registry';
import { duration } from '../shared/text';

// Frames of the monitor itself (this copy, or another copy installed as a dependency) say nothing about the app.
const OWN_DIR = path.resolve(__dirname, '..');
const OWN_FRAME = /[\\/]aiomonitor[\\/]dist[\\/]src[\\/]/;

function isOwnOrNodes(frame: string): boolean {
  return /\((node:|internal\/)|at (node:|internal\/)|\(<anonymous>\)$/.test(frame) || frame.includes(OWN_DIR) || OWN_FRAME.test(frame);
}

/** The app's frames of a link's creation stack, most recent call last, with paths relative to the working directory. */
export function appFrames(site: { stack?: string }, cwd = process.cwd()): string[] {
  // Reading `.stack` formats the frames through Error.prepareStackTrace, so source maps apply when they are on.
  const text = typeof site.stack === 'string' ? site.stack : '';
  const base = cwd.endsWith(path.sep) ? cwd : cwd + path.sep;
  const baseUrl = `file://${base.split(path.sep).join('/')}`;
  return text
    .split('\n')
    .filter((line) => /^\s+at /.test(line) && !isOwnOrNodes(line))
    .map((line) => `at ${line.trim().slice(3).split(baseUrl).join('').split(base).join('')}`)
    .reverse();
}

function block(link: TraceLink, now: number): string[] {
  const title = link.name ? `${link.type} ${link.name}` : link.type;
  const frames = appFrames(link.site);
  const lines = [`  ${title}, ${duration(now - link.created)} ago`];
  if (frames.length === 0) lines.push('    (created by Node itself, not by a call of the app)');
  for (const frame of frames) lines.push(`    ${frame}`);
  return lines;
}

/**
 * A task's creation chain as `where` prints it: one block per link from the root down to the task, each with
 * the app's frames where that link was created, most recent call last, as Python prints tracebacks.
 */
export function formatChain(link: TraceLink, now = Date.now()): string {
  const links: TraceLink[] = [];
  for (let at: TraceLink | null = link; at; at = at.parent) links.push(at);
  links.reverse();
  const lines = ['Created (most recent call last):'];
  const top = links[0];
  if (top.elided && top.root) {
    lines.push(...block(top.root, now));
    const omitted = top.depth - top.root.depth - 1;
    if (omitted > 0) lines.push(`  … ${omitted} link${omitted === 1 ? '' : 's'} omitted …`);
  } else if (top.elided) {
    lines.push(`  … ${top.depth} earlier link${top.depth === 1 ? '' : 's'} omitted …`);
  }
  for (const each of links) lines.push(...block(each, now));
  return lines.join('\n');
}
