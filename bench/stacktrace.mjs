// Answer time of `stacktrace` while the app's event loop is blocked: the case the monitor's worker
// thread exists for. The session is open before the block, as it would be for someone watching.
import { setTimeout as sleep } from 'node:timers/promises';
import { launch } from './launch.mjs';
import { connectMonitor } from './monitor-client.mjs';
import { summarize, formatMs, fixed } from './stats.mjs';

const TARGET_MS = 100;

/** Returns the table row. */
export async function measureStacktrace(settings, log) {
  const app = launch('./spin.mjs', { preload: 'monitor' });
  let client;
  try {
    await app.waitFor('stdout', /ready/);
    client = await connectMonitor(await app.monitorPort());
    const times = [];
    const misses = [];
    for (let i = 0; i < settings.samples; i++) {
      const from = app.output.stdout.length;
      app.child.stdin.write(`spin ${settings.blockMs}\n`);
      await app.waitFor('stdout', /spinning/, { from });
      // Someone watching types at any moment of a block: spread the sends from early on (before the
      // monitor's own watchdog notices the stall) to well past it, always well before the block ends.
      const lead = settings.samples > 1 ? settings.firstLeadMs + ((settings.lastLeadMs - settings.firstLeadMs) * i) / (settings.samples - 1) : settings.firstLeadMs;
      await sleep(lead);
      const { text, ms } = await client.command('stacktrace');
      times.push(ms);
      // An answer without the spinning function would be fast and useless: count it, but say so.
      if (!text.includes('spinFor')) misses.push(text.trim().split('\n')[0]);
      log(`stacktrace ${i + 1}/${settings.samples}, sent ${Math.round(lead)} ms into the block: ${fixed(ms)} ms${text.includes('spinFor') ? '' : ` (no spinFor in: ${JSON.stringify(text.slice(0, 120))})`}`);
      await app.waitFor('stdout', /done/, { from });
    }
    const summary = summarize(times);
    const notes = [`sent ${settings.firstLeadMs}–${settings.lastLeadMs} ms into each block; first answer ${fixed(times[0])} ms`];
    if (misses.length) notes.push(`${misses.length} of ${times.length} answers did not show the spinning function: ${misses.map((line) => JSON.stringify(line)).join(', ')}`);
    return {
      measure: `\`stacktrace\` while the loop is blocked (${settings.blockMs} ms spin)`,
      // A wrong answer is no stack trace, however fast: it shows in the result, not only in the notes.
      result: `${formatMs(summary)}${misses.length ? `; ${misses.length} without the stack` : ''}`,
      target: `≤ ${TARGET_MS} ms`,
      met: summary.median <= TARGET_MS,
      note: notes.join('; '),
    };
  } finally {
    client?.close();
    await app.stop();
  }
}
