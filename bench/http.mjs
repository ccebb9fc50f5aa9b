// HTTP throughput of bench/server.mjs with autocannon, bare and under each preload. A fresh app for
// every measurement, and the variants take turns within each round (in a rotated order), so a noisy
// neighbour or a slow drift of the machine lands on all of them rather than on one. Next to req/s,
// the app's CPU time per request (all its threads, the monitor's included): a neighbour taking a core
// halves req/s for a while but barely moves the CPU a request costs, so that column stays readable on a
// busy machine.
import autocannon from 'autocannon';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { launch } from './launch.mjs';
import { cpuSeconds } from './proc.mjs';
import { connectMonitor } from './monitor-client.mjs';
import { summarize, median, fixed, percent } from './stats.mjs';

const VARIANTS = [
  { key: 'bare', label: 'bare node', preload: 'bare' },
  { key: 'idle', label: 'aiomonitor, idle', preload: 'monitor', maxLoss: 0.03 },
  { key: 'ps', label: 'aiomonitor, a client running `ps` every 1 s', preload: 'monitor', pollPs: true, maxLoss: 0.05 },
  // As Prometheus scrapes: GET /metrics on the web port over a kept-alive connection.
  { key: 'scrape', label: 'aiomonitor, Prometheus scrape of /metrics every 1 s', preload: 'monitor', scrape: true, maxLoss: 0.05 },
  // The reads' budget bounds the main thread's share; what is left is the monitor thread and the client on 2 cores.
  { key: 'psLoop', label: 'aiomonitor, a client running `ps` back to back', preload: 'monitor', pollPs: true, pollEveryMs: 0 },
  { key: 'why', label: 'why-is-node-running (for comparison)', preload: 'why' },
];

/** Gets /metrics from `port` as a scraper does, over a kept-alive connection; resolves with how long it took, in ms. */
function scrapeWith(agent, port) {
  return () => new Promise((resolve, reject) => {
    const sent = performance.now();
    http.get({ host: '127.0.0.1', port, path: '/metrics', agent, headers: { Accept: 'text/plain;version=0.0.4' } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`GET /metrics answered ${res.statusCode}`));
      res.resume();
      res.on('end', () => resolve(performance.now() - sent));
    }).on('error', reject);
  });
}

/** Runs `ask` (which resolves with its answer time) once a second until stopped, as someone watching an app would; returns the answer times. */
function poll(ask, everyMs = 1000) {
  const stop = new AbortController();
  const times = [];
  const done = (async () => {
    for (let next = performance.now(); !stop.signal.aborted; ) {
      times.push(await ask());
      next += everyMs;
      await sleep(Math.max(0, next - performance.now()), undefined, { signal: stop.signal }).catch(() => {});
    }
  })();
  return async () => {
    stop.abort();
    await done;
    return times;
  };
}

async function measureOnce(variant, settings) {
  const app = launch('./server.mjs', { preload: variant.preload });
  let client;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const url = `http://127.0.0.1:${(await app.waitFor('stdout', /listening (\d+)/))[1]}/`;
    // Load starts only once the monitor listens, so its start-up is not part of the measurement.
    let ask;
    if (variant.preload === 'monitor') {
      const port = await app.monitorPort();
      if (variant.pollPs) {
        client = await connectMonitor(port);
        ask = async () => (await client.command('ps')).ms;
      }
      if (variant.scrape) ask = scrapeWith(agent, await app.webPort());
    }
    // A short unrecorded run first: the JIT and the connection pool settle the same way in every variant.
    await autocannon({ url, connections: settings.connections, duration: settings.warmupSeconds });
    const stopPolling = ask ? poll(ask, variant.pollEveryMs) : null;
    const cpuBefore = cpuSeconds(app.pid);
    const result = await autocannon({ url, connections: settings.connections, duration: settings.seconds });
    const cpu = cpuSeconds(app.pid) - cpuBefore;
    const times = stopPolling ? await stopPolling() : [];
    if (result.errors || result.timeouts || result.non2xx) {
      throw new Error(`${variant.label}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`);
    }
    return { rps: result.requests.total / result.duration, cpuUs: (cpu * 1e6) / result.requests.total, times };
  } finally {
    client?.close();
    agent.destroy();
    await app.stop();
  }
}

/** Runs every round and returns the table rows. */
export async function measureHttp(settings, log) {
  const samples = Object.fromEntries(VARIANTS.map((variant) => [variant.key, []]));
  const cpuUs = Object.fromEntries(VARIANTS.map((variant) => [variant.key, []]));
  const answerTimes = Object.fromEntries(VARIANTS.map((variant) => [variant.key, []]));
  for (let round = 0; round < settings.rounds; round++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]);
    for (const variant of order) {
      const { rps, cpuUs: cpu, times } = await measureOnce(variant, settings);
      samples[variant.key].push(rps);
      cpuUs[variant.key].push(cpu);
      answerTimes[variant.key].push(...times);
      log(`http round ${round + 1}/${settings.rounds}: ${variant.label}: ${Math.round(rps)} req/s, ${fixed(cpu)} µs CPU/request${times.length ? `, ${times.length} × ${variant.scrape ? 'GET /metrics' : 'ps'} (median ${fixed(median(times))} ms)` : ''}`);
    }
  }
  const bare = median(samples.bare);
  const bareCpu = median(cpuUs.bare);
  return VARIANTS.map((variant) => {
    const summary = summarize(samples[variant.key]);
    const cpu = summarize(cpuUs[variant.key]);
    const ratio = summary.median / bare;
    const row = {
      measure: `HTTP req/s, ${variant.label}`,
      result: `${Math.round(summary.median)} req/s (${Math.round(summary.min)}–${Math.round(summary.max)}, n=${summary.n}); ${fixed(cpu.median)} µs CPU/request (${fixed(cpu.min)}–${fixed(cpu.max)})`,
      change: variant.key === 'bare' ? '' : `${ratio.toFixed(3)} (${percent(ratio)}); CPU/request ${percent(cpu.median / bareCpu)}`,
    };
    const notes = [];
    if (variant.maxLoss !== undefined) {
      Object.assign(row, { target: `loss ≤ ${variant.maxLoss * 100}%`, met: 1 - ratio <= variant.maxLoss });
      // The mark follows req/s, as the target is written; when the steadier CPU figure disagrees, say so.
      const cpuRise = cpu.median / bareCpu - 1;
      if ((cpuRise > variant.maxLoss) === row.met) {
        notes.push(`CPU/request ${percent(cpu.median / bareCpu)} ${row.met ? 'exceeds' : 'is within'} the ${variant.maxLoss * 100}% budget, which req/s ${row.met ? 'did not show' : 'missed'}: req/s swung ${Math.round(summary.spread * 100)}% between rounds`);
      }
    }
    const times = answerTimes[variant.key];
    if (variant.pollEveryMs === undefined && times.length) notes.push(`${variant.scrape ? 'GET /metrics' : '`ps`'} answered in ${fixed(median(times))} ms (median of ${times.length}) under that load`);
    if (notes.length) row.note = notes.join('; ');
    return row;
  });
}
