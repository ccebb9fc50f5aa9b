import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startApp, waitFor } from './helpers';

// Prometheus starts, scrapes every second and answers queries in a few seconds; a busy machine gets room.
const PROMETHEUS_WAIT_MS = 90_000;

// Blocks its loop for 1.5 s when a file appears; the threshold below is high enough that nothing else counts as a block.
const APP = (trigger: string): string => `
const fs = require('node:fs');
function crunchNumbers(ms) { const start = Date.now(); while (Date.now() - start < ms); }
setInterval(function pollTrigger() {
  try { fs.rmSync(${JSON.stringify(trigger)}); } catch { return; }
  crunchNumbers(1500);
  console.log('block ended');
}, 20);
console.log('ready');
`;

/** A check for waitFor: whether `expression` answers `expected`, asked four times a second. */
function answers(port: number, expression: string, expected: string): () => Promise<boolean> {
  return async () => {
    if ((await query(port, expression)) === expected) return true;
    await sleep(250);
    return false;
  };
}

/** The value of the first series Prometheus answers an instant query with, or undefined when it has none (yet). */
async function query(port: number, expression: string): Promise<string | undefined> {
  try {
    const answer = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expression)}`);
    const body = (await answer.json()) as { data?: { result?: { value: [number, string] }[] } };
    return body.data?.result?.[0]?.value[1];
  } catch {
    return undefined; // not listening yet
  }
}

test('a real Prometheus scraping GET /metrics every second sees a block of the loop', { timeout: PROMETHEUS_WAIT_MS * 2 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-prometheus-'));
  const trigger = path.join(dir, 'block');
  const app = await startApp(APP(trigger), { env: { DEBUG: '', MONITOR_BLOCK_THRESHOLD: '500' } });
  t.after(() => app.kill());
  await app.waitForOutput('ready');

  const config = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(config, [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    '  - job_name: app',
    '    static_configs:',
    `      - targets: ['127.0.0.1:${app.webPort}']`,
    '',
  ].join('\n'));
  const port = await freePort();
  const prometheus = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  prometheus.stderr.setEncoding('utf8').on('data', (chunk: string) => { log += chunk; });
  const failed = new Promise<Error>((resolve) => prometheus.on('error', resolve));
  const exited = new Promise((resolve) => prometheus.on('close', resolve));
  t.after(async () => {
    // Its storage goes only once it has stopped writing there.
    if (prometheus.exitCode === null && prometheus.signalCode === null && prometheus.kill('SIGKILL')) await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // Scraped and stored before the block: the counter is there, at 0.
  await Promise.race([
    waitFor(answers(port, 'aiomonitor_eventloop_blocks_total', '0'), () => `Prometheus to store a first scrape; its log: ${log.slice(-2000)}`, PROMETHEUS_WAIT_MS),
    failed.then((error) => { throw new Error(`prometheus cannot run (Debian package prometheus): ${error.message}`); }),
  ]);
  fs.writeFileSync(trigger, '');
  await app.waitForOutput('block ended');
  await waitFor(answers(port, 'aiomonitor_eventloop_blocks_total', '1'), () => `Prometheus to see the block; its log: ${log.slice(-2000)}`, PROMETHEUS_WAIT_MS);
  assert.equal(await query(port, 'up{job="app"}'), '1');
});
