import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import { attach, idOf, ROOT, startApp, waitFor } from './helpers';

/** Asserts that `texts` appear in `output` in this order. */
function assertInOrder(output: string, texts: string[]): void {
  let from = 0;
  for (const text of texts) {
    const at = output.indexOf(text, from);
    assert.ok(at >= 0, `${JSON.stringify(text)} missing after position ${from} in:\n${output}`);
    from = at + text.length;
  }
}

const TASK_APP = `
const { task } = require(${JSON.stringify(ROOT)});
function step3() {
  setTimeout(function longWait() {}, 600000);
  console.log('ready');
}
async function step2() { await null; step3(); }
function step1() {
  return new Promise((resolve) => setTimeout(function hop1() {
    setImmediate(function hop2() { step2().then(resolve); });
  }, 5));
}
function startSync() {
  return task('sync', async () => { await step1(); await new Promise(() => {}); });
}
startSync();
`;

test('with MONITOR_TRACE=1, where shows the chain from a named task down to a timer made three hops below it', async (t) => {
  // Run from the temporary directory's parent, so that the app's files sit below the working directory.
  const { client } = await attach(t, TASK_APP, { env: { MONITOR_TRACE: '1' }, cwd: os.tmpdir() });
  const listing = await client.command('ps');
  const id = idOf(listing, /timeout\s+[\d.]+ m?s\s+longWait after 600000 ms/);
  const out = await client.command(`where ${id}`);
  assertInOrder(out, [
    `timeout ${id}: longWait`,
    'Created (most recent call last):',
    'task sync,', 'at startSync (',
    'Timeout,', 'at step1 (',
    'Timeout,', 'at step2 (', 'at step3 (',
  ]);
  assert.doesNotMatch(out, /node:internal|aiomonitor[\\/]dist/, 'the chain shows only the app\'s own frames');
  assert.match(out, /at step3 \(aiomonitor-test-\w+[\\/]app\.js:\d+:\d+\)/, 'paths below the working directory are relative');
  assert.match(await client.command('trace'), /^tracing is on since \d\d:\d\d:\d\d/);
  const task = await client.command(`where ${idOf(listing, /task\s+\d+ m?s\s+sync/)}`);
  assertInOrder(task, ['Created (most recent call last):', 'task sync,', 'at startSync (']);
});

const SIGNAL_APP = `
let made = 0;
function makeTimer() {
  made++;
  setTimeout(function madeOnSignal() {}, 600000 + made);
  console.log('made ' + made);
}
process.on('SIGUSR2', makeTimer);
setTimeout(function madeAtStart() {}, 600000);
console.log('ready');
`;

test('trace on and trace off switch tracing at run time; timers made meanwhile have a chain, others say why not', async (t) => {
  const { app, client } = await attach(t, SIGNAL_APP);
  assert.match(await client.command('trace'), /^tracing is off: trace on records where new tasks are created/);
  assert.match(await client.command('trace on'), /^✓ tracing on/);
  app.child.kill('SIGUSR2');
  await app.waitForOutput('made 1');
  let listing = await client.command('ps');
  const traced = await client.command(`where ${idOf(listing, /madeOnSignal after 600001 ms/)}`);
  assertInOrder(traced, ['Created (most recent call last):', 'Timeout,', 'makeTimer (']);
  const before = await client.command(`where ${idOf(listing, /madeAtStart/)}`);
  assert.match(before, /Created before tracing was on: run trace on, then look at tasks created after it/);

  assert.match(await client.command('trace off'), /^✓ tracing off/);
  assert.match(await client.command('trace'), /^tracing is off/);
  app.child.kill('SIGUSR2');
  await app.waitForOutput('made 2');
  listing = await client.command('ps');
  const untraced = await client.command(`where ${idOf(listing, /madeOnSignal after 600002 ms/)}`);
  assert.doesNotMatch(untraced, /Created/);
  assert.match(untraced, /callback: madeOnSignal/);
  assert.match(await client.command('trace maybe'), /✗? ?"maybe" is not on or off/);
});

