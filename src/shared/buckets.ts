/**
 * Fixed histogram buckets for the Prometheus histograms of `metrics`: each thread counts its values into them as they
 * come (a few comparisons), and `metrics` prints the cumulative counts. Bounds are in ms, ascending; a value counts in
 * the first bucket whose bound is at least the value, or in one more bucket past the last bound.
 */

/** How late a heartbeat came, from well under a ms to a loop blocked for seconds. */
export const DELAY_BUCKETS_MS: readonly number[] = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];

/** How long a block lasted; blocks start at the threshold (100 ms by default). */
export const BLOCK_BUCKETS_MS: readonly number[] = [100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000];

/** How long a garbage collection took: prom-client's buckets for nodejs_gc_duration_seconds. */
export const GC_BUCKETS_MS: readonly number[] = [1, 10, 100, 1000, 2000, 5000];

/** Values counted per bucket (one more than the bounds: the last holds values past every bound) and their sum. */
export interface BucketCounts {
  counts: number[];
  sum: number;
}

/** Empty counts for `bounds`. */
export function emptyBuckets(bounds: readonly number[]): BucketCounts {
  return { counts: new Array<number>(bounds.length + 1).fill(0), sum: 0 };
}

/** Counts one value. */
export function countInto(buckets: BucketCounts, bounds: readonly number[], value: number): void {
  let i = 0;
  while (i < bounds.length && value > bounds[i]) i++;
  buckets.counts[i]++;
  buckets.sum += value;
}
