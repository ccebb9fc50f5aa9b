import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fullBudget, READ_RULES, refill, spend, waitMs, type BudgetState } from '../src/worker/read-budget';

// 5% of the main thread's time, 20 ms at most at once: what the monitor uses.
const RULES = { share: 0.05, burstMs: 20 };

describe('the budget of the main thread\'s time for reads', () => {
  test('the monitor\'s rules are a few percent of the main thread', () => {
    assert.ok(READ_RULES.share > 0 && READ_RULES.share <= 0.05);
    assert.ok(READ_RULES.burstMs > 0 && READ_RULES.burstMs <= 50);
  });

  test('reads of a step-by-step table: wait only once the balance is negative, and as long as it takes to refill', () => {
    // [when the read is asked, how long it must wait, ms it then costs, balance after it]
    const steps: [number, number, number, number][] = [
      [0, 0, 5, 15], // a full budget lets a read start at once
      [0, 0, 15, 0], // and another, down to nothing
      [0, 0, 1, -1], // nothing left, but not negative: this one starts too, and goes into debt
      [10, 10, 1, -1], // 1 ms of debt is 20 ms of refill: asked 10 ms later, it waits 10 ms more
      [50, 0, 80, -79.5], // paid off (+1.5): a read may be as dear as it is; it only makes the next ones wait
      [100, 1540, 0.1, -0.1], // 79.5 - 2.5 = 77 ms of debt left: 1540 ms to wait
      [10_000, 0, 0.5, 19.5], // a long quiet while fills the budget, never beyond its burst
    ];
    let state: BudgetState = fullBudget(0, RULES);
    for (const [at, wait, cost, balance] of steps) {
      assert.ok(Math.abs(waitMs(state, at, RULES) - wait) < 1e-6, `wait at ${at}: ${waitMs(state, at, RULES)}, not ${wait}`);
      state = spend(state, at + wait, cost, RULES);
      assert.ok(Math.abs(state.balanceMs - balance) < 1e-6, `balance after the read asked at ${at}: ${state.balanceMs}, not ${balance}`);
    }
  });

  test('over any stretch, reads that start as soon as they may take at most the burst plus the share of its length', () => {
    for (const cost of [0.05, 0.3, 2, 40]) {
      let state = fullBudget(0, RULES);
      let now = 0;
      let spent = 0;
      while (now < 60_000) {
        now += waitMs(state, now, RULES);
        state = spend(state, now, cost, RULES);
        spent += cost;
        now += cost;
      }
      const allowed = RULES.burstMs + RULES.share * now + cost;
      assert.ok(spent <= allowed, `reads of ${cost} ms took ${spent} ms in ${now} ms, over ${allowed}`);
      assert.ok(spent >= RULES.share * now * 0.9, `reads of ${cost} ms got only ${spent} ms in ${now} ms`);
    }
  });

  test('an estimate charged before a read and corrected after it comes to the same balance as the real cost', () => {
    const empty: BudgetState = { balanceMs: 0, at: 0 };
    const estimated = spend(spend(empty, 0, 3, RULES), 4, 1 - 3, RULES);
    const exact = spend(empty, 4, 1, RULES);
    assert.ok(Math.abs(estimated.balanceMs - exact.balanceMs) < 1e-9, `${estimated.balanceMs} and ${exact.balanceMs}`);
    assert.equal(refill(exact, 2, RULES).balanceMs, exact.balanceMs, 'a clock that goes back does not refill');
  });
});
