import { DIAGNOSTICS_SYMBOL, HOOK_SYMBOL } from '../shared/contract';

/**
 * Every process-wide singleton of the monitor, by the name it is kept under on globalThis (as `Symbol.for(name)`,
 * never enumerable). A process may load several copies of the package — the preload's, the app's `require`, the
 * app's `import`, a dependency's own — and they must all see one registry of tasks, one tracer, one hook.
 * The names never change, and each value's shape carries a `version` where copies of different versions may meet.
 */
export const PROCESS_WIDE = {
  /** Task IDs, named tasks, requests in flight, finished tasks, custom commands (registry.ts). */
  registry: 'aiomonitor.registry',
  /** Objects the monitor itself created, which ps does not show (own-objects.ts). */
  ownObjects: 'aiomonitor.own',
  /** The app's worker threads, which Node lists nowhere else (app-workers.ts). */
  appWorkers: 'aiomonitor.workers',
  /** The async_hooks tracer and who holds it on (trace.ts). */
  tracing: 'aiomonitor.trace',
  /** The diagnostics_channel subscriptions that list HTTP requests (http-tasks.ts). */
  httpTasks: 'aiomonitor.http',
  /** The heartbeat and delay histograms of the event loop (loop-watch.ts). */
  loopWatch: 'aiomonitor.loop-watch',
  /** What the monitor thread evaluates to read the main thread (inspect-hook.ts). */
  inspectHook: HOOK_SYMBOL,
  /** Profiles and output files on the main thread's own session (diagnostics-hook.ts). */
  diagnosticsHook: DIAGNOSTICS_SYMBOL,
  /** The socket and output files to remove as the process ends, and the listeners that do it (exit-cleanup.ts). */
  exitCleanup: 'aiomonitor.exit-cleanup',
  /** Set once the preload has started its monitor, so that a second preload of another copy does nothing (preload.ts). */
  preloaded: 'aiomonitor.preloaded',
  /** Which monitor of the process has the one record aiomon finds it by (discovery-record.ts). */
  discoveryRecord: 'aiomonitor.discovery-record',
  /** The monitor `aiomon attach` started, which a second attach returns (set by the expression src/client/attach.ts evaluates). */
  attached: 'aiomonitor.attached',
} as const;

type Holder = Record<symbol, unknown>;

/** The singleton `name` of this process, made by `create` the first time any copy of the package asks for it. */
export function processWide<T>(name: keyof typeof PROCESS_WIDE, create: () => T): T {
  const key = Symbol.for(PROCESS_WIDE[name]);
  const holder = globalThis as unknown as Holder;
  if (!(key in holder)) Object.defineProperty(globalThis, key, { value: create(), enumerable: false, configurable: true });
  return holder[key] as T;
}

/** The singleton `name` if some copy of the package made it already, without making it. */
export function processWideIfAny<T>(name: keyof typeof PROCESS_WIDE): T | undefined {
  return (globalThis as unknown as Holder)[Symbol.for(PROCESS_WIDE[name])] as T | undefined;
}
