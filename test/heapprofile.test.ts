import assert from 'node:assert/strict';
import type { HeapProfiler } from 'node:inspector';
import { test } from 'node:test';
import { SITE_HEADER, sampledBytes, siteRows, topAllocationSites } from '../src/worker/heapprofile';

type Node = HeapProfiler.SamplingHeapProfileNode;

let nextId = 1;
function node(functionName: string, lineNumber: number, selfSize: number, children: Node[] = []): Node {
  const url = functionName.startsWith('(') ? '' : 'file:///app.js';
  // V8 gives every node an id, which Node 20's types lack.
  return { id: nextId++, callFrame: { functionName, scriptId: url ? '7' : '0', url, lineNumber, columnNumber: 0 }, selfSize, children } as Node;
}

const MiB = 1024 ** 2;
// makeRecords is reached along two call paths; (root) and main allocate nothing themselves, or a little.
const PROFILE: HeapProfiler.SamplingHeapProfile = {
  head: node('(root)', -1, 0, [
    node('main', 0, 1 * MiB, [
      node('makeRecords', 9, 3 * MiB),
      node('handle', 19, 0, [node('makeRecords', 9, 3 * MiB)]),
    ]),
    node('(V8 API)', -1, 2 * MiB),
    node('', 29, 1 * MiB),
  ]),
};

test('the sampled bytes are every node\'s self size', () => {
  assert.equal(sampledBytes(PROFILE.head), 10 * MiB);
});

test('allocation sites, largest first, count a function once, with 1-based lines and shares', () => {
  const cases: [string, number | undefined, [string, string, number, number, number][]][] = [
    ['all sites', undefined, [
      ['makeRecords', 'file:///app.js', 10, 6 * MiB, 60],
      ['(V8 API)', '', 0, 2 * MiB, 20],
      ['main', 'file:///app.js', 1, 1 * MiB, 10],
      ['(anonymous)', 'file:///app.js', 30, 1 * MiB, 10],
    ]],
    ['the top one', 1, [['makeRecords', 'file:///app.js', 10, 6 * MiB, 60]]],
  ];
  for (const [name, limit, expected] of cases) {
    const sites = topAllocationSites(PROFILE, limit);
    assert.deepEqual(sites.map((site) => [site.name, site.url, site.line, site.selfSize, site.percent]), expected, name);
  }
});

test('functions of the same name elsewhere are separate sites', () => {
  const twins = { head: node('(root)', -1, 0, [node('make', 1, 2 * MiB), node('make', 5, 1 * MiB)]) };
  assert.deepEqual(topAllocationSites(twins).map((site) => [site.line, site.selfSize]), [[2, 2 * MiB], [6, 1 * MiB]]);
});

test('a profile with no samples has no sites', () => {
  const empty = { head: node('(root)', -1, 0, [node('main', 0, 0)]) };
  assert.deepEqual(topAllocationSites(empty), []);
  assert.equal(sampledBytes(empty.head), 0);
});

test('a tree deeper than a stack is walked', () => {
  let deepest = node('leaf', 3, MiB);
  for (let i = 0; i < 100_000; i++) deepest = node('recurse', 1, 0, [deepest]);
  assert.deepEqual(topAllocationSites({ head: deepest }).map((site) => site.name), ['leaf']);
});

test('table rows right-align the sizes and shares under their titles', () => {
  const rows = siteRows(topAllocationSites(PROFILE), (site) => (site.url ? `app.js:${site.line}` : ''));
  assert.deepEqual(SITE_HEADER, ['SELF SIZE', 'SELF %', 'FUNCTION', 'LOCATION']);
  assert.deepEqual(rows[0], ['  6.0 MiB', ' 60.0%', 'makeRecords', 'app.js:10']);
  assert.deepEqual(rows[1], ['  2.0 MiB', ' 20.0%', '(V8 API)', '']);
});
