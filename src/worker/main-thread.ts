import type { MessagePort } from 'node:worker_threads';
import { sharedNow, type CallArgs, type CallMessage, type CallName, type CallResult, type FromWorker, type HookReads, type ReadName, type ReadResult, type ToWorker } from '../shared/contract';
import { MainThreadBusyError, type MainInspector } from './inspector';
import { createReads } from './reads';
import { adoptTimerLists } from './timer-lists';
import { deadlines } from './deadlines';
import { readVitalsFrom, type VitalsReader } from './vitals';

/** Runs `work`, or rejects with MainThreadBusyError after the main thread's deadline. */
function withDeadline<T>(work: () => Promise<T>, describe: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new MainThreadBusyError(describe())), deadlines.mainMs);
    work().then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

/** A call the user stopped waiting for. */
export class CallAbortedError extends Error {
  override name = 'CallAbortedError';
}

/** Everything the monitor thread can ask of the app's main thread. */
export interface MainThread {
  /**
   * Runs one read of the main thread's hook (`read('list', false)`) and returns its value; runs even while the loop
   * is stuck in JavaScript. Reads share a budget of the main thread's time (see read-budget.ts), and the same read
   * asked again within a few ms is answered from the last answer.
   */
  read<M extends ReadName>(method: M, ...args: Parameters<HookReads[M]>): Promise<ReadResult<M>>;
  /** Runs a read made of several inspector requests (such as the source locations of `where`) within the same budget, charged `costMs` or its wall time. */
  budgeted<T>(work: () => Promise<T>, costMs?: number): Promise<T>;
  /** Runs a mutation between the app's callbacks and returns its result; withdrawn if the main thread cannot start it in time. */
  call<K extends CallName>(op: K, ...args: CallArgs<K>): Promise<CallResult<K>>;
  /** Like call; when `signal` aborts, it rejects at once and the main thread aborts the signal the call runs with. */
  callUntil<K extends CallName>(signal: AbortSignal, op: K, ...args: CallArgs<K>): Promise<CallResult<K>>;
  /** How long ago the main thread's event loop last turned, in ms. */
  stalledMs(): number;
  /** When it last turned, on the clock of sharedNow(). */
  lastBeat(): number;
  /** The inspector session on the main thread. */
  inspector: MainInspector;
  /** Hands the main thread's timer lists to its hook, once: what ps (on its first read) and the counts of metrics need. */
  adoptTimers(): Promise<boolean>;
  /** The figures the main thread publishes for metrics through shared memory, read without asking it. */
  vitals: VitalsReader;
}

/** Builds the monitor thread's link to the main thread. */
export function linkMainThread(inspector: MainInspector, heartbeat: SharedArrayBuffer, vitals: SharedArrayBuffer, port: MessagePort): MainThread {
  const beat = new Float64Array(heartbeat);
  const pending = new Map<number, { started(): void; resolve(value: CallResult<CallName>): void; reject(error: Error): void; expire(): void }>();
  let nextCall = 1;
  let timersAdopted: Promise<boolean> | undefined;

  port.on('message', (message: ToWorker) => {
    if (message.type === 'started') return pending.get(message.id)?.started();
    if (message.type !== 'reply') return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.ok) waiter?.resolve(message.value);
    else if (message.expired) waiter?.expire();
    else waiter?.reject(new Error(message.message));
  });

  const stalledMs = (): number => Math.max(0, Math.round(sharedNow() - beat[0]));
  const adoptTimers = (): Promise<boolean> => (timersAdopted ??= adoptTimerLists(inspector).catch(() => (timersAdopted = undefined, false)));
  const reads = createReads(inspector, stalledMs);

  function send<K extends CallName>(op: K, args: CallArgs<K>, signal?: AbortSignal): Promise<CallResult<K>> {
    // A Ctrl-C that came while the command was still getting ready stops it before it reaches the app.
    if (signal?.aborted) return Promise.reject(new CallAbortedError(`${op} was interrupted`));
    const id = nextCall++;
    // A change makes every snapshot of the main thread's state old, once it is made and already while it is on its way.
    reads.invalidate();
    return new Promise<CallResult<K>>((resolve, reject) => {
      // The main thread refuses the call once the deadline has passed; the grace lets its refusal arrive,
      // so that "nothing was changed" is what really happened.
      const deadline = sharedNow() + deadlines.mainMs;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(busy());
      }, deadlines.mainMs + deadlines.refusalGraceMs);
      const busy = (): Error => new MainThreadBusyError(`the main thread has been busy for ${stalledMs()} ms, so ${op === 'command' ? String(args[0]) : op} was withdrawn and nothing was changed`);
      const onAbort = (): void => {
        reads.invalidate();
        clearTimeout(timer);
        pending.delete(id);
        port.postMessage({ type: 'abort', id } satisfies FromWorker);
        reject(new CallAbortedError(`${op} was interrupted`));
      };
      const settle = (): void => {
        reads.invalidate();
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      pending.set(id, {
        // The deadline is for starting: a call that runs, such as an async custom command, may take longer to finish.
        started: () => clearTimeout(timer),
        // The reply answers this call, whose op is K.
        resolve: (value) => { settle(); resolve(value as CallResult<K>); },
        reject: (error) => { settle(); reject(error); },
        expire: () => { settle(); reject(busy()); },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      port.postMessage({ type: 'call', id, op, args, deadline } as CallMessage satisfies FromWorker);
    });
  }

  return {
    inspector,
    adoptTimers,
    vitals: readVitalsFrom(vitals),
    stalledMs,
    lastBeat: () => beat[0],
    read<M extends ReadName>(method: M, ...args: Parameters<HookReads[M]>): Promise<ReadResult<M>> {
      // One deadline for the whole query, however many requests it takes, waiting for the budget included.
      const deadlineAt = Date.now() + deadlines.mainMs;
      return withDeadline(async () => {
        await adoptTimers();
        return reads.read(method, args, deadlineAt);
      }, () => `the main thread has not answered for ${deadlines.mainMs} ms (its event loop last turned ${stalledMs()} ms ago)`);
    },
    budgeted: <T>(work: () => Promise<T>, costMs?: number) => reads.budgeted(work, Date.now() + deadlines.mainMs, costMs),
    call: (op, ...args) => send(op, args),
    callUntil: (signal, op, ...args) => send(op, args, signal),
  };
}
