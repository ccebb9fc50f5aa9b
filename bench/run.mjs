// `npm run bench` (or `npm run bench -- --quick` for a ~1 minute smoke run; `-- --only=http,memory`
// for some sections): what the monitor costs an app, measured against bare `node` on this machine.
// Progress goes to stderr, the final table to stdout. A missed target is a result, not a failure:
// the exit code is non-zero only if a measurement crashed.
import os from 'node:os';
import { installCleanup } from './launch.mjs';
import { describeMachine, renderTable } from './report.mjs';
import { measureHttp } from './http.mjs';
import { measureStacktrace } from './stacktrace.mjs';
import { measurePsLoad } from './ps-load.mjs';
import { measureStartup } from './startup.mjs';
import { measureMemory } from './memory.mjs';
import { measureTrace } from './trace.mjs';
import { measureAttach } from './attach.mjs';

const quick = process.argv.includes('--quick');

// Full: about 6 minutes on 2 cores, mostly HTTP load (8 rounds × 4 variants × 4 s, then tracing). More, shorter
// rounds rather than a few long ones: a neighbour's burst then spoils single samples, which the median drops.
const SETTINGS = quick
  ? {
      http: { rounds: 2, seconds: 2, warmupSeconds: 1, connections: 10 },
      stacktrace: { samples: 3, blockMs: 1000, firstLeadMs: 50, lastLeadMs: 450 },
      psLoad: { samples: 3 },
      startup: { warmupRuns: 1, runs: 6 },
      memory: { rounds: 2, settleMs: 1000 },
      trace: { rounds: 2, seconds: 2, warmupSeconds: 1, connections: 50 },
      attach: { rounds: 3 },
    }
  : {
      http: { rounds: 8, seconds: 3, warmupSeconds: 1, connections: 10 },
      stacktrace: { samples: 9, blockMs: 1000, firstLeadMs: 50, lastLeadMs: 450 },
      psLoad: { samples: 9 },
      startup: { warmupRuns: 3, runs: 30 },
      memory: { rounds: 5, settleMs: 1000 },
      trace: { rounds: 5, seconds: 3, warmupSeconds: 1, connections: 50 },
      attach: { rounds: 9 },
    };

const SECTIONS = [
  ['http', 'HTTP throughput', () => measureHttp(SETTINGS.http, log)],
  ['stacktrace', 'stacktrace during a block', () => measureStacktrace(SETTINGS.stacktrace, log)],
  ['ps', 'ps under load', () => measurePsLoad(SETTINGS.psLoad, log)],
  ['startup', 'short script wall time', () => measureStartup(SETTINGS.startup, log)],
  ['memory', 'resident memory', () => measureMemory(SETTINGS.memory, log)],
  ['trace', 'tracing', () => measureTrace(SETTINGS.trace, log)],
  ['attach', 'attach by pid', () => measureAttach(SETTINGS.attach, log)],
];
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length).split(',');

function log(line) {
  process.stderr.write(`  ${line}\n`);
}

async function main() {
  installCleanup();
  const machine = describeMachine();
  process.stderr.write(`aiomonitor bench${quick ? ' (--quick: fewer, shorter rounds; for a smoke test, not for numbers)' : ''}\n${machine}\n`);
  const started = Date.now();
  const loadBefore = os.loadavg()[0];
  const rows = [];
  let crashed = false;
  // One section crashing still leaves the others' numbers worth printing.
  for (const [key, name, measure] of SECTIONS) {
    if (only && !only.includes(key)) continue;
    process.stderr.write(`${name}…\n`);
    try {
      rows.push(...[await measure()].flat());
    } catch (error) {
      crashed = true;
      process.stderr.write(`${name} crashed: ${error.stack}\n`);
      rows.push({ measure: name, result: `crashed: ${error.message.split('\n')[0]}`, met: false });
    }
  }
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  // The load average says how much else ran meanwhile (the bench itself keeps it near 2 on 2 cores).
  const load = `load average ${loadBefore.toFixed(1)} before, ${os.loadavg()[0].toFixed(1)} after`;
  process.stdout.write(`\nMachine: ${machine}${quick ? ' (--quick run)' : ''}; the bench took ${minutes} min; ${load}.\n\n${renderTable(rows)}\n`);
  process.exitCode = crashed ? 1 : 0;
}

await main();
