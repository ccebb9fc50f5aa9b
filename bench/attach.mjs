// Time of `aiomon attach PID` on an app started without the monitor: from attachToPid's start (checks, SIGUSR1,
// the inspector found through /proc, the monitor loaded and listening, the inspector closed) to the endpoint,
// and then to the first answer of `ps` on it. A fresh app every round: an app attaches only once.
import { createRequire } from 'node:module';
import { launch } from './launch.mjs';
import { summarize, formatMs } from './stats.mjs';

const require = createRequire(import.meta.url);
const { attachToPid } = require('../dist/src/client/attach.js');
const { openPrompt } = require('../dist/src/client/connection.js');

const TARGET_MS = 1000;

/** Returns the table rows. */
export async function measureAttach(settings, log) {
  const attach = [];
  const firstPs = [];
  for (let i = 0; i < settings.rounds; i++) {
    // --inspect-port=0: the inspector SIGUSR1 opens takes a free port, never one that something else holds.
    const app = launch('./server.mjs', { env: { NODE_OPTIONS: '--inspect-port=0' } });
    try {
      await app.waitFor('stdout', /listening \d+/);
      const started = performance.now();
      const { endpoint } = await attachToPid(app.pid, {});
      attach.push(performance.now() - started);
      const connection = await openPrompt(endpoint).catch((error) => { throw new Error(`${error.message}; app stderr: ${app.output.stderr}`); });
      const ps = await connection.run('ps');
      firstPs.push(performance.now() - started);
      connection.close();
      if (!/server/.test(ps)) throw new Error(`ps after the attach does not list the server: ${ps}`);
    } finally {
      await app.stop();
    }
  }
  const toEndpoint = summarize(attach);
  const toPs = summarize(firstPs);
  log(`attach: ${formatMs(toEndpoint)} to the endpoint, ${formatMs(toPs)} to the first ps`);
  return [
    { measure: 'attach to an app started without the monitor (`attachToPid`), to the endpoint', result: formatMs(toEndpoint), target: `< ${TARGET_MS} ms`, met: toEndpoint.median < TARGET_MS },
    { measure: 'the same, to the first answer of `ps`', result: formatMs(toPs) },
  ];
}
