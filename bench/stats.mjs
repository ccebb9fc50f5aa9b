// Summaries of repeated measurements. The median, not the mean: on a shared 2-core machine a few
// rounds land on a busy moment, and one such outlier should not move the headline number.

/** The median of a non-empty list of numbers. */
export function median(values) {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Median, extremes, and the spread (max - min) relative to the median, so noisy rows stand out. */
export function summarize(values) {
  const mid = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return { median: mid, min, max, n: values.length, spread: mid === 0 ? 0 : (max - min) / Math.abs(mid) };
}

/** "12.3 ms (10.1–15.0, n=7)": what a table cell shows for a summary in milliseconds. */
export function formatMs(summary) {
  return `${fixed(summary.median)} ms (${fixed(summary.min)}–${fixed(summary.max)}, n=${summary.n})`;
}

/** Three significant figures at most, no exponent: 0.123, 1.23, 12.3, 123, 1234. */
export function fixed(value) {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toFixed(digits);
}

/** "+4.2%" / "−1.0%" for a ratio such as 1.042 or 0.99. */
export function percent(ratio) {
  const change = (ratio - 1) * 100;
  return `${change >= 0 ? '+' : '−'}${Math.abs(change).toFixed(1)}%`;
}
