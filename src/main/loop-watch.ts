import { createHistogram, performance, PerformanceObserver, type EventLoopUtilization, type RecordableHistogram } from 'node:perf_hooks';
import { HEARTBEAT_MS, sharedNow } from '../shared/contract';
import { VITALS_BYTES } from '../shared/vitals';
import type { DelayStats, GcReport, LoopReport } from '../shared/rows';
import { ownObjects } from './own-objects';
import { processWide } from './process-wide';
import { startVitals } from './vitals';

const SLOT_MS = 10_000;
const SLOTS = 6;
// By perf_hooks' NODE_PERFORMANCE_GC_* kind (V8's GCType bits).
const GC_KINDS: Record<number, string> = { 1: 'minor (scavenge)', 2: 'minor (mark-sweep)', 4: 'major (mark-compact)', 8: 'incremental marking', 16: 'weak callbacks' };

function delayStats(histogram: RecordableHistogram): DelayStats {
  const ms = (ns: number): number => Math.round(ns / 1e5) / 10;
  if (histogram.count === 0) return { p50: 0, p90: 0, p99: 0, max: 0, samples: 0 };
  return { p50: ms(histogram.percentile(50)), p90: ms(histogram.percentile(90)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), samples: histogram.count };
}

/**
 * The process's one heartbeat: an unref'd interval that writes the time into shared memory, so the
 * monitor thread can tell how long the loop has been stuck without asking it, and records how late
 * each beat was, which is the event-loop delay that `loop` reports. It also counts garbage collections.
 */
function startLoopWatch(): { buffer: SharedArrayBuffer; vitals: SharedArrayBuffer; loop(): LoopReport; gc(): GcReport; stop(): void } {
  const buffer = new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT);
  const beat = new Float64Array(buffer);
  const sinceStart = createHistogram();
  const vitals = startVitals(sinceStart);
  let current = createHistogram();
  // The last minute, as six ten-second slots: histograms can be added up but not trimmed.
  const slots: { delay: RecordableHistogram; elu: EventLoopUtilization }[] = [];
  let slotStart = sharedNow();
  let slotElu = performance.eventLoopUtilization();
  // One histogram for every report, reset each time: V8 does not see a histogram's native memory (some 35 KB),
  // so a new one per `loop` piled up until a garbage collection that an idle app may not run for hours.
  const minute = createHistogram();
  beat[0] = sharedNow();
  const timer = setInterval(function aiomonitorHeartbeat() {
    const now = sharedNow();
    const lateNs = Math.max(1, Math.round((now - beat[0] - HEARTBEAT_MS) * 1e6));
    beat[0] = now;
    current.record(lateNs);
    sinceStart.record(lateNs);
    vitals.beat(now, lateNs / 1e6);
    if (now - slotStart >= SLOT_MS) {
      slots.push({ delay: current, elu: slotElu });
      if (slots.length > SLOTS) slots.shift();
      current = createHistogram();
      slotStart = now;
      slotElu = performance.eventLoopUtilization();
    }
  }, HEARTBEAT_MS);
  timer.unref();
  ownObjects.add(timer);

  // Counted only once someone asks: a busy server collects garbage many times a second, and every
  // collection would otherwise cost the app a callback on its own thread.
  let collections: GcReport | undefined;
  let observer: PerformanceObserver | undefined;
  const countCollections = (): GcReport => {
    if (collections) return collections;
    const counted: GcReport = { since: Date.now(), kinds: {} };
    observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = GC_KINDS[(entry as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
        const seen = (counted.kinds[kind] ??= { count: 0, totalMs: 0 });
        seen.count++;
        seen.totalMs += entry.duration;
      }
    });
    observer.observe({ entryTypes: ['gc'] });
    return (collections = counted);
  };

  return {
    buffer,
    vitals: vitals.buffer,
    loop() {
      minute.reset();
      for (const slot of slots) minute.add(slot.delay);
      minute.add(current);
      const now = performance.eventLoopUtilization();
      const windowStart = slots[0]?.elu ?? slotElu;
      const resources: Record<string, number> = {};
      for (const type of process.getActiveResourcesInfo()) resources[type] = (resources[type] ?? 0) + 1;
      return {
        sinceStart: delayStats(sinceStart),
        lastMinute: delayStats(minute),
        utilization: { sinceStart: now.utilization, lastMinute: performance.eventLoopUtilization(now, windowStart).utilization },
        resources,
      };
    },
    gc: () => structuredClone(countCollections()),
    stop() {
      clearInterval(timer);
      observer?.disconnect();
      vitals.stop();
    },
  };
}

/** One watch of the loop per process, whichever copy of the package started it, with how many monitors use it. */
interface SharedWatch {
  version: 1;
  watch: LoopWatch | null;
  users: number;
}

/** What the heartbeat measures. */
type LoopWatch = ReturnType<typeof startLoopWatch>;

function shared(): SharedWatch {
  return processWide('loopWatch', (): SharedWatch => ({ version: 1, watch: null, users: 0 }));
}

/** Starts the heartbeat for one more monitor (one heartbeat per process); returns its memories and a release function. */
export function acquireLoopWatch(): { buffer: SharedArrayBuffer; vitals: SharedArrayBuffer; release(): void } {
  const state = shared();
  const watch = (state.watch ??= startLoopWatch());
  state.users++;
  let released = false;
  return {
    buffer: watch.buffer,
    // A heartbeat started by an older copy of the package publishes nothing: metrics then shows the monitor thread's own figures.
    vitals: watch.vitals ?? new SharedArrayBuffer(VITALS_BYTES),
    release() {
      if (released) return;
      released = true;
      if (--state.users === 0) {
        state.watch?.stop();
        state.watch = null;
      }
    },
  };
}

/** The loop report, or null when no monitor runs. */
export function loopReport(): LoopReport | null {
  return shared().watch?.loop() ?? null;
}

/** Garbage collections by kind, or null when no monitor runs. */
export function gcReport(): GcReport | null {
  return shared().watch?.gc() ?? null;
}

/** How long ago the event loop last turned (the heartbeat's last beat), in ms, or null when no monitor runs. */
export function loopStalledMs(): number | null {
  const watch = shared().watch;
  return watch ? Math.max(0, sharedNow() - new Float64Array(watch.buffer)[0]) : null;
}
