import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { BLOCK_BUCKETS_MS, DELAY_BUCKETS_MS, GC_BUCKETS_MS, type BucketCounts } from '../shared/buckets';
import { HEARTBEAT_MS, sharedNow } from '../shared/contract';
import type { Vitals } from '../shared/vitals';
import { isoTime, JSON_OPTION, printJson } from './json';
import { formatFamilies, type Family, type HistogramSeries, type Labels } from './prometheus';
import { command, type CommandContext } from './types';

/** Published within this long ago, the main thread's figures are fresh; older, the last second's are left out. */
const FRESH_MS = 2000;
/** How long the first metrics after a quiet time waits for the main thread to publish, when its loop turns. */
const FIRST_WAIT_MS = 1500;
const HTTP_TYPES = ['http-in', 'http-out'];

/** What the monitor thread itself knows: always fresh, whatever the main thread does. */
interface Own {
  now: number;
  /** How late the loop is now: how long past its due time the next beat is, in ms. */
  lagMs: number;
  /** The block in progress, in ms, or 0. */
  blockedMs: number;
  blocks: BucketCounts;
  rss: number;
  cpu: NodeJS.CpuUsage;
}

// To the ns: floating-point noise past that (0.0013110349999999999) would only make the text longer.
const seconds = (ms: number): number => Math.round(ms * 1e6) / 1e9;
const ratio = (share: number): number => Math.round(share * 1e6) / 1e6;

function histogram(bounds: readonly number[], buckets: BucketCounts, labels?: Labels): HistogramSeries {
  return { labels, bounds: bounds.map(seconds), counts: buckets.counts, sum: seconds(buckets.sum) };
}

function openFds(): number | undefined {
  try {
    return fs.readdirSync('/proc/self/fd').length - 1; // less the one readdir opened
  } catch {
    return undefined;
  }
}

/** The metric families, prom-client's names where it has the figure; what the main thread has not published is left out. */
function families(own: Own, vitals: Vitals | null, fresh: boolean): Family[] {
  const [major, minor, patch] = process.versions.node.split('.');
  const fds = openFds();
  const list: Family[] = [
    { name: 'process_cpu_user_seconds_total', help: 'User CPU time spent by the process (all its threads), in seconds.', type: 'counter', samples: [{ value: own.cpu.user / 1e6 }] },
    { name: 'process_cpu_system_seconds_total', help: 'System CPU time spent by the process (all its threads), in seconds.', type: 'counter', samples: [{ value: own.cpu.system / 1e6 }] },
    { name: 'process_cpu_seconds_total', help: 'User and system CPU time spent by the process, in seconds.', type: 'counter', samples: [{ value: (own.cpu.user + own.cpu.system) / 1e6 }] },
    { name: 'process_start_time_seconds', help: 'When the process started, in seconds since the Unix epoch.', type: 'gauge', samples: [{ value: Math.round(Date.now() / 1000 - process.uptime()) }] },
    { name: 'process_resident_memory_bytes', help: 'Resident memory size of the process, in bytes.', type: 'gauge', samples: [{ value: own.rss }] },
    { name: 'process_open_fds', help: 'Open file descriptors of the process.', type: 'gauge', samples: fds === undefined ? [] : [{ value: fds }] },
    { name: 'nodejs_version_info', help: 'The Node.js version, in labels.', type: 'gauge', samples: [{ labels: { version: process.version, major, minor, patch }, value: 1 }] },
    { name: 'nodejs_eventloop_lag_seconds', help: 'How late the event loop is now, as the monitor thread sees its heartbeat, in seconds.', type: 'gauge', samples: [{ value: seconds(own.lagMs) }] },
    { name: 'aiomonitor_eventloop_stall_seconds', help: 'How long the event loop has been blocked so far (past the block threshold), or 0, in seconds.', type: 'gauge', samples: [{ value: seconds(own.blockedMs) }] },
    { name: 'aiomonitor_eventloop_blocks_total', help: 'Times the event loop was blocked past the threshold, since the monitor started.', type: 'counter', samples: [{ value: own.blocks.counts.reduce((a, b) => a + b, 0) }] },
    { name: 'aiomonitor_eventloop_block_duration_seconds', help: 'How long each block of the event loop lasted, in seconds.', type: 'histogram', series: [histogram(BLOCK_BUCKETS_MS, own.blocks)] },
  ];
  if (!vitals) return list;
  const last = fresh ? vitals.delay.lastSecond : null;
  const lag = (stat: 'min' | 'max' | 'mean' | 'stddev' | 'p50' | 'p90' | 'p99', what: string): Family => ({
    name: `nodejs_eventloop_lag_${stat}_seconds`, help: `The ${what} event-loop delay over the last second, in seconds.`, type: 'gauge', samples: last ? [{ value: seconds(last[stat]) }] : [],
  });
  const spaces = (field: 'size' | 'used' | 'available', what: string): Family => ({
    name: `nodejs_heap_space_size_${field === 'size' ? 'total' : field}_bytes`, help: `${what} of each V8 heap space, in bytes.`, type: 'gauge',
    samples: vitals.heapSpaces.map((space) => ({ labels: { space: space.name.replace(/_space$/, '') }, value: space[field] })),
  });
  const finished = HTTP_TYPES.flatMap((type) => Object.entries(vitals.finished[type] ?? {}).map(([outcome, value]) => ({ labels: { type, outcome }, value })));
  list.push(
    { name: 'aiomonitor_main_thread_figures_age_seconds', help: 'How long ago the main thread last published its figures (fresh below 2), in seconds.', type: 'gauge', samples: [{ value: seconds(Math.max(0, own.now - vitals.at)) }] },
    lag('min', 'minimum'), lag('max', 'maximum'), lag('mean', 'mean'), lag('stddev', 'standard deviation of the'),
    lag('p50', '50th percentile'), lag('p90', '90th percentile'), lag('p99', '99th percentile'),
    { name: 'aiomonitor_eventloop_utilization_ratio', help: 'Share of the last second the event loop spent running callbacks, 0 to 1.', type: 'gauge', samples: fresh ? [{ value: ratio(vitals.utilization) }] : [] },
    { name: 'aiomonitor_eventloop_delay_seconds', help: 'How late each heartbeat (every 50 ms) of the event loop came, since the monitor started, in seconds.', type: 'histogram', series: [histogram(DELAY_BUCKETS_MS, vitals.delay.buckets)] },
    { name: 'nodejs_heap_size_total_bytes', help: 'V8 heap size of the main thread, in bytes.', type: 'gauge', samples: [{ value: vitals.memory.heapTotal }] },
    { name: 'nodejs_heap_size_used_bytes', help: 'V8 heap used by the main thread, in bytes.', type: 'gauge', samples: [{ value: vitals.memory.heapUsed }] },
    { name: 'nodejs_external_memory_bytes', help: 'Memory of C++ objects bound to JavaScript objects of the main thread, in bytes.', type: 'gauge', samples: [{ value: vitals.memory.external }] },
    { name: 'aiomonitor_array_buffers_bytes', help: 'Memory of the main thread\'s ArrayBuffers and SharedArrayBuffers (part of the external memory), in bytes.', type: 'gauge', samples: [{ value: vitals.memory.arrayBuffers }] },
    spaces('size', 'Size'), spaces('used', 'Used size'), spaces('available', 'Available size'),
    {
      name: 'nodejs_gc_duration_seconds', help: 'Garbage collections of the main thread by kind, counted while metrics is read, in seconds.', type: 'histogram',
      series: Object.entries(vitals.gc.kinds).map(([kind, buckets]) => histogram(GC_BUCKETS_MS, buckets, { kind })),
    },
    { name: 'aiomonitor_tasks', help: 'What ps lists (without -a), by type.', type: 'gauge', samples: Object.entries(vitals.tasks).map(([type, value]) => ({ labels: { type }, value })) },
    { name: 'aiomonitor_http_requests_in_flight', help: 'HTTP requests in flight: incoming (http-in) and the app\'s own (http-out).', type: 'gauge', samples: HTTP_TYPES.map((type) => ({ labels: { type }, value: vitals.tasks[type] ?? 0 })) },
    { name: 'aiomonitor_http_requests_finished_total', help: 'HTTP requests that ended, by type and outcome (done, error, cancelled, ended), since the monitor started.', type: 'counter', samples: finished },
  );
  return list;
}

