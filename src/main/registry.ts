/**
 * The process-wide registry behind `ps`, `ps-terminated` and custom commands: task IDs, named tasks and
 * requests in flight, the history of finished tasks, and the commands the app defined.
 * There is one per process, kept on globalThis, so that every copy of the package (the preload's, the
 * app's `require`, the app's `import`) sees the same tasks under the same IDs.
 */
import { MAX_TERMINATION_HISTORY } from '../shared/config';
import type { EndedList, EndedRow, Outcome } from '../shared/rows';
import { processWide } from './process-wide';

/** A link of a task's creation chain, recorded while tracing is on. */
export interface TraceLink {
  /** What was created: an async resource type (Timeout, TCPWRAP…), `task` or `http-in`. */
  type: string;
  /** A named task's name, or a request's method and URL; empty for plain resources. */
  name: string;
  /** When it was created, ms since the epoch. */
  created: number;
  /** Holds the stack where it was created; V8 formats it only when `.stack` is read. */
  site: { stack?: string };
  /** The link it was created under, or null at the root or where older links were dropped. */
  parent: TraceLink | null;
  /** Links between this one and its parent were dropped to bound memory. */
  elided: boolean;
  /** How many links lie above it, elided ones included. */
  depth: number;
  /** The first link of its chain (null for a first link), kept when the links between were dropped. */
  root?: TraceLink | null;
}

/** Lists live tasks kept outside the registry; may count them by type without making their objects. */
export interface TaskSource {
  (): Iterable<LiveTask>;
  count?(): Record<string, number>;
}

/** Something the registry lists in `ps` beside the handles Node reports: a named task or a request in flight. */
export interface LiveTask {
  /** The object the task's ID belongs to. */
  object: object;
  /** The TYPE column of ps: `task`, `http-in`, `http-out`. */
  type: string;
  /** What `ps --sort name` sorts by. */
  name: string;
  /** When it started, ms since the epoch. */
  started: number;
  /** The DESCRIPTION column of ps. */
  describe(): string;
  /** Lines of `where`. */
  facts(): [string, string][];
  /** Ends it on the main thread, asked by `by`; says whether it did and what, in one sentence. */
  cancel(by: string): Cancelled | Promise<Cancelled>;
  /** Functions whose source locations `where` shows, with labels. */
  functions?(): [string, Function][];
  /** Where it was created, when tracing was on. */
  link?: TraceLink;
  /** Set for kinds that end by the thousand a second (HTTP requests): a normal end is counted, not kept, and only failures are kept. */
  countWhenDone?: boolean;
}

/** What a task's own cancel did: whether the task is ending, and one sentence saying what was done or why not. */
export interface Cancelled {
  ok: boolean;
  message: string;
}

/** A finished task as the registry keeps it: its row of `ps-terminated`, with its stacks. */
export interface EndedTask extends EndedRow {
  /** Where it ended: the error's stack, or the stack of the code that cancelled it. */
  stack?: string;
  /** Its creation chain, when tracing was on. */
  link?: TraceLink;
}

/** The shared state; its shape is versioned because copies of different versions of the package may meet in one process. */
export interface Registry {
  version: 1;
  ids: WeakMap<object, number>;
  byId: Map<number, WeakRef<object>>;
  nextId: number;
  live: Set<LiveTask>;
  /** Functions that list live tasks kept elsewhere (incoming requests are kept on their connections, to cost less a request). */
  sources: Set<TaskSource>;
  /** How many tasks of each `countWhenDone` type ended normally and were not kept. */
  doneCounts: Record<string, number>;
  /** How many of the other finished tasks ended each way, by type; absent in a registry made by an older copy until the first end. */
  endedCounts?: Record<string, Record<string, number>>;
  /** Finished tasks, oldest first, at most `historyLimit`. */
  history: EndedTask[];
  historyLimit: number;
  /** Custom commands by name, stored as the app defined them (see custom-commands.ts). */
  commands: Map<string, unknown>;
  /** Set while tracing is on (see trace.ts). */
  tracer: Tracer | null;
}

/** What tracing offers the rest of the registry. */
export interface Tracer {
  /**
   * Records a named task or request as a link under the current one (or under the link of `under`), with the stack
   * that created it unless `withStack` is false (an incoming request's stack is Node's alone). `run` runs code with it as the current link;
   * `enter` makes it the current link for the rest of the callback that is running and what that callback creates.
   */
  begin(type: string, name: string, options?: { withStack?: boolean; under?: object }): { link: TraceLink; run<T>(fn: () => T): T; enter(): void };
  /** The link of the resource or object behind a ps row, if it was created while tracing. */
  linkOf(object: object): TraceLink | undefined;
}

// The same object for the process's life; kept here too because a symbol lookup on globalThis is slow for every request.
let cached: Registry | undefined;

/** The registry of this process, created on first use. */
export function registry(): Registry {
  cached ??= processWide('registry', (): Registry => ({
    version: 1,
    ids: new WeakMap(),
    byId: new Map(),
    nextId: 1,
    live: new Set(),
    sources: new Set(),
    history: [],
    historyLimit: MAX_TERMINATION_HISTORY,
    doneCounts: {},
    commands: new Map(),
    tracer: null,
  }));
  return cached;
}

