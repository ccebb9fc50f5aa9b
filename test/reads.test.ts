import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MainInspector } from '../src/worker/inspector';
import { createReads, ReadBudgetError } from '../src/worker/reads';

/** A main thread whose every read costs `costMs` of its time, as its hook measures; counts the evaluations. */
function fakeMainThread(costMs: number): { inspector: MainInspector; evaluations: string[] } {
  const evaluations: string[] = [];
  const inspector = {
    post: async (_method: string, params: { expression: string }) => {
      evaluations.push(params.expression);
      await new Promise((resolve) => setImmediate(resolve));
      return { result: { value: [JSON.stringify([{ id: evaluations.length }]), costMs] } };
    },
  } as unknown as MainInspector;
  return { inspector, evaluations };
}

const soon = (): number => Date.now() + 2000;

describe('the reads of the main thread', () => {
  test('sessions asking the same at once share one evaluation, and each gets its own copy', async () => {
    const { inspector, evaluations } = fakeMainThread(0.1);
    const reads = createReads(inspector, () => 0);
    const answers = await Promise.all(Array.from({ length: 8 }, () => reads.read('list', [false], soon())));
    assert.equal(evaluations.length, 1);
    assert.match(evaluations[0], /h\.read\("list", \[false\]\)/);
    answers[0].push({ id: 99, type: 'timeout', ref: true, summary: '' });
    assert.deepEqual(answers[7], [{ id: 1 }]);
  });

  test('a change drops what was read before it: the next read evaluates again', async () => {
    const { inspector, evaluations } = fakeMainThread(0.1);
    const reads = createReads(inspector, () => 0);
    await reads.read('ended', [], soon());
    reads.invalidate();
    assert.deepEqual(await reads.read('ended', [], soon()), [{ id: 2 }]);
    assert.equal(evaluations.length, 2);
  });

  test('once a dear read has spent the budget, the next one that cannot start before its deadline says when it can', async () => {
    const { inspector, evaluations } = fakeMainThread(500);
    const reads = createReads(inspector, () => 0);
    await reads.read('list', [true], soon());
    await assert.rejects(reads.read('mem', [], soon()), (error: Error) => {
      assert.ok(error instanceof ReadBudgetError);
      assert.match(error.message, /^the monitor's reads have used their share of the main thread \(5% of its time, .*\); the next one can run in (\d+ ms|\d+\.\d s), try again then$/);
      return true;
    });
    assert.equal(evaluations.length, 1);
  });

  test('while the loop is blocked, reads do not wait for the budget', async () => {
    const { inspector, evaluations } = fakeMainThread(500);
    const reads = createReads(inspector, () => 3000);
    await reads.read('list', [false], soon());
    await reads.read('inspect', [2], soon());
    assert.equal(evaluations.length, 2);
  });
});
