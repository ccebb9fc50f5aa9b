/**
 * The data the main thread hands the monitor thread: what its reads return and what its changes report.
 * Plain JSON-shaped values, so that the prompt, `--json` and any other view format them the same way.
 */

/** One row of `ps`: something alive in the process, under a stable ID. */
export interface TaskRow {
  id: number;
  type: string;
  /** Whether it keeps the event loop (and so the process) alive. */
  ref: boolean;
  summary: string;
  /** How long it has run, in ms, when known (named tasks, requests, and anything created while tracing). */
  age?: number;
  /** A named task's name, or a request's method and URL. */
  name?: string;
  /** Set for the timer or immediate whose callback is running now (it blocks the loop, if for long): for how long, in ms. */
  running?: number;
}

/** What `where` shows of one task. */
export interface TaskDetail extends TaskRow {
  facts: [string, string][];
}

/** A link of a creation chain as `where` shows it: what was created, when, and the app's frames that created it. */
export interface ChainLink {
  /** An async resource type (Timeout, TCPWRAP…), `task` or `http-in`. */
  type: string;
  /** A named task's name, or a request's method and URL; empty for plain resources. */
  name: string;
  /** When it was created, ms since the epoch. */
  created: number;
  /** The app's frames where it was created, most recent call last; empty when Node itself created it. */
  frames: string[];
}

/** A task's creation chain, from the root down to the task. */
export interface Chain {
  /** The first link of the chain, kept when the links between it and `links` were dropped to bound memory. */
  root: ChainLink | null;
  /** How many links were dropped between `root` (or the start of the chain, when there is no root) and `links`. */
  omitted: number;
  links: ChainLink[];
}

/** What a task's creation chain is, for `where`: the chain, or why there is none. */
export type ChainAnswer = Chain | 'created-before-tracing' | null;

/** What `where` reads of one task. */
export interface InspectedTask {
  detail: TaskDetail;
  /** Labels of the functions whose source locations tell where the task comes from. */
  labels: string[];
  /** Its creation chain; null when tracing is off. */
  chain: ChainAnswer;
}

/** How a finished task ended. */
export type Outcome = 'done' | 'error' | 'cancelled' | 'ended';

/** One row of `ps-terminated`. */
export interface EndedRow {
  id: number;
  type: string;
  name: string;
  summary: string;
  /** When it started and ended, ms since the epoch. */
  started: number;
  ended: number;
  outcome: Outcome;
  /** The error's message for `error`; what happened otherwise (`finished although cancelled by …`). */
  detail?: string;
  /** Who cancelled it, for `cancelled`. */
  cancelledBy?: string;
}

/** Finished tasks, oldest first, and how many requests ended normally without being kept. */
export interface EndedList {
  tasks: EndedRow[];
  doneCounts: Record<string, number>;
}

/** What `where-terminated` shows of a finished task. */
export interface EndedDetail extends EndedRow {
  /** The stack where it ended, as V8 wrote it. */
  stack: string | null;
  /** The app's frames of that stack, most recent call last. */
  frames: string[];
  /** Its creation chain, when it was created while tracing. */
  chain: Chain | null;
}

/** Event-loop delay percentiles in ms. */
export interface DelayStats {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  samples: number;
}

/** What `loop` shows of the main thread. */
export interface LoopReport {
  sinceStart: DelayStats;
  lastMinute: DelayStats;
  /** Share of time the loop spent running callbacks, 0 to 1. */
  utilization: { sinceStart: number; lastMinute: number };
  /** Active handles and requests by type, as Node counts them. */
  resources: Record<string, number>;
}

/** Garbage collections by kind, counted since `since` (ms since the epoch). */
export interface GcReport {
  since: number;
  kinds: Record<string, { count: number; totalMs: number }>;
}

/** What `mem` shows. */
export interface MemReport {
  memory: NodeJS.MemoryUsage;
  heapSpaces: { name: string; size: number; used: number; available: number }[];
  gc: GcReport | null;
}

/** Whether tracing is on, and since when (ms since the epoch). */
export interface TracingStatus {
  on: boolean;
  since: number | null;
}

/** What `trace on` or `trace off` did. */
export interface TraceSwitch extends TracingStatus {
  /** False when tracing already was as asked. */
  changed: boolean;
}

/** What `cancel ID` did. */
export interface CancelOutcome {
  /** The ID asked for. */
  id: number;
  /** True when the task was ended, or its signal aborted. */
  ok: boolean;
  /** What was done, or why nothing was, in one sentence: `cleared timeout 3 (tick after 1000 ms)`. */
  message: string;
  /** The task as ps listed it, or null when there was none. */
  task: { type: string; description: string } | null;
}

/** What a custom command's handler returned, ready to print. */
export type CommandResult =
  | { kind: 'nothing' }
  | { kind: 'text'; text: string }
  /** Any other value: util.inspect's view of it, or its JSON when --json was asked. */
  | { kind: 'value'; text: string };

/** How the main thread is doing now, as `status --json` reports it (and `aiomon ls` reads it). */
export interface StatusReport {
  state: 'idle' | 'busy' | 'blocked' | 'debugger';
  /** How long ago the event loop last turned (its heartbeat), in ms. */
  stalledMs: number;
  /** While blocked: for how long so far, in ms (from when the block began, as the watchdog counts it). */
  blockedForMs?: number;
  /** While blocked: when the block began, an ISO 8601 time in UTC. */
  blockedSince?: string;
  /** While blocked: where the watchdog caught the stack, once it has. */
  where?: string;
  pid: number;
  uptimeMs: number;
  /** How many blocks the watchdog has kept. */
  blocks: number;
}
