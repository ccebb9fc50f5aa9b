import type { MessagePort } from 'node:worker_threads';
import type { CommandInput, CustomCommandSpec } from './command-spec';
import type { Deadlines, Endpoint } from './config';
import type { MonitorRecord } from './discovery';
import type { AdmissionRules } from '../protocol/admission';
import type {
  CancelOutcome, CommandResult, EndedDetail, EndedList, InspectedTask, LoopReport, MemReport, TaskRow, TraceSwitch, TracingStatus,
} from './rows';

/**
 * The contract between the two threads. The monitor thread reads the main thread through the inspector
 * (`Runtime.evaluate` runs even while the app's JavaScript is stuck in a loop), by naming a method of the
 * hook below and passing JSON arguments; it asks for changes through a MessagePort, by naming an operation of
 * MainCalls, which the main thread runs between the app's callbacks.
 */

/** The key of the main thread's inspect hook on globalThis (see main/inspect-hook.ts). */
export const HOOK_SYMBOL = 'aiomonitor.inspect';

/** The key of the main thread's diagnostics hook on globalThis (see main/diagnostics-hook.ts). */
export const DIAGNOSTICS_SYMBOL = 'aiomonitor.diagnostics';

/** How the monitor thread names the inspect hook in the expressions it evaluates on the main thread. */
export const HOOK_EXPRESSION = `globalThis[Symbol.for('${HOOK_SYMBOL}')]`;

/** The reads of the main thread: each returns JSON-shaped data and changes nothing the app can see. */
export interface HookReads {
  /** Rows of `ps`; unref'd timers only when `all`. */
  list(all: boolean): TaskRow[];
  /** Facts about one task, labels for its functions and its creation chain, or null when it is gone. */
  inspect(id: number): InspectedTask | null;
  /** Finished tasks, oldest first, and counts of requests that ended normally, for `ps-terminated`. */
  ended(): EndedList;
  /** One finished task with where it ended and its creation chain; null when the history no longer holds it. */
  endedTask(id: number): EndedDetail | null;
  /** Event-loop delay, utilization and resources, for `loop`; null when no monitor measures the loop. */
  loop(): LoopReport | null;
  /** Process memory, V8 heap spaces and garbage collections, for `mem`. */
  mem(): MemReport;
  /** The custom commands the app defined, for the monitor thread's command table. */
  commands(): CustomCommandSpec[];
  /** How many listeners the app has for a signal, for `signal` to know whether the signal would end the app. */
  signalListeners(name: string): number;
  /** Whether tracing is on, and since when, for `trace`. */
  tracing(): TracingStatus;
}

/** The name of a read. */
export type ReadName = keyof HookReads;

/** What a read returns. */
export type ReadResult<M extends ReadName> = ReturnType<HookReads[M]>;

/** The hook the main thread installs for the monitor thread to evaluate. */
export interface InspectHook {
  /**
   * Runs one read and serializes its value as JSON, and says how long both took on this thread, in ms: what the
   * read cost the app, which the monitor thread counts against its budget.
   */
  read<M extends ReadName>(method: M, args: Parameters<HookReads[M]>): [json: string | undefined, ms: number];
  /** The functions `inspect(id)` labels, in the same order, which the monitor thread reads by reference for their source locations. */
  functionsOf(id: number): Function[];
  /** Takes the private timer lists the monitor thread found through the inspector, passed by reference. */
  adoptTimers(lists: object, immediates: object, binding: { getLibuvNow(): number }): void;
  /** How many rows ps (without -a) lists, by type, counted without describing them: what the heartbeat publishes for metrics. */
  countTasks(): Record<string, number>;
}

/** The expression that runs one read on the main thread, with JSON arguments; it evaluates to `[json, ms]`. */
export function readExpression<M extends ReadName>(method: M, args: Parameters<HookReads[M]>): string {
  const name = JSON.stringify(method);
  const given = JSON.stringify(args);
  // A hook installed by an older copy of the package has no `read`: its methods are called directly, and the
  // read's cost is not measured (-1).
  return `((h) => h.read ? h.read(${name}, ${given}) : [JSON.stringify(h[${name}](...${given})), -1])(${HOOK_EXPRESSION})`;
}

/** The expression of `functionsOf(id)`, evaluated to get the functions by reference. */
export function functionsExpression(id: number): string {
  return `${HOOK_EXPRESSION}.functionsOf(${JSON.stringify(id)})`;
}

