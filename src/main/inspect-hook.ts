import { performance } from 'node:perf_hooks';
import { appSignalListeners } from './exit-cleanup';
import { HOOK_SYMBOL } from '../shared/contract';
import type { CustomCommandSpec } from './command-definition';
import { commandSpecs } from './custom-commands';
import { gcReport, loopReport, type GcReport, type LoopReport } from './loop-watch';
import { inspectTask, listTasks, findTask, trackWorkers, type Found, type TaskDetail, type TaskRow } from './tasks';
import { endedTask, endedTasks, type EndedRow } from './registry';
import type { TimerInternals } from './timers';
import { appFrames, formatChain } from './chain';
import { linkOf, tracingStatus } from './trace';

/**
 * The read-only view of the main thread that the monitor thread evaluates through the inspector.
 * Reads through the inspector run even while the main thread's JavaScript is stuck in a loop,
 * which is why they do not go through a MessagePort like the mutations do.
 */
export interface InspectHook {
  /**
   * Runs one read of the monitor thread and serializes its value as JSON, and says how long both took on this
   * thread, in ms: what the read cost the app, which the monitor thread counts against its budget.
   */
  answer(read: () => unknown): [json: string | undefined, ms: number];
  /** Takes the private timer lists the monitor thread found through the inspector. */
  adoptTimers(lists: TimerInternals['lists'], immediates: TimerInternals['immediates'], binding: { getLibuvNow(): number }): void;
  /** Rows of `ps`; unref'd timers only when `all`. */
  list(all: boolean): TaskRow[];
  /** Facts about one task, labels for its functions and its creation chain (see chainOf), or null when it is gone. */
  inspect(id: number): { detail: TaskDetail; labels: string[]; chain: string | null } | null;
  /** The functions labelled by `inspect`, in the same order, for their source locations. */
  functionsOf(id: number): Function[];
  /** The live object behind an ID, for mutations on the main thread. */
  find(id: number): Found | undefined;
  /** Finished tasks, oldest first, and counts of requests that ended normally, for `ps-terminated`. */
  ended(): ReturnType<typeof endedTasks>;
  /** One finished task with where it ended and its creation chain, for `where-terminated`; null when the history no longer holds it. */
  endedTask(id: number): EndedDetail | null;
  /** Event-loop delay, utilization and resources, for `loop`. */
  loop(): LoopReport | null;
  /** Process memory, V8 heap spaces and garbage collections, for `mem`. */
  mem(): MemReport;
  /** The custom commands the app defined, for the monitor thread's command table. */
  commands(): CustomCommandSpec[];
  /** How many listeners the app has for a signal, for `signal` to know whether the signal would end the app. */
  signalListeners(name: string): number;
  /** Whether tracing is on, and since when (ms since the epoch), for `trace`. */
  tracing(): { on: boolean; since: number | null };
}

/** What `where-terminated` shows of a finished task. */
export interface EndedDetail extends EndedRow {
  /** The stack where it ended, as V8 wrote it. */
  stack: string | null;
  /** The app's frames of that stack, most recent call last. */
  frames: string[];
  /** Its creation chain, when it was created while tracing. */
  chain: string | null;
}

/** What `mem` shows. */
export interface MemReport {
  memory: NodeJS.MemoryUsage;
  heapSpaces: { name: string; size: number; used: number; available: number }[];
  gc: GcReport | null;
}

/** The global key of the hook; a symbol so that the app never sees it among its globals. */
export const HOOK_KEY = Symbol.for(HOOK_SYMBOL);

// Taken now: an app may replace the globals of the same names.
const clock = performance.now.bind(performance);
const stringify = JSON.stringify;

/** Installs the hook once per process and returns it, so several monitors and copies of the package share IDs. */
export function installInspectHook(): InspectHook {
  const holder = globalThis as unknown as Record<symbol, InspectHook | undefined>;
  const existing = holder[HOOK_KEY];
  if (existing) return existing;
  let timers: TimerInternals | undefined;
  trackWorkers();
  const hook: InspectHook = {
    answer(read) {
      const started = clock();
      const json = stringify(read()) as string | undefined;
      return [json, clock() - started];
    },
    adoptTimers(lists, immediates, binding) {
      timers = { lists, immediates, now: () => binding.getLibuvNow() };
    },
    list: (all) => listTasks(timers, all),
    inspect(id) {
      const found = inspectTask(timers, id);
      return found ? { detail: found.detail, labels: found.functions.map(([label]) => label), chain: chainOf(found.item) } : null;
    },
    functionsOf: (id) => inspectTask(timers, id)?.functions.map(([, fn]) => fn) ?? [],
    find: (id) => findTask(timers, id),
    ended: endedTasks,
    endedTask(id) {
      const found = endedTask(id);
      if (!found) return null;
      const { link, stack, ...row } = found;
      return { ...row, stack: stack ?? null, frames: stack ? appFrames({ stack }) : [], chain: link ? formatChain(link) : null };
    },
    loop: loopReport,
    mem: () => ({
      memory: process.memoryUsage(),
      heapSpaces: (require('node:v8') as typeof import('node:v8')).getHeapSpaceStatistics().map((space) => ({
        name: space.space_name, size: space.space_size, used: space.space_used_size, available: space.space_available_size,
      })),
      gc: gcReport(),
    }),
    commands: commandSpecs,
    tracing: tracingStatus,
    signalListeners: appSignalListeners,
  };
  Object.defineProperty(globalThis, HOOK_KEY, { value: hook, enumerable: false, configurable: true });
  return hook;
}

/** The creation chain of a task for `where`, a line saying why there is none, or null when tracing is off. */
function chainOf(found: Found): string | null {
  const link = found.live?.link ?? linkOf(found.object);
  if (link) return formatChain(link);
  if (!tracingStatus().on) return null;
  return 'Created before tracing was on: run trace on, then look at tasks created after it';
}
