import { performance, type RecordableHistogram } from 'node:perf_hooks';
import type { GCProfiler } from 'node:v8';
import { countInto, DELAY_BUCKETS_MS, emptyBuckets, GC_BUCKETS_MS } from '../shared/buckets';
import type { InspectHook } from '../shared/contract';
import { VITALS_BYTES, wantedView, writeVitals, type DelayWindow, type Vitals } from '../shared/vitals';
import { processWideIfAny } from './process-wide';
import { finishedCounts } from './registry';

const PUBLISH_MS = 1000;
// The beats of the last second: one every 50 ms, fewer when the loop is late; room to spare.
const RING = 64;
// prom-client's labels for nodejs_gc_duration_seconds, by the gcType of V8's GC profiler.
const GC_KINDS: Record<string, string> = { Scavenge: 'minor', MinorMarkSweep: 'minor', MinorMarkCompact: 'minor', MarkSweepCompact: 'major', IncrementalMarking: 'incremental', ProcessWeakCallbacks: 'weakcb' };

/** What V8's GC profiler reports of one collection (more fields, unused here). */
interface ProfiledCollection {
  gcType: string;
  /** µs */
  cost: number;
}

/** What the heartbeat feeds the figures for `metrics`, and the memory they are published in (see shared/vitals.ts). */
export interface VitalsPublisher {
  buffer: SharedArrayBuffer;
  /** Called on every beat with the time and how late the beat came: counts it, and publishes when wanted and due. */
  beat(now: number, lateMs: number): void;
  stop(): void;
}

const ms = (ns: number): number => ns / 1e6;

function windowOf(samples: number[]): DelayWindow | null {
  if (samples.length === 0) return null;
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((sum, value) => sum + value, 0) / samples.length;
  const variance = samples.reduce((sum, value) => sum + (value - mean) ** 2, 0) / samples.length;
  const at = (p: number): number => samples[Math.min(samples.length - 1, Math.ceil((p / 100) * samples.length) - 1)];
  return { min: samples[0], max: samples[samples.length - 1], mean, stddev: Math.sqrt(variance), p50: at(50), p90: at(90), p99: at(99), samples: samples.length };
}

/**
 * The main thread's side of `metrics`. Every beat is counted into fixed buckets and kept a second in a small ring
 * (a few stores); only while the monitor thread says someone looks does it publish, once a second: the last second's
 * delay and utilization, memory, heap spaces, garbage collections, tasks by type and finished requests.
 */
export function startVitals(sinceStart: RecordableHistogram): VitalsPublisher {
  const buffer = new SharedArrayBuffer(VITALS_BYTES);
  const delay = emptyBuckets(DELAY_BUCKETS_MS);
  const ringAt = new Float64Array(RING);
  const ringLate = new Float64Array(RING);
  let ringNext = 0;
  let publishing = false;
  let profiler: GCProfiler | undefined;
  let gc: Vitals['gc'] | undefined;
  const wanted = wantedView(buffer);
  // Marks of the loop's utilization, taken once a second, so that a first publication has a whole second to report.
  let eluMark = performance.eventLoopUtilization();
  let eluBefore = eluMark;
  let eluMarkAt = 0;

  // V8's GC profiler notes each collection in C++ and hands them over when stopped: unlike a PerformanceObserver,
  // which calls into JavaScript after every collection, it costs the app one harvest a second.
  function watchCollections(): void {
    gc ??= { since: Date.now(), kinds: {} };
    const { GCProfiler: Profiler } = require('node:v8') as typeof import('node:v8');
    profiler = new Profiler();
    profiler.start();
  }

  function harvestCollections(): void {
    if (!profiler || !gc) return;
    const report = profiler.stop() as { statistics?: ProfiledCollection[] } | undefined;
    profiler.start();
    for (const collection of report?.statistics ?? []) {
      const kind = GC_KINDS[collection.gcType] ?? 'other';
      countInto((gc.kinds[kind] ??= emptyBuckets(GC_BUCKETS_MS)), GC_BUCKETS_MS, collection.cost / 1000);
    }
  }

  function lastSecond(now: number): DelayWindow | null {
    const samples: number[] = [];
    for (let i = 0; i < RING; i++) if (now - ringAt[i] <= PUBLISH_MS) samples.push(ringLate[i]);
    return windowOf(samples);
  }

  function publish(now: number): void {
    harvestCollections();
    const memory = process.memoryUsage();
    const v8 = require('node:v8') as typeof import('node:v8');
    // The hook of whichever copy of the package installed it, which holds the timer lists ps counts.
    const hook = processWideIfAny<Partial<InspectHook>>('inspectHook');
    const vitals: Vitals = {
      at: now,
      delay: {
        lastSecond: lastSecond(now),
        sinceStart: sinceStart.count === 0 ? { p50: 0, p90: 0, p99: 0, max: 0, samples: 0 }
          : { p50: ms(sinceStart.percentile(50)), p90: ms(sinceStart.percentile(90)), p99: ms(sinceStart.percentile(99)), max: ms(sinceStart.max), samples: sinceStart.count },
        buckets: delay,
      },
      utilization: performance.eventLoopUtilization(eluMark, eluBefore).utilization,
      memory: { rss: memory.rss, heapTotal: memory.heapTotal, heapUsed: memory.heapUsed, external: memory.external, arrayBuffers: memory.arrayBuffers },
      heapSpaces: v8.getHeapSpaceStatistics().map((space) => ({ name: space.space_name, size: space.space_size, used: space.space_used_size, available: space.space_available_size })),
      gc: gc!,
      tasks: hook?.countTasks?.() ?? {},
      finished: finishedCounts(),
    };
    writeVitals(buffer, JSON.stringify(vitals));
  }

  return {
    buffer,
    beat(now, lateMs) {
      countInto(delay, DELAY_BUCKETS_MS, lateMs);
      ringAt[ringNext] = now;
      ringLate[ringNext] = lateMs;
      ringNext = (ringNext + 1) % RING;
      const marked = now - eluMarkAt >= PUBLISH_MS;
      if (marked) {
        eluBefore = eluMark;
        eluMark = performance.eventLoopUtilization();
        eluMarkAt = now;
      }
      if (now < wanted[0]) {
        if (!publishing) {
          publishing = true;
          watchCollections();
          publish(now);
        } else if (marked) {
          publish(now);
        }
      } else if (publishing) {
        // Nobody looks any more: back to costing nothing but the counting above.
        publishing = false;
        profiler?.stop();
        profiler = undefined;
      }
    },
    stop() {
      profiler?.stop();
    },
  };
}
