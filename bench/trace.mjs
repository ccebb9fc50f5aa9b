// What tracing (MONITOR_TRACE=1) costs an HTTP app, next to why-is-node-running, which records a stack
// for every async resource. Two apps: the hello-world of the other sections, and the same with an async
// handler (promises and an immediate per request), since tracing pays per async resource. Variants take
// turns within each round, in a rotated order, like the HTTP section; the median of the rounds is reported.
import autocannon from 'autocannon';
import { launch } from './launch.mjs';
import { cpuSeconds } from './proc.mjs';
import { summarize, median, fixed, percent } from './stats.mjs';

const VARIANTS = [
  { key: 'bare', label: 'bare node', preload: 'bare' },
  { key: 'monitor', label: 'aiomonitor, tracing off', preload: 'monitor' },
  { key: 'trace', label: 'aiomonitor, tracing on (MONITOR_TRACE=1)', preload: 'monitor', env: { MONITOR_TRACE: '1' }, maxLoss: 0.25 },
  { key: 'why', label: 'why-is-node-running (for comparison)', preload: 'why' },
];

const APPS = [
  { script: './server.mjs', label: 'hello-world' },
  { script: './server-async.mjs', label: 'async handler' },
];

async function measureOnce(app, variant, settings) {
  const child = launch(app.script, { preload: variant.preload, env: variant.env });
  try {
    const url = `http://127.0.0.1:${(await child.waitFor('stdout', /listening (\d+)/))[1]}/`;
    if (variant.preload === 'monitor') await child.monitorPort();
    await autocannon({ url, connections: settings.connections, duration: settings.warmupSeconds });
    const cpuBefore = cpuSeconds(child.pid);
    const result = await autocannon({ url, connections: settings.connections, duration: settings.seconds });
    const cpu = cpuSeconds(child.pid) - cpuBefore;
    if (result.errors || result.timeouts || result.non2xx) {
      throw new Error(`${variant.label}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`);
    }
    return { rps: result.requests.total / result.duration, cpuUs: (cpu * 1e6) / result.requests.total };
  } finally {
    await child.stop();
  }
}

async function measureApp(app, settings, log) {
  const rps = Object.fromEntries(VARIANTS.map((variant) => [variant.key, []]));
  const cpuUs = Object.fromEntries(VARIANTS.map((variant) => [variant.key, []]));
  for (let round = 0; round < settings.rounds; round++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]);
    for (const variant of order) {
      const sample = await measureOnce(app, variant, settings);
      rps[variant.key].push(sample.rps);
      cpuUs[variant.key].push(sample.cpuUs);
      log(`trace, ${app.label}, round ${round + 1}/${settings.rounds}: ${variant.label}: ${Math.round(sample.rps)} req/s, ${fixed(sample.cpuUs)} µs CPU/request`);
    }
  }
  const bare = median(rps.bare);
  const bareCpu = median(cpuUs.bare);
  return VARIANTS.map((variant) => {
    const summary = summarize(rps[variant.key]);
    const cpu = summarize(cpuUs[variant.key]);
    const ratio = summary.median / bare;
    const row = {
      measure: `HTTP req/s (${app.label}, ${settings.connections} connections), ${variant.label}`,
      result: `${Math.round(summary.median)} req/s (${Math.round(summary.min)}–${Math.round(summary.max)}, n=${summary.n}); ${fixed(cpu.median)} µs CPU/request`,
      change: variant.key === 'bare' ? '' : `${ratio.toFixed(3)} (${percent(ratio)}); CPU/request ${percent(cpu.median / bareCpu)}`,
    };
    if (variant.maxLoss !== undefined) {
      Object.assign(row, { target: `loss ≤ ${variant.maxLoss * 100}%`, met: 1 - ratio <= variant.maxLoss });
      // On a busy machine req/s swings between rounds while CPU per request holds: say so when they disagree.
      const cpuRise = cpu.median / bareCpu - 1;
      if ((cpuRise > variant.maxLoss) === row.met) {
        row.note = `CPU/request ${percent(cpu.median / bareCpu)} ${row.met ? 'exceeds' : 'is within'} the ${variant.maxLoss * 100}% budget, which req/s ${row.met ? 'did not show' : 'missed'}: req/s swung ${Math.round(summary.spread * 100)}% between rounds`;
      }
    }
    return row;
  });
}

/** Runs every round for both apps and returns the table rows. */
export async function measureTrace(settings, log) {
  const rows = [];
  for (const app of APPS) rows.push(...(await measureApp(app, settings, log)));
  return rows;
}
