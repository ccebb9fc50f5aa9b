/**
 * The JSON documents of the /api routes, as README "JSON output" and the web contract describe them.
 * The page is a client of the HTTP API like any script: it keeps its own copy of the shapes it reads.
 */

/** GET /api/session. */
export interface SessionDoc {
  csrf: string;
  pid: number;
  node: string;
  title: string;
}

/** status --json. */
export interface StatusDoc {
  state: 'idle' | 'busy' | 'blocked' | 'debugger';
  stalledMs: number;
  pid: number;
  uptimeMs: number;
  blocks: number;
  blockedForMs?: number;
  blockedSince?: string;
  where?: string;
}

/** metrics --json: the loop's figures are null when not fresh, the heap's until the main thread first published. */
export interface MetricsDoc {
  at: string;
  fresh: boolean;
  loop: { delayMs: { p50: number | null; p99: number | null; max: number | null }; utilization: number | null };
  memory: { rss: number; heapUsed: number | null; heapTotal: number | null };
  tasksByType: Record<string, number>;
  blockedForMs: number;
}

/** One row of ps --json. */
export interface TaskDoc {
  id: number;
  type: string;
  ref: boolean;
  description: string;
  name: string | null;
  ageMs: number | null;
  runningMs: number | null;
}

/** ps --json. */
export interface PsDoc {
  total: number;
  byType: Record<string, number>;
  tasks: TaskDoc[];
}

/** where ID --json. */
export interface WhereDoc {
  task: TaskDoc;
  facts: Record<string, string>;
  functions: { label: string; location: string }[];
  chain: string | null;
}

/** cancel ID --json. */
export interface CancelDoc {
  id: number;
  ok: boolean;
  message: string;
}

/** One row of ps-terminated --json. */
export interface EndedDoc {
  id: number;
  type: string;
  name: string;
  description: string;
  outcome: 'done' | 'error' | 'cancelled' | 'ended';
  detail: string | null;
  cancelledBy: string | null;
  startedAt: string;
  endedAt: string;
  ranMs: number;
}

/** ps-terminated --json. */
export interface EndedListDoc {
  total: number;
  tasks: EndedDoc[];
  doneCounts: Record<string, number>;
}

/** where-terminated ID --json. */
export interface EndedDetailDoc {
  task: EndedDoc & { stack: string | null };
  chain: string | null;
}

/** A frame of a stack, as blocks and stacktrace give it. */
export interface FrameDoc {
  functionName: string;
  file: string;
  line: number;
  column: number;
}

/** One block of blocks --json. */
export interface BlockDoc {
  id: number;
  startedAt: string;
  durationMs: number;
  where: string;
  frames: FrameDoc[] | null;
}

/** blocks --json, with --top its groups. */
export interface BlocksDoc {
  blockedNowMs: number;
  blocks: BlockDoc[];
  groups?: { count: number; totalMs: number; longestMs: number; where: string }[];
}

/** stacktrace --json. */
export interface StacktraceDoc {
  state: string;
  stalledMs: number;
  message: string;
  frames: FrameDoc[];
}

/** One of the hottest functions of profile --json (worker/cpuprofile.ts hottestFunctions). */
export interface HotDoc {
  name: string;
  url: string;
  line: number;
  selfMs: number;
  percent: number;
}

/** One allocation site of heapprofile --json (worker/heapprofile.ts topAllocationSites). */
export interface SiteDoc {
  name: string;
  url: string;
  line: number;
  selfSize: number;
  percent: number;
}

/** What profile, heapprofile and heapsnapshot answer (README "JSON output"): the file written, where to download it, and a summary. */
export interface OutputFileDoc {
  file: string;
  download: string;
  samples?: number;
  /** How long the profile recorded, or the snapshot took. */
  seconds?: number;
  sampledBytes?: number;
  bytes?: number;
  hot?: HotDoc[];
  sites?: SiteDoc[];
}
