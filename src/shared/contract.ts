import type { MessagePort } from 'node:worker_threads';
import type { Deadlines, Endpoint } from './config';
import type { AdmissionRules } from '../protocol/admission';

/** The key of the main thread's inspect hook on globalThis (see main/inspect-hook.ts). */
export const HOOK_SYMBOL = 'aiomonitor.inspect';

/** How the monitor thread names that hook in the expressions it evaluates on the main thread. */
export const HOOK_EXPRESSION = `globalThis[Symbol.for('${HOOK_SYMBOL}')]`;

/** The time on a clock both threads share: ms since the epoch, monotonic within a thread. */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}

/** How often the main thread's heartbeat proves that its event loop turns, in ms. */
export const HEARTBEAT_MS = 50;

/** What the main thread hands the monitor thread when it starts it. */
export interface WorkerSetup {
  /** Where the command server is to listen. */
  monitor: Endpoint;
  /** Where the console listens, or null when it is disabled. */
  console: Endpoint | null;
  rules: AdmissionRules;
  /** Stalls longer than `thresholdMs` are recorded as blocks; `log` prints each on stderr. */
  watchdog: { thresholdMs: number; log: boolean };
  /** A Float64Array's memory holding the main thread's last heartbeat (ms since the epoch). */
  heartbeat: SharedArrayBuffer;
  /** How long to wait for the main thread (shorter in tests). */
  deadlines: Deadlines;
  /** The monitor thread's end of the channel to the main thread. */
  link: MessagePort;
}

/** Operations the monitor thread asks the main thread to run on its own event loop. */
export type MainOperation = 'cancel' | 'command' | 'trace';

/** Monitor thread to main thread. */
export type FromWorker =
  | { type: 'listening'; endpoint: Endpoint }
  | { type: 'failed'; message: string }
  /** `deadline` is a sharedNow() time: past it the main thread must not run the call, since the caller gave up. */
  | { type: 'call'; id: number; op: MainOperation; args: unknown[]; deadline: number }
  /** The user stopped waiting for a call (Ctrl-C, or left): the main thread aborts the signal the call runs with. */
  | { type: 'abort'; id: number };

/** Main thread to monitor thread. */
export type ToWorker =
  /** The main thread began the call in time: from now on the caller waits for the reply however long it takes. */
  | { type: 'started'; id: number }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; message: string; expired?: true }
  | { type: 'close' };
