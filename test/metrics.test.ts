import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { escapeHelp, escapeLabelValue, formatFamilies, formatValue, histogramLines, type Family } from '../src/commands/prometheus';
import { attach, waitFor, WAIT_MS, type App, type Client } from './helpers';

test('metrics: label values, help and values as the text format wants them', () => {
  const labels: [string, string][] = [
    ['plain', 'plain'],
    ['say "hi"', 'say \\"hi\\"'],
    ['C:\\temp', 'C:\\\\temp'],
    ['two\nlines', 'two\\nlines'],
    ['\\"\n', '\\\\\\"\\n'],
  ];
  for (const [value, escaped] of labels) assert.equal(escapeLabelValue(value), escaped, JSON.stringify(value));
  const helps: [string, string][] = [['a "quoted" word', 'a "quoted" word'], ['back\\slash\nnext', 'back\\\\slash\\nnext']];
  for (const [text, escaped] of helps) assert.equal(escapeHelp(text), escaped, JSON.stringify(text));
  const values: [number, string][] = [[0, '0'], [42, '42'], [0.001311035, '0.001311035'], [1e21, '1e+21'], [NaN, 'NaN'], [Infinity, '+Inf'], [-Infinity, '-Inf']];
  for (const [value, text] of values) assert.equal(formatValue(value), text, String(value));
});

test('metrics: a histogram is cumulative buckets up to +Inf, its sum and its count', () => {
  const rows: [Parameters<typeof histogramLines>, string[]][] = [
    [['lat_seconds', { bounds: [0.1, 1], counts: [2, 0, 1], sum: 3.5 }], [
      'lat_seconds_bucket{le="0.1"} 2', 'lat_seconds_bucket{le="1"} 2', 'lat_seconds_bucket{le="+Inf"} 3', 'lat_seconds_sum 3.5', 'lat_seconds_count 3',
    ]],
    [['gc_seconds', { labels: { kind: 'a"b' }, bounds: [0.001], counts: [0, 0], sum: 0 }], [
      'gc_seconds_bucket{kind="a\\"b",le="0.001"} 0', 'gc_seconds_bucket{kind="a\\"b",le="+Inf"} 0', 'gc_seconds_sum{kind="a\\"b"} 0', 'gc_seconds_count{kind="a\\"b"} 0',
    ]],
  ];
  for (const [args, lines] of rows) assert.deepEqual(histogramLines(...args), lines, args[0]);
});

test('metrics: each family has its HELP and TYPE, and a family without values is left out', () => {
  const families: Family[] = [
    { name: 'up_total', help: 'Ups.\nMany.', type: 'counter', samples: [{ value: 3 }] },
    { name: 'never_bytes', help: 'Not published yet.', type: 'gauge', samples: [] },
    { name: 'tasks', help: 'By type.', type: 'gauge', samples: [{ labels: { type: 'timeout' }, value: 2 }, { labels: { type: 'server' }, value: 1 }] },
    { name: 'empty_seconds', help: 'No series.', type: 'histogram', series: [] },
  ];
  assert.equal(formatFamilies(families), [
    '# HELP up_total Ups.\\nMany.', '# TYPE up_total counter', 'up_total 3',
    '# HELP tasks By type.', '# TYPE tasks gauge', 'tasks{type="timeout"} 2', 'tasks{type="server"} 1', '',
  ].join('\n'));
  assert.equal(formatFamilies([]), '');
});

// An HTTP app that blocks its loop when a file appears (for as many ms as the file says), and says when the block ends.
const APP = (dir: string): string => `
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const trigger = path.join(${JSON.stringify(dir)}, 'block');
function crunchNumbers(ms) { const start = Date.now(); while (Date.now() - start < ms); }
setInterval(function pollTrigger() {
  let ms;
  try { ms = Number(fs.readFileSync(trigger, 'utf8')); fs.rmSync(trigger); } catch { return; }
  crunchNumbers(ms);
  console.log('block ended');
}, 20);
const server = http.createServer((req, res) => res.end('ok')).listen(0, '127.0.0.1', () => {
  http.get('http://127.0.0.1:' + server.address().port + '/', (res) => { res.resume(); res.on('end', () => console.log('ready')); });
});
`;

/** The app, a session, and a way to block its loop. */
async function start(t: TestContext): Promise<{ app: App; client: Client; block(ms: number): void; blocksEnded(): number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-metrics-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { app, client } = await attach(t, APP(dir), { env: { DEBUG: '' } });
  return {
    app,
    client,
    block: (ms) => fs.writeFileSync(path.join(dir, 'block'), String(ms)),
    blocksEnded: () => app.stdout().split('block ended').length - 1,
  };
}

/** The exposition as a scraper gets it: the prompt's line ends are CRLF. */
async function scrape(client: Client): Promise<string> {
  return (await client.command('metrics')).replace(/\r\n/g, '\n');
}

