// Resident memory added by the monitor to an idle app (bench/server.mjs, no requests), read once
// start-up allocations have settled. Bare and monitored apps take turns with two references that
// split the added memory: the monitor's code loaded but not started, and one empty worker thread
// (a second V8 isolate, which any monitor that answers during a blocked loop needs).
import { setTimeout as sleep } from 'node:timers/promises';
import { launch } from './launch.mjs';
import { rssMiB } from './proc.mjs';
import { summarize, fixed } from './stats.mjs';

const TARGET_ADDED_MIB = 20;
const VARIANTS = ['bare', 'monitor', 'loadOnly', 'emptyWorker'];

async function measureOnce(preload, settleMs) {
  const app = launch('./server.mjs', { preload });
  try {
    await app.waitFor('stdout', /listening/);
    if (preload === 'monitor') await app.monitorPort();
    await sleep(settleMs);
    return rssMiB(app.pid);
  } finally {
    await app.stop();
  }
}

const mib = (summary) => `${fixed(summary.median)} MiB (${fixed(summary.min)}–${fixed(summary.max)}, n=${summary.n})`;

/** Returns the table rows. */
export async function measureMemory(settings, log) {
  const rss = Object.fromEntries(VARIANTS.map((variant) => [variant, []]));
  for (let round = 0; round < settings.rounds; round++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]);
    for (const preload of order) rss[preload].push(await measureOnce(preload, settings.settleMs));
    log(`memory round ${round + 1}/${settings.rounds}: ${VARIANTS.map((variant) => `${variant} ${fixed(rss[variant].at(-1))} MiB`).join(', ')}`);
  }
  const [bare, monitor, loadOnly, emptyWorker] = VARIANTS.map((variant) => summarize(rss[variant]));
  const added = monitor.median - bare.median;
  return [
    { measure: 'RSS of an idle app (bench/server.mjs), bare node', result: mib(bare) },
    {
      measure: 'RSS of the same, with the monitor',
      result: mib(monitor),
      change: `+${fixed(added)} MiB`,
      target: `≤ +${TARGET_ADDED_MIB} MiB`,
      met: added <= TARGET_ADDED_MIB,
    },
    {
      measure: "RSS of the same, with the monitor's modules loaded but not started (reference)",
      result: mib(loadOnly),
      change: `+${fixed(loadOnly.median - bare.median)} MiB`,
    },
    {
      measure: 'RSS of the same, with only an empty worker thread (reference)',
      result: mib(emptyWorker),
      change: `+${fixed(emptyWorker.median - bare.median)} MiB`,
    },
  ];
}
