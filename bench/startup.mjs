// Wall time added to a short script (`console.log(1)`) by the preload, hyperfine-style: warm-up runs,
// then many runs with the two commands alternating (and which goes first alternating too).
import { launch } from './launch.mjs';
import { summarize, formatMs, fixed } from './stats.mjs';

const TARGET_ADDED_MS = 40;

async function timeRun(preload) {
  const started = performance.now();
  const app = launch('./hello.mjs', { preload });
  const { code, signal } = await app.exited;
  const ms = performance.now() - started;
  if (code !== 0 || app.output.stdout !== '1\n') {
    throw new Error(`hello.mjs (${preload}) ended with ${signal ?? `code ${code}`}, printed ${JSON.stringify(app.output.stdout)}, stderr ${JSON.stringify(app.output.stderr.slice(-300))}`);
  }
  return ms;
}

/** Returns the table rows. */
export async function measureStartup(settings, log) {
  const times = { bare: [], monitor: [] };
  for (let i = 0; i < settings.warmupRuns; i++) {
    await timeRun('bare');
    await timeRun('monitor');
  }
  for (let i = 0; i < settings.runs; i++) {
    const order = i % 2 ? ['monitor', 'bare'] : ['bare', 'monitor'];
    for (const preload of order) times[preload].push(await timeRun(preload));
  }
  const bare = summarize(times.bare);
  const monitor = summarize(times.monitor);
  const added = monitor.median - bare.median;
  log(`short script: bare ${formatMs(bare)}, with the preload ${formatMs(monitor)}`);
  return [
    { measure: 'wall time of `node hello.mjs` (`console.log(1)`), bare node', result: formatMs(bare) },
    {
      measure: 'wall time of the same, with `-r aiomonitor/register`',
      result: formatMs(monitor),
      change: `+${fixed(added)} ms`,
      target: `≤ +${TARGET_ADDED_MS} ms`,
      met: added <= TARGET_ADDED_MS,
    },
  ];
}
