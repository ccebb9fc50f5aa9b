import { setTimeout as sleep } from 'node:timers/promises';
import { createDebug } from '../shared/log';
import { HEARTBEAT_MS, readExpression, type HookReads, type ReadName, type ReadResult } from '../shared/contract';
import type { MainInspector } from './inspector';
import { fullBudget, READ_SHARE, spend, waitMs, type BudgetState } from './read-budget';
import { duration } from '../shared/text';

const debug = createDebug('aiomonitor:reads');

/** A listing asked for again within this many ms is answered from the last one, whichever session asked. */
export const SNAPSHOT_MS = 20;
// What an evaluation costs the main thread beyond what the hook measures: waking the thread, connecting the session,
// the protocol messages. Measured at 0.1 to 0.25 ms of its CPU time for reads spaced out as the budget spaces them
// (30 to 40 µs back to back).
const OVERHEAD_MS = 0.25;
// Past this stall the loop is stuck: a read runs as an interrupt of the stuck code, and waits for no budget.
const STALLED_MS = 2 * HEARTBEAT_MS;
// The most a read measured by its wall time is charged: 2 s of debt at READ_SHARE.
const MAX_WALL_CHARGE_MS = 100;
// Snapshots and cost estimates are kept per expression; `where ID` makes one per ID.
const MAX_KEPT = 64;

/** The reads have used their share of the main thread's time, and the next one could not start before its deadline. */
export class ReadBudgetError extends Error {
  override name = 'ReadBudgetError';
}

/** The monitor thread's reads of the main thread, within a budget of its time shared by every session. */
export interface Reads {
  /** Runs one read of the hook on the main thread, or answers from a snapshot of the same read a few ms old. */
  read<M extends ReadName>(method: M, args: Parameters<HookReads[M]>, deadlineAt: number): Promise<ReadResult<M>>;
  /** Runs a read made of several inspector requests within the budget, charging `costMs`, or else its wall time. */
  budgeted<T>(work: () => Promise<T>, deadlineAt: number, costMs?: number): Promise<T>;
  /** Drops every snapshot: something changed (a cancel, trace on), so the next read must see it. */
  invalidate(): void;
}

interface Snapshot {
  json: string | undefined;
  at: number;
}

/** Builds the reads of one monitor thread; `stalledMs` says how long the main thread's loop has not turned. */
export function createReads(inspector: MainInspector, stalledMs: () => number): Reads {
  let budget: BudgetState = fullBudget(performance.now());
  const snapshots = new Map<string, Snapshot>();
  const inFlight = new Map<string, Promise<string | undefined>>();
  const costs = new Map<string, number>();
  let severalInTurn: Promise<unknown> = Promise.resolve();
  // Changes with every invalidation: a read that began before a change must not be kept as a snapshot after it.
  let generation = 0;

  function keep<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= MAX_KEPT && !map.has(key)) map.clear();
    map.set(key, value);
  }

  async function waitForBudget(deadlineAt: number): Promise<void> {
    for (;;) {
      if (stalledMs() >= STALLED_MS) return;
      const wait = waitMs(budget, performance.now());
      if (wait <= 0) return;
      const left = deadlineAt - Date.now();
      if (wait > left) {
        throw new ReadBudgetError(`the monitor's reads have used their share of the main thread (${READ_SHARE * 100}% of its time, so that they never slow the app down); the next one can run in ${duration(wait)}, try again then`);
      }
      // Others may spend while this one sleeps: look again when it wakes.
      await sleep(Math.ceil(wait));
    }
  }

  /**
   * Runs `work`, charging an estimate before it starts (so that reads waiting together do not all start) and its
   * real cost once it is done: what the main thread measured, or else the wall time, which counts waiting for the
   * main thread too (capped, since a main thread stuck in native code is not working for the monitor meanwhile).
   * A read that failed, most often because the main thread did not answer, costs only the estimate.
   */
  async function charged<T>(key: string, deadlineAt: number, work: () => Promise<{ value: T; costMs: number | null }>): Promise<T> {
    await waitForBudget(deadlineAt);
    // A read while the loop is stuck takes nothing the app would have done meanwhile: it may use up the balance,
    // but not run it into a debt that would make the user wait once the block is over.
    const floor = stalledMs() >= STALLED_MS ? Math.min(0, budget.balanceMs) : -Infinity;
    const charge = (ms: number): void => {
      budget = spend(budget, performance.now(), ms);
      budget = { ...budget, balanceMs: Math.max(floor, budget.balanceMs) };
    };
    const estimate = costs.get(key) ?? OVERHEAD_MS;
    charge(estimate);
    const started = performance.now();
    const { value, costMs } = await work();
    const real = costMs ?? Math.min(MAX_WALL_CHARGE_MS, performance.now() - started);
    keep(costs, key, real);
    debug('%s cost %d ms of the main thread', key, real);
    charge(real - estimate);
    return value;
  }

  async function evaluate(call: string, expression: string, deadlineAt: number): Promise<string | undefined> {
    const startedIn = generation;
    let at = 0;
    const json = await charged(call, deadlineAt, async () => {
      at = performance.now();
      // The hook measures, on the main thread, what the read and its serialization took; a hook of an older copy
      // of the package cannot, and the read's wall time is charged instead.
      const answer = await inspector.post('Runtime.evaluate', { expression, returnByValue: true, silent: true });
      if (answer.exceptionDetails) throw new Error(answer.exceptionDetails.exception?.description ?? answer.exceptionDetails.text);
      const [text, ms] = answer.result.value as [string | undefined, number];
      return { value: text, costMs: ms >= 0 ? ms + OVERHEAD_MS : null };
    });
    if (startedIn === generation) keep(snapshots, call, { json, at });
    return json;
  }

  return {
    async read<M extends ReadName>(method: M, args: Parameters<HookReads[M]>, deadlineAt: number): Promise<ReadResult<M>> {
      const call = `${method}(${JSON.stringify(args).slice(1, -1)})`;
      const snapshot = snapshots.get(call);
      let json: string | undefined;
      if (snapshot && performance.now() - snapshot.at < SNAPSHOT_MS) {
        json = snapshot.json;
      } else {
        // Sessions asking the same at the same time share one evaluation.
        let shared = inFlight.get(call);
        if (!shared) {
          const mine = evaluate(call, readExpression(method, args), deadlineAt);
          shared = mine;
          inFlight.set(call, mine);
          const forget = (): void => { if (inFlight.get(call) === mine) inFlight.delete(call); };
          mine.then(forget, forget);
        }
        json = await shared;
      }
      // Parsed for each caller: commands sort and reverse what they get.
      return (json === undefined ? undefined : JSON.parse(json)) as ReadResult<M>;
    },
    budgeted<T>(work: () => Promise<T>, deadlineAt: number, costMs?: number): Promise<T> {
      // One at a time: their cost is their wall time, which would count the wait for one another too.
      const mine = severalInTurn.then(() => charged(costMs === undefined ? '(several requests)' : '(fixed cost)', deadlineAt, async () => ({ value: await work(), costMs: costMs ?? null })));
      severalInTurn = mine.catch(() => {});
      return mine;
    },
    invalidate() {
      generation++;
      snapshots.clear();
      inFlight.clear();
    },
  };
}
