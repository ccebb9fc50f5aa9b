import path from 'node:path';
import type { TraceLink } from './registry';
import type { Chain, ChainLink } from '../shared/rows';

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

function toLink(link: TraceLink): ChainLink {
  return { type: link.type, name: link.name, created: link.created, frames: appFrames(link.site) };
}

/** A task's creation chain as `where` shows it, from the root down to the task, each link with the app's frames where it was created. */
export function chainOf(link: TraceLink): Chain {
  const links: TraceLink[] = [];
  for (let at: TraceLink | null = link; at; at = at.parent) links.push(at);
  links.reverse();
  const top = links[0];
  const root = top.elided && top.root ? top.root : null;
  const omitted = !top.elided ? 0 : root ? top.depth - root.depth - 1 : top.depth;
  return { root: root && toLink(root), omitted, links: links.map(toLink) };
}
