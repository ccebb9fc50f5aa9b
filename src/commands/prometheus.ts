/**
 * Prometheus's text exposition format (version 0.0.4), what `metrics` prints and GET /metrics serves:
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 */

/** Label names to values. */
export type Labels = Record<string, string>;

/** One value of a gauge or a counter. */
export interface Sample {
  labels?: Labels;
  value: number;
}

/** One histogram: `counts` per bucket, not cumulative, one more than `bounds` (the last past every bound), in base units. */
export interface HistogramSeries {
  labels?: Labels;
  bounds: readonly number[];
  counts: readonly number[];
  sum: number;
}

/** A metric family: its name (a counter's ends in `_total`), one line of help, its type and its values. */
export type Family =
  | { name: string; help: string; type: 'gauge' | 'counter'; samples: Sample[] }
  | { name: string; help: string; type: 'histogram'; series: HistogramSeries[] };

/** A label value as the format quotes it: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A help text as the format wants it: backslash and line feed escaped. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A value as Prometheus parses it (Go's ParseFloat): NaN, +Inf and -Inf by name. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function labelText(labels: Labels | undefined, extra?: [string, string]): string {
  const pairs = Object.entries(labels ?? {});
  if (extra) pairs.push(extra);
  return pairs.length === 0 ? '' : `{${pairs.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
}

/** The lines of one histogram: cumulative buckets up to le="+Inf", then _sum and _count. */
export function histogramLines(name: string, series: HistogramSeries): string[] {
  const lines: string[] = [];
  let total = 0;
  series.counts.forEach((count, i) => {
    total += count;
    const le = i < series.bounds.length ? formatValue(series.bounds[i]) : '+Inf';
    lines.push(`${name}_bucket${labelText(series.labels, ['le', le])} ${total}`);
  });
  lines.push(`${name}_sum${labelText(series.labels)} ${formatValue(series.sum)}`, `${name}_count${labelText(series.labels)} ${total}`);
  return lines;
}

/** The exposition of `families`, each with its HELP and TYPE lines; a family without values is left out. Ends with a line feed. */
export function formatFamilies(families: Family[]): string {
  const lines: string[] = [];
  for (const family of families) {
    const empty = family.type === 'histogram' ? family.series.length === 0 : family.samples.length === 0;
    if (empty) continue;
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    if (family.type === 'histogram') for (const series of family.series) lines.push(...histogramLines(family.name, series));
    else for (const sample of family.samples) lines.push(`${family.name}${labelText(sample.labels)} ${formatValue(sample.value)}`);
  }
  return lines.map((line) => `${line}\n`).join('');
}
