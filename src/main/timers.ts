import { executionAsyncResource } from 'node:async_hooks';
import { duration } from '../shared/text';

/**
 * Node's private timer lists, reached once through the inspector (see worker/timer-lists.ts):
 * every pending setTimeout/setInterval sits in `lists[duration]`, a circular list linked by `_idleNext`,
 * and every setImmediate in the `immediates` queue. Reading them costs nothing until `ps` asks.
 */
export interface TimerInternals {
  lists: Record<string, TimerNode>;
  immediates: { head: TimerNode | null };
  /** libuv's loop time in ms, the clock of `_idleStart`. */
  now(): number;
}

type TimerNode = Record<string, any>;
type Found = { object: object; row: { type: string; ref: boolean; summary: string; running?: number } };

/** The name a user gave the callback, or how it was made. */
export function callbackName(fn: unknown): string {
  if (typeof fn !== 'function') return '(none)';
  return fn.name || '(anonymous)';
}

function timeoutRow(node: TimerNode, now: number): Found['row'] {
  const repeat = typeof node._repeat === 'number';
  const due = node._idleStart + node._idleTimeout - now;
  const summary = repeat
    ? `${callbackName(node._onTimeout)} every ${node._repeat} ms, next in ${duration(due)}`
    : `${callbackName(node._onTimeout)} after ${node._idleTimeout} ms, due in ${duration(due)}`;
  return { type: repeat ? 'interval' : 'timeout', ref: node.hasRef(), summary };
}

function immediateRow(node: TimerNode): Found['row'] {
  return { type: 'immediate', ref: node.hasRef(), summary: callbackName(node._onImmediate) };
}

/** Every pending timer and immediate, as ps rows without IDs. */
export function* listTimers(timers: TimerInternals): Generator<Found> {
  const now = timers.now();
  for (const key of Object.keys(timers.lists)) {
    const list = timers.lists[key];
    for (let node = list._idleNext; node && node !== list; node = node._idleNext) yield { object: node, row: timeoutRow(node, now) };
  }
  for (let node = timers.immediates.head; node; node = node._idleNext) {
    if (node._destroyed || typeof node._onImmediate !== 'function') continue;
    yield { object: node, row: immediateRow(node) };
  }
}

/** Adds the pending timers and immediates that keep the loop alive (ps's rows without -a) to `add`, by type, without describing them; `skip` leaves out the monitor's own. */
export function countTimers(timers: TimerInternals, add: (type: string) => void, skip: (object: object) => boolean): void {
  for (const key of Object.keys(timers.lists)) {
    const list = timers.lists[key];
    for (let node = list._idleNext; node && node !== list; node = node._idleNext) {
      if (node.hasRef() && !skip(node)) add(typeof node._repeat === 'number' ? 'interval' : 'timeout');
    }
  }
  for (let node = timers.immediates.head; node; node = node._idleNext) {
    if (!node._destroyed && typeof node._onImmediate === 'function' && node.hasRef() && !skip(node)) add('immediate');
  }
}

/** Whether an object is one of Node's Timeout or Immediate objects. */
export function isTimer(object: object): boolean {
  const node = object as TimerNode;
  return typeof node.hasRef === 'function' && ('_onTimeout' in node || '_onImmediate' in node);
}

/**
 * The ps row of one timer or immediate while it is pending or its callback runs, else undefined: what listTimers and
 * the running timer say of it, without walking every list.
 */
export function timerRow(node: TimerNode, timers: TimerInternals | undefined, stalledMs: number | null): Found['row'] | undefined {
  if (node === runningTimer()) return runningTimerRow(node, timers, stalledMs);
  if (typeof node._onImmediate === 'function') return node._destroyed ? undefined : immediateRow(node);
  // Node's lists link a pending timer to its neighbours, and unlink it when it fires or is cleared.
  if (!timers || node._destroyed || !node._idleNext || typeof node._onTimeout !== 'function') return undefined;
  return timeoutRow(node, timers.now());
}

/**
 * The timer or immediate whose callback is running now, if any. Node takes a timer off its list while its callback
 * runs (listOnTimeout, processImmediate), so listTimers cannot see the one that blocks the loop; but it makes it the
 * current async resource for the callback, and a read of the monitor during a block runs inside that callback.
 */
export function runningTimer(): TimerNode | undefined {
  const resource = executionAsyncResource() as TimerNode | undefined;
  if (typeof resource?._onTimeout === 'function' || typeof resource?._onImmediate === 'function') return resource;
  return undefined;
}

/**
 * The ps row of the timer or immediate whose callback is running. How long it has run: at most since it was due,
 * and at most since the loop last turned (`stalledMs`, when known).
 */
export function runningTimerRow(node: TimerNode, timers: TimerInternals | undefined, stalledMs: number | null): Found['row'] {
  const bounds: number[] = stalledMs === null ? [] : [stalledMs];
  if (timers && typeof node._idleTimeout === 'number' && node._idleTimeout >= 0) bounds.push(timers.now() - (node._idleStart + node._idleTimeout));
  const running = bounds.length > 0 ? Math.max(0, Math.round(Math.min(...bounds))) : 0;
  const state = bounds.length > 0 ? `running for ${duration(running)}` : 'running';
  // Listed as keeping the process alive, whether unref'd or not: while its callback runs, nothing else happens.
  if (typeof node._onImmediate === 'function') {
    return { type: 'immediate', ref: true, summary: `${callbackName(node._onImmediate)}, ${state}`, running };
  }
  const repeat = typeof node._repeat === 'number';
  const summary = repeat ? `${callbackName(node._onTimeout)} every ${node._repeat} ms, ${state}` : `${callbackName(node._onTimeout)} after ${node._idleTimeout} ms, ${state}`;
  return { type: repeat ? 'interval' : 'timeout', ref: true, summary, running };
}

/** Facts about one timer and its callback, for `where`. */
export function describeTimer(node: TimerNode): { facts: [string, string][]; functions: [string, Function][] } {
  const fn = node._onTimeout ?? node._onImmediate;
  const facts: [string, string][] = [['callback', callbackName(fn)]];
  if (typeof node._idleTimeout === 'number' && node._idleTimeout >= 0) facts.push(['delay', `${node._idleTimeout} ms`]);
  if (typeof node._repeat === 'number') facts.push(['repeats every', `${node._repeat} ms`]);
  const args = node._timerArgs ?? node._argv;
  if (Array.isArray(args) && args.length > 0) facts.push(['arguments', String(args.length)]);
  // Node unrefs an immediate before it runs its callback: whether it kept the process alive is no longer known then.
  const runningImmediate = node._destroyed === true && typeof node._onImmediate === 'function';
  if (!runningImmediate) facts.push(['keeps the process alive', node.hasRef() ? 'yes' : 'no (unref)']);
  return { facts, functions: typeof fn === 'function' ? [['callback', fn]] : [] };
}
