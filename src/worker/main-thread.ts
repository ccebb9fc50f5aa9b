import type { MessagePort } from 'node:worker_threads';
import { HOOK_EXPRESSION, sharedNow, type FromWorker, type MainOperation, type ToWorker } from '../protocol/threads';
import { MAIN_DEADLINE_MS, MainThreadBusyError, type MainInspector } from './inspector';
import { adoptTimerLists } from './timer-lists';

/** Everything the monitor thread can ask of the app's main thread. */
export interface MainThread {
  /** Evaluates a read-only expression on the hook (`hook.list(false)`) and returns its value; runs even while the loop is stuck in JavaScript. */
  query<T>(call: string): Promise<T>;
  /** Runs a mutation between the app's callbacks and returns its result. */
  call<T>(op: MainOperation, ...args: unknown[]): Promise<T>;
  /** How long ago the main thread's event loop last turned, in ms. */
  stalledMs(): number;
  /** The inspector session on the main thread. */
  inspector: MainInspector;
}

/** Builds the monitor thread's link to the main thread. */
export function linkMainThread(inspector: MainInspector, heartbeat: SharedArrayBuffer, port: MessagePort): MainThread {
  const beat = new Float64Array(heartbeat);
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextCall = 1;
  let timersAdopted: Promise<boolean> | undefined;

  port.on('message', (message: ToWorker) => {
    if (message.type !== 'reply') return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.ok) waiter?.resolve(message.value);
    else waiter?.reject(new Error(message.message));
  });

  const stalledMs = (): number => Math.max(0, Math.round(sharedNow() - beat[0]));

  return {
    inspector,
    stalledMs,
    async query<T>(call: string): Promise<T> {
      timersAdopted ??= adoptTimerLists(inspector).catch(() => (timersAdopted = undefined, false));
      await timersAdopted;
      const answer = await inspector.post('Runtime.evaluate', { expression: `${HOOK_EXPRESSION}.${call}`, returnByValue: true, silent: true });
      if (answer.exceptionDetails) throw new Error(answer.exceptionDetails.exception?.description ?? answer.exceptionDetails.text);
      return answer.result.value as T;
    },
    call<T>(op: MainOperation, ...args: unknown[]): Promise<T> {
      const id = nextCall++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new MainThreadBusyError(`the main thread has been busy for ${stalledMs()} ms and did not run it`));
        }, MAIN_DEADLINE_MS);
        pending.set(id, {
          resolve: (value) => { clearTimeout(timer); resolve(value as T); },
          reject: (error) => { clearTimeout(timer); reject(error); },
        });
        port.postMessage({ type: 'call', id, op, args } satisfies FromWorker);
      });
    },
  };
}
