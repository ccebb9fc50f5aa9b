import type { Chain, ChainAnswer, ChainLink } from '../shared/rows';
import { duration, plural } from '../shared/text';

function block(link: ChainLink, now: number): string[] {
  const title = link.name ? `${link.type} ${link.name}` : link.type;
  const lines = [`  ${title}, ${duration(now - link.created)} ago`];
  if (link.frames.length === 0) lines.push('    (created by Node itself, not by a call of the app)');
  for (const frame of link.frames) lines.push(`    ${frame}`);
  return lines;
}

/**
 * A task's creation chain as `where` prints it: one block per link from the root down to the task, each with
 * the app's frames where that link was created, most recent call last, as Python prints tracebacks.
 */
export function formatChain(chain: Chain, now = Date.now()): string {
  const lines = ['Created (most recent call last):'];
  if (chain.root) {
    lines.push(...block(chain.root, now));
    if (chain.omitted > 0) lines.push(`  … ${plural(chain.omitted, 'link')} omitted …`);
  } else if (chain.omitted > 0) {
    lines.push(`  … ${plural(chain.omitted, 'earlier link')} omitted …`);
  }
  for (const link of chain.links) lines.push(...block(link, now));
  return lines.join('\n');
}

/** What `where` says of a task's creation chain: the chain, why there is none, or null when tracing is off. */
export function describeChain(answer: ChainAnswer): string | null {
  if (answer === 'created-before-tracing') return 'Created before tracing was on: run trace on, then look at tasks created after it';
  return answer && formatChain(answer);
}
