import type { HookReads, InspectHook, ReadName } from '../shared/contract';
import type { ChainAnswer, EndedDetail, InspectedTask, MemReport } from '../shared/rows';
import { appWorkers } from './app-workers';
import { processWide } from './process-wide';
import type { Found } from './tasks';
import type { TimerInternals } from './timers';

// The modules behind the reads load on the first read, not when the monitor starts: most apps are never looked at.
const tasks = (): typeof import('./tasks') => require('./tasks');
const registry = (): typeof import('./registry') => require('./registry');
const chain = (): typeof import('./chain') => require('./chain');
const trace = (): typeof import('./trace') => require('./trace');
const loopWatch = (): typeof import('./loop-watch') => require('./loop-watch');

/** The hook as the main thread itself uses it: the contract's reads, and the live objects behind IDs for changes. */
export interface MainHook extends InspectHook {
  /** The live object behind an ID, for changes on the main thread. */
  find(id: number): Found | undefined;
}

// Taken now, or from the module: an app may replace the globals of the same names. perf_hooks loads on the
// first read, not at start.
const clock = (): number => (require('node:perf_hooks') as typeof import('node:perf_hooks')).performance.now();
const stringify = JSON.stringify;

/** The creation chain of a task for `where`, a word for why there is none, or null when tracing is off. */
function chainOfTask(found: Found): ChainAnswer {
  const link = found.live?.link ?? trace().linkOf(found.object);
  if (link) return chain().chainOf(link);
  return trace().tracingStatus().on ? 'created-before-tracing' : null;
}

function createHook(): MainHook {
  let timers: TimerInternals | undefined;
  const reads: HookReads = {
    list: (all) => tasks().listTasks(timers, all),
    inspect(id): InspectedTask | null {
      const found = tasks().inspectTask(timers, id);
      return found ? { detail: found.detail, labels: found.functions.map(([label]) => label), chain: chainOfTask(found.item) } : null;
    },
    ended: () => registry().endedTasks(),
    endedTask(id): EndedDetail | null {
      const found = registry().endedTask(id);
      if (!found) return null;
      const { link, stack, ...row } = found;
      return { ...row, stack: stack ?? null, frames: stack ? chain().appFrames({ stack }) : [], chain: link ? chain().chainOf(link) : null };
    },
    loop: () => loopWatch().loopReport(),
    mem: (): MemReport => ({
      memory: process.memoryUsage(),
      heapSpaces: (require('node:v8') as typeof import('node:v8')).getHeapSpaceStatistics().map((space) => ({
        name: space.space_name, size: space.space_size, used: space.space_used_size, available: space.space_available_size,
      })),
      gc: loopWatch().gcReport(),
    }),
    commands: () => (require('./custom-commands') as typeof import('./custom-commands')).commandSpecs(),
    tracing: () => trace().tracingStatus(),
    signalListeners: (name) => (require('./exit-cleanup') as typeof import('./exit-cleanup')).appSignalListeners(name),
  };
  return {
    read<M extends ReadName>(method: M, args: Parameters<HookReads[M]>): [string | undefined, number] {
      if (!Object.hasOwn(reads, method)) throw new Error(`the main thread has no read named ${stringify(method)}`);
      const started = clock();
      const read = reads[method] as (...given: Parameters<HookReads[M]>) => ReturnType<HookReads[M]>;
      const json = stringify(read(...args)) as string | undefined;
      return [json, clock() - started];
    },
    functionsOf: (id) => tasks().inspectTask(timers, id)?.functions.map(([, fn]) => fn) ?? [],
    adoptTimers(lists, immediates, binding) {
      timers = { lists, immediates, now: () => binding.getLibuvNow() } as TimerInternals;
    },
    find: (id) => tasks().findTask(timers, id),
    countTasks: () => tasks().countTasks(timers),
  };
}

/** Installs the hook once per process and returns it, so that several monitors and copies of the package share IDs. */
export function installInspectHook(): MainHook {
  // Noted from the first monitor on: Node announces a worker thread only when it starts.
  appWorkers();
  return processWide('inspectHook', createHook);
}
