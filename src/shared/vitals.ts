import type { BucketCounts } from './buckets';

/**
 * The memory through which the main thread publishes its figures for `metrics`, so that the monitor thread answers
 * without asking it (and so also while its loop is blocked). The monitor thread writes until when someone wants
 * them; the heartbeat publishes once a second until then, and nothing at all otherwise.
 *
 * Layout: a Float64 at byte 0, the "wanted until" time (sharedNow() ms, written by the monitor thread); two Int32 at
 * byte 8, a sequence number (odd while a publication is being written, 0 before the first) and the length of the
 * publication; from byte 16, the publication as UTF-8 JSON.
 */

/** The size of the memory, room enough for any publication (a few KB). */
export const VITALS_BYTES = 64 * 1024;

const WANTED_AT = 0;
const HEADER_AT = 8;
const TEXT_AT = 16;

/** Percentiles and more of the heartbeat's lateness over a window, in ms. */
export interface DelayWindow {
  min: number;
  max: number;
  mean: number;
  stddev: number;
  p50: number;
  p90: number;
  p99: number;
  samples: number;
}

/** What the main thread publishes. Durations in ms, sizes in bytes. */
export interface Vitals {
  /** When it was published, on the clock of sharedNow(). */
  at: number;
  delay: {
    /** Over the last second; null when no beat came in it. */
    lastSecond: DelayWindow | null;
    /** Since the heartbeat started. */
    sinceStart: { p50: number; p90: number; p99: number; max: number; samples: number };
    /** Every beat since the heartbeat started, counted into DELAY_BUCKETS_MS. */
    buckets: BucketCounts;
  };
  /** Share of the last second the loop spent running callbacks, 0 to 1. */
  utilization: number;
  memory: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  heapSpaces: { name: string; size: number; used: number; available: number }[];
  /** Garbage collections by kind (minor, major, incremental, weakcb) counted into GC_BUCKETS_MS while someone looked, since `since` (ms since the epoch). */
  gc: { since: number; kinds: Record<string, BucketCounts> };
  /** What ps counts by type (its byType without -a). */
  tasks: Record<string, number>;
  /** Finished tasks by type and outcome (done, error, cancelled, ended), since the monitor started. */
  finished: Record<string, Record<string, number>>;
}

/** The "wanted until" time: its element 0 is until when (sharedNow() ms) publications are wanted, 0 when never. */
export function wantedView(buffer: SharedArrayBuffer): Float64Array {
  return new Float64Array(buffer, WANTED_AT, 1);
}

/** Publishes one JSON text; false when it does not fit (nothing is changed then). */
export function writeVitals(buffer: SharedArrayBuffer, json: string): boolean {
  const bytes = Buffer.byteLength(json);
  if (bytes > buffer.byteLength - TEXT_AT) return false;
  const header = new Int32Array(buffer, HEADER_AT, 2);
  // A seqlock: odd while writing, so that a reader that saw the same even number before and after its copy knows it is whole.
  Atomics.add(header, 0, 1);
  Buffer.from(buffer, TEXT_AT, bytes).write(json);
  Atomics.store(header, 1, bytes);
  Atomics.add(header, 0, 1);
  return true;
}

/** The number of the last whole publication (0 before the first), without copying it. */
export function vitalsSequence(buffer: SharedArrayBuffer): number {
  return Atomics.load(new Int32Array(buffer, HEADER_AT, 1), 0);
}

/** The last publication as JSON text with its number, or null before the first or when a write kept overlapping the copy. */
export function readVitals(buffer: SharedArrayBuffer): { sequence: number; json: string } | null {
  const header = new Int32Array(buffer, HEADER_AT, 2);
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = Atomics.load(header, 0);
    if (before === 0) return null;
    if (before % 2 === 1) continue;
    const length = Math.min(Atomics.load(header, 1), buffer.byteLength - TEXT_AT);
    // Copied out of shared memory first: decoding in place could read bytes a write is changing.
    const copy = new Uint8Array(buffer, TEXT_AT, length).slice();
    if (Atomics.load(header, 0) === before) return { sequence: before, json: Buffer.from(copy.buffer, copy.byteOffset, copy.byteLength).toString('utf8') };
  }
  return null;
}