test('a polling loop under tracing keeps its chain bounded: old links are dropped and the first one kept', async (t) => {
  const { client } = await attach(t, `
let rounds = 0;
function poll() {
  if (++rounds < 300) setTimeout(poll, 0);
  else { setTimeout(function lastPoll() {}, 600000); console.log('ready'); }
}
function startPolling() { setTimeout(poll, 0); }
startPolling();
`, { env: { MONITOR_TRACE: '1' } });
  const listing = await client.command('ps');
  const out = await client.command(`where ${idOf(listing, /lastPoll after 600000 ms/)}`);
  const blocks = out.split('\r\n').filter((line) => /^ {2}Timeout, /.test(line));
  assert.ok(blocks.length <= 25, `${blocks.length} links printed, more than the limit:\n${out}`);
  assertInOrder(out, ['Created (most recent call last):', 'Timeout,', 'at startPolling (', 'links omitted', 'Timeout,', 'Timeout.poll']);
  const omitted = Number(/… (\d+) links omitted …/.exec(out)?.[1]);
  assert.equal(omitted + blocks.length, 301, 'the links omitted and the links shown add up to the whole chain');
});

test('a bad MONITOR_TRACE is one line at startup, and the app runs without a monitor', async (t) => {
  const app = await startApp(`console.log('ran');`, { env: { MONITOR_TRACE: 'yes-bad-value' } });
  t.after(() => app.kill());
  await app.waitForExit();
  await waitFor(() => app.stderr().length > 0, () => 'a line on stderr');
  assert.equal(app.stderr(), 'aiomonitor: MONITOR_TRACE="yes-bad-value" is not a yes/no value; use 1 or 0 (true/false, yes/no, on/off); the app runs without a monitor\n');
  assert.equal(app.stdout(), 'ran\n');
});

test('with tracing on, where-terminated shows where a failed task was created and where it failed', async (t) => {
  const { client } = await attach(t, `
    const { task } = require(${JSON.stringify(ROOT)});
    async function fetchUsers() { await null; throw new Error('users API answered 503'); }
    function scheduleSync() {
      return task('sync-users', async () => { await new Promise((resolve) => setTimeout(resolve, 5)); await fetchUsers(); });
    }
    scheduleSync().catch(() => console.log('ready'));
    setInterval(() => {}, 1000);
  `, { env: { MONITOR_TRACE: '1' } });
  const finished = await client.command('ps-terminated --filter sync-users');
  const id = idOf(finished, /error +sync-users: Error: users API answered 503/);
  const out = await client.command(`where-terminated ${id}`);
  assertInOrder(out, [
    `task ${id}: sync-users`,
    'Ended (most recent call last):', 'at fetchUsers (', 'Error: users API answered 503',
    'Created (most recent call last):', 'task sync-users,', 'at scheduleSync (',
  ]);
  assert.doesNotMatch(out, /node:internal|aiomonitor[\\/]dist/, 'only the app\'s own frames');
});

test('with tracing on, a request on a keep-alive connection hangs under its connection, not under the request before it', async (t) => {
  const { client } = await attach(t, `
    const http = require('node:http');
    const server = http.createServer(function answerAllButSlow(req, res) {
      if (req.url !== '/slow') return res.end('ok');
      setTimeout(function answerLater() { res.end('late'); }, 600000);
      console.log('ready');
    });
    server.listen(0, '127.0.0.1', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const get = (path) => new Promise((resolve) => http.get({ port: server.address().port, host: '127.0.0.1', path, agent }, (res) => { res.resume(); res.on('end', resolve); }));
      for (const path of ['/first', '/second', '/third']) await get(path);
      get('/slow');
    });
  `, { env: { MONITOR_TRACE: '1' } });
  const listing = await client.command('ps --filter answerLater');
  const out = await client.command(`where ${idOf(listing, /answerLater/)}`);
  assertInOrder(out, ['Created (most recent call last):', 'TCPSERVERWRAP', 'TCPWRAP', 'http-in GET /slow,', 'Timeout,', 'answerAllButSlow (']);
  assert.doesNotMatch(out, /GET \/(first|second|third)/);
});

test('ps-terminated names a cleared timer by the callback and delay it was made with', async (t) => {
  const { client } = await attach(t, `
    const poll = setTimeout(function pollLater() {}, 60000);
    setInterval(() => {}, 1000);
    setTimeout(() => { clearTimeout(poll); console.log('ready'); }, 50);
  `, { env: { MONITOR_TRACE: '1' } });
  const finished = await client.commandUntil('ps-terminated', /pollLater/);
  assert.match(finished, /timeout\s.*ended\s+pollLater after 60000 ms/);
  assert.doesNotMatch(finished, /\(none\) after -1 ms/);
});