// IDs are handed out on first sight and never reused, so an ID seen in `ps` means one thing for the process's life.
/** The ID of a task, given on first sight. */
export function idOf(object: object): number {
  const state = registry();
  let id = state.ids.get(object);
  if (id === undefined) {
    id = state.nextId++;
    state.ids.set(object, id);
  }
  // A task may drop out of a listing for a while (an interval is off its list while its callback runs):
  // when it comes back, its ID must lead to it again.
  if (!state.byId.has(id)) state.byId.set(id, new WeakRef(object));
  return id;
}

/** The live object behind an ID, if it is still alive. */
export function objectById(id: number): object | undefined {
  return registry().byId.get(id)?.deref();
}

/** Forgets the IDs of objects not in `live`, so that the map of IDs does not grow with every task ever seen. */
export function forgetIdsExcept(live: Set<number>): void {
  const { byId } = registry();
  for (const id of byId.keys()) if (!live.has(id)) byId.delete(id);
}

/** Adds a named task or a request to ps. */
export function addLive(task: LiveTask): void {
  registry().live.add(task);
}

/** Every live named task and request: those added with addLive and those the sources list. */
export function* liveTasks(): Iterable<LiveTask> {
  const state = registry();
  yield* state.live;
  for (const source of state.sources) yield* source();
}

/** Removes a task from ps and records how it ended; only the first call for a task counts. */
export function endLive(task: LiveTask, outcome: Outcome, end: Pick<EndedTask, 'detail' | 'stack' | 'cancelledBy'> = {}): void {
  if (registry().live.delete(task)) recordEnd(task, outcome, end);
}

/** Counts one task of a `countWhenDone` type that ended normally, without making anything for it. */
export function countDone(type: string): void {
  const { doneCounts } = registry();
  doneCounts[type] = (doneCounts[type] ?? 0) + 1;
}

/** Records how a task ended: in the history, or only counted when it is a `countWhenDone` task that ended normally. */
export function recordEnd(task: LiveTask, outcome: Outcome, end: Pick<EndedTask, 'detail' | 'stack' | 'cancelledBy'> = {}): void {
  const state = registry();
  // A task that ps never showed has no ID yet: it gets a number without entering the maps of IDs, which at
  // thousands of requests a second would grow until the next ps.
  const known = state.ids.get(task.object);
  if (known !== undefined) state.byId.delete(known);
  if (outcome === 'done' && task.countWhenDone) return countDone(task.type);
  const byOutcome = ((state.endedCounts ??= {})[task.type] ??= {});
  byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
  recordEnded({
    id: known ?? state.nextId++, type: task.type, name: task.name, summary: task.describe(),
    // Named fields rather than a spread: a spread costs more here than all the rest.
    started: task.started, ended: Date.now(), outcome, link: task.link, detail: end.detail, stack: end.stack, cancelledBy: end.cancelledBy,
  });
}

/** How many tasks of each type are live, counted without making objects for the requests the sources keep. */
export function liveCounts(): Record<string, number> {
  const state = registry();
  const counts: Record<string, number> = {};
  const add = (type: string, n: number): void => { counts[type] = (counts[type] ?? 0) + n; };
  for (const task of state.live) add(task.type, 1);
  for (const source of state.sources) {
    if (source.count) for (const [type, n] of Object.entries(source.count())) add(type, n);
    else for (const task of source()) add(task.type, 1);
  }
  return counts;
}

/** How many tasks ended each way since the monitor started, by type and outcome (done, error, cancelled, ended), for metrics. */
export function finishedCounts(): Record<string, Record<string, number>> {
  const { doneCounts, endedCounts = {} } = registry();
  const counts: Record<string, Record<string, number>> = {};
  for (const [type, byOutcome] of Object.entries(endedCounts)) counts[type] = { ...byOutcome };
  for (const [type, done] of Object.entries(doneCounts)) (counts[type] ??= {}).done = (counts[type].done ?? 0) + done;
  return counts;
}

/** Adds a finished task to the history, dropping the oldest beyond the limit. */
export function recordEnded(task: EndedTask): void {
  const state = registry();
  if (state.historyLimit <= 0) return;
  state.history.push(task);
  // Trimming in batches keeps the cost per task constant without a ring buffer's bookkeeping.
  if (state.history.length >= state.historyLimit * 2) state.history.splice(0, state.history.length - state.historyLimit);
}

/** What `ps-terminated` shows: finished tasks, oldest first, and how many requests ended normally without being kept. */
export function endedTasks(): EndedList {
  const { history, historyLimit, doneCounts } = registry();
  return { tasks: history.slice(-historyLimit).map(({ link, stack, ...row }): EndedRow => row), doneCounts };
}

/** One finished task, if the history still holds it. */
export function endedTask(id: number): EndedTask | undefined {
  const { history, historyLimit } = registry();
  return history.slice(-historyLimit).findLast((task) => task.id === id);
}

/** Sets how many finished tasks are kept; 0 keeps none. */
export function keepHistory(limit: number): void {
  registry().historyLimit = limit;
}
