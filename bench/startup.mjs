// Wall time of a short script (`console.log(1)`) with the preload, as a ratio to bare node's, hyperfine-style:
// warm-up runs, then many runs with the two commands alternating (and which goes first alternating too), so
// that both medians come from the same minutes of a shared machine and their ratio travels to other machines.
import { launch } from './launch.mjs';
import { summarize, formatMs, fixed } from './stats.mjs';

const TARGET_RATIO = 1.25;

// What a user's `node` meets at start, not what this bench's environment adds to both commands: NODE_EXTRA_CA_CERTS
// (set on some machines) makes every `node` read a CA bundle first, tens of ms that would shrink the ratio.
const USER_ENV = { NODE_EXTRA_CA_CERTS: '' };

async function timeRun(script, preload) {
  const started = performance.now();
  const app = launch(script, { preload, env: USER_ENV });
  const { code, signal } = await app.exited;
  const ms = performance.now() - started;
  if (code !== 0 || app.output.stdout !== '1\n') {
    throw new Error(`${script} (${preload}) ended with ${signal ?? `code ${code}`}, printed ${JSON.stringify(app.output.stdout)}, stderr ${JSON.stringify(app.output.stderr.slice(-300))}`);
  }
  return ms;
}

// An ES module loads asynchronously: the loop turns before its first line runs, so the preload's monitor
// thread starts, as it must to watch an app that blocks in its top-level code. A CommonJS script that is done
// by the first turn of the loop never starts it.
const SCRIPTS = ['./hello.cjs', './hello.mjs'];

/** Returns the table rows. */
export async function measureStartup(settings, log) {
  const rows = [];
  for (const script of SCRIPTS) {
    const times = { bare: [], monitor: [] };
    for (let i = 0; i < settings.warmupRuns; i++) {
      await timeRun(script, 'bare');
      await timeRun(script, 'monitor');
    }
    for (let i = 0; i < settings.runs; i++) {
      const order = i % 2 ? ['monitor', 'bare'] : ['bare', 'monitor'];
      for (const preload of order) times[preload].push(await timeRun(script, preload));
    }
    const bare = summarize(times.bare);
    const monitor = summarize(times.monitor);
    const added = monitor.median - bare.median;
    const ratio = monitor.median / bare.median;
    const name = script.slice(2);
    log(`${name}: bare ${formatMs(bare)}, with the preload ${formatMs(monitor)}, ×${ratio.toFixed(2)}`);
    rows.push(
      { measure: `wall time of \`node ${name}\` (\`console.log(1)\`), bare node`, result: formatMs(bare) },
      {
        measure: 'wall time of the same, with `-r aiomonitor/register`',
        result: formatMs(monitor),
        change: `×${ratio.toFixed(2)} (+${fixed(added)} ms)`,
        target: `≤ ×${TARGET_RATIO}`,
        met: ratio <= TARGET_RATIO,
      },
    );
  }
  return rows;
}
