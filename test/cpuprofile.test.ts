import assert from 'node:assert/strict';
import type { Profiler } from 'node:inspector';
import { test } from 'node:test';
import { HOT_HEADER, hotRows, hottestFunctions, selfTimes } from '../src/worker/cpuprofile';

function node(id: number, functionName: string, lineNumber: number, extra: Partial<Profiler.ProfileNode> = {}): Profiler.ProfileNode {
  const url = functionName.startsWith('(') ? '' : 'file:///app.js';
  return { id, callFrame: { functionName, scriptId: url ? '7' : '0', url, lineNumber, columnNumber: 0 }, ...extra };
}

// crunch is reached along two call paths (nodes 3 and 4); each sample lasts until the next one.
const PROFILE: Profiler.Profile = {
  nodes: [
    node(1, '(root)', -1, { children: [2, 5] }),
    node(2, 'main', 0, { children: [3, 4] }),
    node(3, 'crunch', 9),
    node(4, 'crunch', 9),
    node(5, '(garbage collector)', -1),
  ],
  startTime: 1000,
  endTime: 11_000,
  samples: [3, 4, 2, 5],
  timeDeltas: [0, 4000, 3000, 1000],
};

test('self time runs from each sample to the next, and the last to the end', () => {
  assert.deepEqual([...selfTimes(PROFILE)].sort(([a], [b]) => a - b), [[2, 1000], [3, 4000], [4, 3000], [5, 2000]]);
});

test('a sample recorded out of order takes no time from another', () => {
  const times = selfTimes({ ...PROFILE, timeDeltas: [0, 4000, -500, 1500] });
  assert.equal(times.get(4), 0);
});

test('without a timeline, hit counts share the profile\'s duration', () => {
  const times = selfTimes({ ...PROFILE, samples: undefined, timeDeltas: undefined, nodes: [node(1, 'a', 0, { hitCount: 3 }), node(2, 'b', 0, { hitCount: 1 })] });
  assert.deepEqual([...times], [[1, 7500], [2, 2500]]);
});

test('hottest functions count a function once, hottest first, with 1-based lines', () => {
  const hot = hottestFunctions(PROFILE);
  assert.deepEqual(hot.map((fn) => [fn.name, fn.line, fn.selfMs, fn.percent]), [
    ['crunch', 10, 7, 70],
    ['(garbage collector)', 0, 2, 20],
    ['main', 1, 1, 10],
  ]);
  assert.equal(hot[0].url, 'file:///app.js');
  assert.equal(hottestFunctions(PROFILE, 1).length, 1);
});

test('anonymous functions are named so, and an empty profile has no hot functions', () => {
  const anonymous = { ...PROFILE, nodes: [node(1, '', 0)], samples: [1], timeDeltas: [0] };
  assert.equal(hottestFunctions(anonymous)[0].name, '(anonymous)');
  assert.deepEqual(hottestFunctions({ ...PROFILE, samples: [], timeDeltas: [] }), []);
});

test('table rows right-align the numbers under their titles', () => {
  const rows = hotRows(hottestFunctions(PROFILE), (fn) => (fn.url ? `app.js:${fn.line}` : ''));
  assert.deepEqual(rows[0], ['    7.0', ' 70.0%', 'crunch', 'app.js:10']);
  assert.deepEqual(rows[1], ['    2.0', ' 20.0%', '(garbage collector)', '']);
  assert.equal(rows[0][0].length, HOT_HEADER[0].length);
});
