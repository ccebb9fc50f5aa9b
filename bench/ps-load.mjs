// Answer time of `ps` in a busy process: many timers and sockets, each of which `ps` reads through
// the inspector, describes and sends as one line.
import { setTimeout as sleep } from 'node:timers/promises';
import { launch } from './launch.mjs';
import { connectMonitor } from './monitor-client.mjs';
import { summarize, formatMs, fixed } from './stats.mjs';

const TARGET_MS = 250;
const TIMERS = 10_000;
/** Connections of the app to its own server: as many client sockets, and as many server-side ones. */
const PAIRS = 1_000;
/** Room for 2,000 sockets plus Node's own descriptors, above the common default soft limit of 1024. */
const FD_LIMIT = 8192;

/** Returns the table row. */
export async function measurePsLoad(settings, log) {
  const app = launch('./handles.mjs', { preload: 'monitor', args: [String(TIMERS), String(PAIRS)], fdLimit: FD_LIMIT });
  let client;
  try {
    const ready = (await app.waitFor('stdout', /ready .*/, { timeoutMs: 60_000 }))[0];
    log(`ps under load: app ${ready}`);
    client = await connectMonitor(await app.monitorPort());
    const times = [];
    let listed = '';
    for (let i = 0; i < settings.samples; i++) {
      const { text, ms } = await client.command('ps');
      times.push(ms);
      listed = /^(\d+) tasks.*$/m.exec(text)?.[0] ?? `unexpected answer: ${JSON.stringify(text.slice(0, 200))}`;
      log(`ps ${i + 1}/${settings.samples}: ${fixed(ms)} ms, ${(text.length / 1024).toFixed(0)} KiB, ${listed}`);
      // A pause between samples, as between a person's commands, so one answer's garbage is not the next one's cost;
      // long enough for the reads' budget of the main thread's time (5%) to pay for a listing of this size.
      await sleep(1500);
    }
    const summary = summarize(times);
    return {
      measure: `\`ps\` with ${TIMERS.toLocaleString('en')} timers + ${(2 * PAIRS).toLocaleString('en')} sockets (${PAIRS} client + ${PAIRS} server-side)`,
      result: formatMs(summary),
      target: `≤ ${TARGET_MS} ms`,
      met: summary.median <= TARGET_MS,
      note: `first answer ${fixed(times[0])} ms; it listed "${listed}"`,
    };
  } finally {
    client?.close();
    await app.stop();
  }
}