/** The document of metrics --json, for the web page's charts. */
function document(own: Own, vitals: Vitals | null, fresh: boolean): Record<string, unknown> {
  const last = fresh ? vitals?.delay.lastSecond : null;
  return {
    at: isoTime(Date.now()),
    fresh,
    loop: { delayMs: last ? { p50: last.p50, p99: last.p99, max: last.max } : null, utilization: fresh ? ratio(vitals!.utilization) : null },
    memory: { rss: own.rss, heapUsed: vitals?.memory.heapUsed ?? null, heapTotal: vitals?.memory.heapTotal ?? null },
    tasksByType: vitals?.tasks ?? {},
    http: { inFlight: vitals ? HTTP_TYPES.reduce((sum, type) => sum + (vitals.tasks[type] ?? 0), 0) : null },
    blocks: { total: own.blocks.counts.reduce((a, b) => a + b, 0) },
    blockedForMs: own.blockedMs,
  };
}

/**
 * The main thread's latest figures. After a quiet time the main thread is asked to publish again, and, unless its loop
 * is stuck, waited for a moment; while it is stuck, the answer comes at once with what there is.
 */
async function mainThreadFigures(ctx: CommandContext): Promise<Vitals | null> {
  const { main } = ctx;
  const stalled = (): boolean => main.stalledMs() > 2 * HEARTBEAT_MS;
  const latest = main.vitals.latest();
  if ((latest && sharedNow() - latest.at <= FRESH_MS) || stalled()) {
    main.vitals.want();
    return latest;
  }
  // ps counts timers through their lists, which the first read of a session hands the main thread; a scrape may come first.
  const started = sharedNow();
  const waited = new AbortController();
  await Promise.race([main.adoptTimers().catch(() => false), sleep(FIRST_WAIT_MS / 2, undefined, { signal: waited.signal }).catch(() => {})]);
  waited.abort();
  main.vitals.want();
  return main.vitals.next(FIRST_WAIT_MS - (sharedNow() - started), stalled);
}

/** `metrics`: Prometheus metrics, from shared memory and the monitor thread's own figures. */
export const metrics = command({
  name: 'metrics',
  description: "Print the process's metrics in the Prometheus text format (what GET /metrics on the web port serves), answered without the main thread",
  options: { json: JSON_OPTION },
  async run(ctx, { flags }) {
    const vitals = await mainThreadFigures(ctx);
    const now = sharedNow();
    const own: Own = {
      now,
      lagMs: Math.max(0, now - ctx.main.lastBeat() - HEARTBEAT_MS),
      blockedMs: ctx.watchdog.stalledMs(),
      blocks: ctx.watchdog.totals(),
      rss: process.memoryUsage.rss(),
      cpu: process.cpuUsage(),
    };
    const fresh = vitals !== null && now - vitals.at <= FRESH_MS;
    if (flags.json) return printJson(ctx, 'metrics', document(own, vitals, fresh));
    ctx.print(formatFamilies(families(own, vitals, fresh)).trimEnd());
  },
});
