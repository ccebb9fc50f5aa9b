import type { HeapProfiler } from 'node:inspector';
import { alignRight, percent, size } from '../shared/text';

/** Where a sampled heap profile says memory was allocated, by self size (allocated in the function itself). */
export interface AllocationSite {
  /** The function's name; V8's own entries keep theirs, e.g. '(V8 API)'. */
  name: string;
  /** Its script's URL as V8 reports it, '' for V8's own entries. */
  url: string;
  /** 1-based line of the function's definition. */
  line: number;
  /** Bytes of the sampled allocations, as V8 scales them up to estimate the whole. */
  selfSize: number;
  /** Share of all sampled bytes, 0 to 100. */
  percent: number;
}

/** The bytes of every sampled allocation in the tree under `head`. */
export function sampledBytes(head: HeapProfiler.SamplingHeapProfileNode): number {
  let total = 0;
  for (const node of walk(head)) total += node.selfSize;
  return total;
}

// Iterative: a deep recursion in the app gives a tree as deep, which must not overflow this thread's stack.
function* walk(head: HeapProfiler.SamplingHeapProfileNode): Generator<HeapProfiler.SamplingHeapProfileNode> {
  const stack = [head];
  for (let node = stack.pop(); node; node = stack.pop()) {
    yield node;
    // Reversed onto the stack, so that nodes come in the tree's order and equal sizes keep it.
    const children = node.children ?? [];
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
}

/** The `limit` functions that allocated the most, largest first; a function reached along several call paths counts once. */
export function topAllocationSites(profile: HeapProfiler.SamplingHeapProfile, limit = 10): AllocationSite[] {
  const bySite = new Map<string, { frame: HeapProfiler.SamplingHeapProfileNode['callFrame']; bytes: number }>();
  let total = 0;
  for (const node of walk(profile.head)) {
    if (!(node.selfSize > 0)) continue;
    total += node.selfSize;
    const { functionName, scriptId, url, lineNumber, columnNumber } = node.callFrame;
    const key = `${scriptId}\0${url}\0${lineNumber}\0${columnNumber}\0${functionName}`;
    const entry = bySite.get(key);
    if (entry) entry.bytes += node.selfSize;
    else bySite.set(key, { frame: node.callFrame, bytes: node.selfSize });
  }
  return [...bySite.values()]
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, limit)
    .map(({ frame, bytes }) => ({
      name: frame.functionName || '(anonymous)',
      url: frame.url,
      line: frame.lineNumber + 1,
      selfSize: bytes,
      percent: total > 0 ? (bytes / total) * 100 : 0,
    }));
}

/** The titles of siteRows' columns. */
export const SITE_HEADER = ['SELF SIZE', 'SELF %', 'FUNCTION', 'LOCATION'];

/** Table rows for `sites`, numbers right-aligned under their titles; `place` says where a function is. */
export function siteRows(sites: AllocationSite[], place: (site: AllocationSite) => string): string[][] {
  const sizes = alignRight(SITE_HEADER[0], sites.map((site) => size(site.selfSize)));
  const percents = alignRight(SITE_HEADER[1], sites.map((site) => percent(site.percent / 100)));
  return sites.map((site, i) => [sizes[i], percents[i], site.name, place(site)]);
}
