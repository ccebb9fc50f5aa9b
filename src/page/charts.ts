/** Live charts of `metrics --json`, read every second; the browser keeps the last five minutes. */
import uPlot from 'uplot';
import { ApiError, failure, getDoc } from './api';
import type { MetricsDoc } from './documents';
import { byId, h, note } from './dom';
import { poll } from './poll';

const KEEP_S = 300;
const COLORS = ['#1f5fa8', '#c2410c', '#15803d', '#7e22ce', '#b91c1c', '#0e7490', '#a16207', '#4d7c0f', '#be185d', '#334155'];
const MIB = 1048576;
const HEIGHT = 130;

/** One chart: what it shows and how to read its values out of a metrics document. */
interface ChartSpec {
  id: string;
  title: string;
  unit: string;
  /** Fixed series, or none when they come from the documents (tasks by type). */
  series: { key: string; label: string }[];
  max?: number;
  /** The values of one moment; null is a gap in the line (the main thread did not publish). */
  values(doc: MetricsDoc): Record<string, number | null>;
}

function scaled(value: number | null, factor: number): number | null {
  return value === null ? null : value * factor;
}

const SPECS: ChartSpec[] = [
  {
    id: 'chart-delay', title: 'Event-loop delay (ms)', unit: ' ms',
    series: [{ key: 'p50', label: 'p50' }, { key: 'p99', label: 'p99' }, { key: 'max', label: 'max' }],
    values: (doc) => ({ ...doc.loop.delayMs }),
  },
  {
    id: 'chart-utilization', title: 'Utilization (%)', unit: ' %', max: 100,
    series: [{ key: 'utilization', label: 'utilization' }],
    values: (doc) => ({ utilization: scaled(doc.loop.utilization, 100) }),
  },
  {
    id: 'chart-memory', title: 'Memory (MiB)', unit: ' MiB',
    series: [{ key: 'rss', label: 'RSS' }, { key: 'heapUsed', label: 'heap used' }, { key: 'heapTotal', label: 'heap total' }],
    values: (doc) => ({ rss: scaled(doc.memory.rss, 1 / MIB), heapUsed: scaled(doc.memory.heapUsed, 1 / MIB), heapTotal: scaled(doc.memory.heapTotal, 1 / MIB) }),
  },
  {
    id: 'chart-tasks', title: 'Tasks by type', unit: '', series: [],
    values: (doc) => ({ ...doc.tasksByType }),
  },
];

/** A chart on the page with its five minutes of data, one column per series beside the shared times. */
interface Chart {
  spec: ChartSpec;
  element: HTMLElement;
  plot: uPlot;
  keys: string[];
  columns: (number | null)[][];
}

function series(label: string, index: number, unit: string): uPlot.Series {
  return {
    label,
    stroke: COLORS[index % COLORS.length],
    width: 1.5,
    points: { show: false },
    value: (_plot, value) => (value === null || value === undefined ? '–' : `${Number(value.toFixed(1))}${unit}`),
  };
}

function createChart(spec: ChartSpec, container: HTMLElement): Chart {
  const element = h('div', { class: 'chart', id: spec.id, 'data-points': '0' }, h('h3', {}, spec.title));
  container.append(element);
  const max = spec.max;
  const plot = new uPlot({
    width: Math.max(200, element.clientWidth),
    height: HEIGHT,
    series: [{ label: 'time', value: (_plot, value) => (value === null || value === undefined ? '–' : new Date(value * 1000).toLocaleTimeString([], { hour12: false })) }, ...spec.series.map((s, i) => series(s.label, i, spec.unit))],
    scales: { x: { time: true }, y: { range: (_plot, _min, dataMax) => [0, max ?? (dataMax > 0 ? dataMax * 1.1 : 1)] } },
    axes: [{ size: 30 }, { size: 48 }],
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
  }, [[], ...spec.series.map(() => [])], element);
  return { spec, element, plot, keys: spec.series.map((s) => s.key), columns: spec.series.map(() => []) };
}

/** Starts the charts; a monitor without a `metrics` command leaves them empty, and they say so. */
export function startCharts(): void {
  const container = byId('charts');
  const trouble = byId('charts-note');
  const charts = SPECS.map((spec) => createChart(spec, container));
  new ResizeObserver(() => {
    for (const chart of charts) chart.plot.setSize({ width: Math.max(200, chart.element.clientWidth), height: HEIGHT });
  }).observe(container);
  const times: number[] = [];
  let lastAt = '';
  let missing = false;
  poll(1000, async () => {
    let doc: MetricsDoc;
    try {
      doc = await getDoc<MetricsDoc>(['metrics']);
    } catch (error) {
      // An older monitor without the command: say so once, rather than fail every second.
      missing = error instanceof ApiError && (error.status === 400 || error.status === 404);
      const { text, kind } = failure(error);
      note(trouble, missing ? `No charts: ${text.replace(/^✗ /, '')}` : text, missing ? 'quiet' : kind);
      return;
    }
    note(trouble, doc.fresh ? '' : 'The main thread has not published metrics for 2 s: the latest values are stale.');
    if (doc.at === lastAt) return;
    lastAt = doc.at;
    const x = Date.parse(doc.at) / 1000;
    times.push(x);
    let drop = 0;
    while (times[drop] < x - KEEP_S) drop++;
    times.splice(0, drop);
    for (const chart of charts) record(chart, chart.spec.values(doc), times, drop);
  }, () => !missing);
}

function record(chart: Chart, values: Record<string, number | null>, times: number[], drop: number): void {
  for (const key of Object.keys(values)) {
    if (chart.keys.includes(key)) continue;
    // A new type of task: a new series, empty before now.
    chart.keys.push(key);
    chart.columns.push(new Array<number | null>(times.length - 1 + drop).fill(null));
    chart.plot.addSeries(series(key, chart.keys.length - 1, chart.spec.unit));
  }
  chart.keys.forEach((key, i) => {
    const column = chart.columns[i];
    column.push(values[key] ?? (chart.spec.series.length === 0 ? 0 : null));
    column.splice(0, drop);
  });
  chart.plot.setData([times.slice(), ...chart.columns.map((column) => column.slice())] as uPlot.AlignedData);
  // The legend shows the newest values unless the pointer is over the chart, where it shows the values under it.
  if (chart.plot.cursor.left === undefined || chart.plot.cursor.left < 0) chart.plot.setLegend({ idx: times.length - 1 });
  chart.element.dataset.points = String(times.length);
}