/** The main thread's diagnostics hook: profiles and output files, which must run on the main thread itself. */
export interface DiagnosticsHook {
  /** Removes `file` (an output file being written) if the process ends before untrack(file). */
  track(file: string): void;
  /** Forgets a file given to track(). */
  untrack(file: string): void;
  /**
   * Starts the CPU profiler, sampling every `intervalUs`; `recompile` drops optimized code so that it is compiled
   * again while profiled. Does nothing past `notAfter` (ms since the epoch: the caller gave up), and stops by
   * itself after `maxMs`, should the caller never come back (the monitor closed, say).
   */
  startProfile(intervalUs: number, recompile: boolean, notAfter: number, maxMs: number): void;
  /** Stops the profiler; returns the profile as JSON, or null if none was running. `keep` false throws it away. */
  stopProfile(keep: boolean): string | null;
  /**
   * Starts V8's sampling heap profiler, a sample every `intervalBytes` allocated on average; `notAfter` and
   * `maxMs` as for startProfile. Returns null once started, or why it was not (another session is sampling).
   */
  startHeapProfile(intervalBytes: number, notAfter: number, maxMs: number): string | null;
  /** Stops the sampling heap profiler; returns its profile as JSON, or null if none was running. `keep` false throws it away. */
  stopHeapProfile(keep: boolean): string | null;
}

/** The expression that calls a method of the diagnostics hook with JSON arguments. */
export function diagnosticsExpression<M extends keyof DiagnosticsHook>(method: M, args: Parameters<DiagnosticsHook[M]>): string {
  return `globalThis[Symbol.for('${DIAGNOSTICS_SYMBOL}')][${JSON.stringify(method)}](...${JSON.stringify(args)})`;
}

/** The changes the monitor thread asks of the main thread, run between the app's callbacks. */
export interface MainCalls {
  /** Ends a task, asked by `by` (who is named in the history of finished tasks). */
  cancel(id: number, by: string): CancelOutcome;
  /** Runs a custom command's handler; `json` asks for its result as JSON. */
  command(name: string, input: CommandInput, json: boolean): CommandResult;
  /** Switches tracing on or off for the whole process. */
  trace(on: boolean): TraceSwitch;
}

/** The name of a change. */
export type CallName = keyof MainCalls;

/** The arguments of a change. */
export type CallArgs<K extends CallName> = Parameters<MainCalls[K]>;

/** What a change returns. */
export type CallResult<K extends CallName> = ReturnType<MainCalls[K]>;

/** A call of one change, as it crosses the MessagePort. `deadline` is a sharedNow() time: past it the main thread must not run it. */
export type CallMessage = { [K in CallName]: { type: 'call'; id: number; op: K; args: CallArgs<K>; deadline: number } }[CallName];

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
  /** Whether its port is the default one, which the user did not choose: taken, a free one does instead. */
  freeIfTaken: boolean;
  /** What the web page calls the app: its main script's file name, or `node`. */
  title: string;
  /** Where the web page and `/metrics` are to listen, and whether a free port may do if that one is taken; null when off. */
  web: { endpoint: Endpoint; freeIfTaken: boolean } | null;
  /** Where the console was asked to listen (`console` is where it does), for the line that says a port moved. */
  consoleWanted: Endpoint | null;
  /** The record for aiomon that this thread writes once it listens, or null when another monitor of the process has it. */
  record: RecordPlan | null;
  /** Where the console listens, or null when it is disabled. */
  console: Endpoint | null;
  rules: AdmissionRules;
  /** Stalls longer than `thresholdMs` are recorded as blocks; `log` prints each on stderr. */
  watchdog: { thresholdMs: number; log: boolean };
  /** A Float64Array's memory holding the main thread's last heartbeat (ms since the epoch). */
  heartbeat: SharedArrayBuffer;
  /** Where the heartbeat publishes its figures for `metrics` while the monitor thread says someone looks (see shared/vitals.ts). */
  vitals: SharedArrayBuffer;
  /** How long to wait for the main thread (shorter in tests). */
  deadlines: Deadlines;
  /** The monitor thread's end of the channel to the main thread. */
  link: MessagePort;
}

/**
 * The record of the process, but for the command prompt's endpoint, and its directory. The monitor thread writes
 * it, since it listens even while the app's loop is already blocked, which is when the record is needed most.
 */
export interface RecordPlan {
  dir: string;
  record: Omit<MonitorRecord, 'monitor'>;
}

/** Monitor thread to main thread. */
export type FromWorker =
  /** `record`: the record file written, or null when there is none. */
  | { type: 'listening'; endpoint: Endpoint; web: Endpoint | null; record: string | null }
  | { type: 'failed'; message: string }
  | CallMessage
  /** The user stopped waiting for a call (Ctrl-C, or left): the main thread aborts the signal the call runs with. */
  | { type: 'abort'; id: number };

/** Main thread to monitor thread. */
export type ToWorker =
  /** The main thread began the call in time: from now on the caller waits for the reply however long it takes. */
  | { type: 'started'; id: number }
  | { type: 'reply'; id: number; ok: true; value: CallResult<CallName> }
  | { type: 'reply'; id: number; ok: false; message: string; expired?: true }
  | { type: 'close' };