/** The value of one series (`name` or `name{labels}`), or undefined when the text has no such line. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics in a live monitor', { timeout: WAIT_MS * 3 }, () => {
  test('promtool accepts the exposition, with no lint problems', async (t) => {
    const { client } = await start(t);
    const text = await scrape(client);
    assert.match(text, /^# HELP process_cpu_user_seconds_total /);
    assert.ok(text.endsWith('\n'), 'the last line ends with a line feed');
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(check.error, undefined, 'promtool runs (Debian package prometheus)');
    assert.deepEqual({ status: check.status, out: check.stdout + check.stderr }, { status: 0, out: '' }, text);
    // The main thread published (the first metrics waited for it): its figures are there, under prom-client's names.
    for (const series of ['nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_space_size_used_bytes{space="old"}', 'aiomonitor_tasks{type="server"}']) {
      assert.notEqual(value(text, series), undefined, series);
    }
    assert.equal(value(text, 'aiomonitor_http_requests_finished_total{type="http-in",outcome="done"}'), 1);
    const [major, minor, patch] = process.versions.node.split('.');
    assert.equal(value(text, `nodejs_version_info{version="${process.version}",major="${major}",minor="${minor}",patch="${patch}"}`), 1);
  });

  test('a block of the loop counts in the blocks counter and both histograms', async (t) => {
    const { client, block, blocksEnded } = await start(t);
    const before = await scrape(client);
    block(1000);
    await waitFor(() => blocksEnded() === 1, () => 'the block to end');
    const grew = (text: string, series: string): number => value(text.replace(/\r\n/g, '\n'), series)! - value(before, series)!;
    // It lasted at least 1 s less the half beat (25 ms) a block is assumed to have begun after the beat before it.
    const after = await client.commandUntil('metrics', (text) => grew(text, 'aiomonitor_eventloop_block_duration_seconds_sum') >= 0.95);
    assert.ok(grew(after, 'aiomonitor_eventloop_block_duration_seconds_count') >= 1, after);
    assert.ok(grew(after, 'aiomonitor_eventloop_blocks_total') >= 1, after);
    // The beat after it came at least 950 ms late.
    const late = (text: string): number => value(text, 'aiomonitor_eventloop_delay_seconds_count')! - value(text, 'aiomonitor_eventloop_delay_seconds_bucket{le="0.5"}')!;
    await client.commandUntil('metrics', (text) => late(text.replace(/\r\n/g, '\n')) > late(before));
  });

  test('metrics answers while the loop is blocked, without the main thread, before the block ends', async (t) => {
    const { app, client, block, blocksEnded } = await start(t);
    block(8000);
    await client.commandUntil('status', /^blocked for /);
    // Nobody asked before: the main thread has published nothing, and metrics does not wait for it.
    const text = await scrape(client);
    assert.equal(blocksEnded(), 0, `metrics answered only after the block ended: ${app.stdout()}`);
    assert.ok(value(text, 'aiomonitor_eventloop_stall_seconds')! > 0, text);
    assert.ok(value(text, 'nodejs_eventloop_lag_seconds')! > 0, text);
    assert.ok(value(text, 'process_resident_memory_bytes')! > 0, text);
    // Never published: left out, not shown as 0.
    assert.equal(value(text, 'nodejs_heap_size_used_bytes'), undefined, text);
    assert.equal(value(text, 'aiomonitor_main_thread_figures_age_seconds'), undefined, text);
    const doc = JSON.parse(await client.command('metrics --json')) as { fresh: boolean; blockedForMs: number; memory: { heapUsed: number | null } };
    assert.equal(blocksEnded(), 0, 'metrics --json answered only after the block ended');
    assert.equal(doc.fresh, false);
    assert.ok(doc.blockedForMs > 0);
    assert.equal(doc.memory.heapUsed, null);
  });

  test('metrics --json has the shape the page charts, and moves', async (t) => {
    const { client } = await start(t);
    const read = async (): Promise<Record<string, any>> => JSON.parse(await client.commandUntil('metrics --json', (text) => JSON.parse(text).fresh === true)) as Record<string, any>;
    const first = await read();
    assert.deepEqual(Object.keys(first), ['command', 'version', 'at', 'fresh', 'loop', 'memory', 'tasksByType', 'http', 'blocks', 'blockedForMs']);
    assert.equal(first.command, 'metrics');
    assert.equal(first.version, 1);
    assert.deepEqual(Object.keys(first.loop), ['delayMs', 'utilization']);
    assert.deepEqual(Object.keys(first.loop.delayMs), ['p50', 'p99', 'max']);
    assert.ok(first.loop.utilization >= 0 && first.loop.utilization <= 1);
    for (const field of ['rss', 'heapUsed', 'heapTotal']) assert.ok(first.memory[field] > 0, field);
    assert.equal(first.tasksByType.server, 1);
    assert.equal(typeof first.http.inFlight, 'number');
    assert.deepEqual(first.blocks, { total: first.blocks.total });
    assert.equal(first.blockedForMs, 0);
    const count = (text: string): number => value(text.replace(/\r\n/g, '\n'), 'aiomonitor_eventloop_delay_seconds_count')!;
    const beats = count(await client.command('metrics'));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const second = await read();
    assert.notEqual(second.at, first.at);
    assert.ok(Date.parse(second.at) > Date.parse(first.at));
    await client.commandUntil('metrics', (text) => count(text) > beats);
  });
});
