import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { attach, connect, ROOT, startApp, writeScript, type App, type Client } from './helpers';

const PACKAGE = JSON.stringify(ROOT);

// Tasks of each kind: one that watches its signal, one that ignores it, one that fails, and one ended by an outer signal.
const APP = `
const { task, track } = require(${PACKAGE});
function sleepUnlessAborted(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
  });
}
task('sync-users', async function syncUsers(signal) { await sleepUnlessAborted(600000, signal); })
  .catch((error) => console.log('sync-users ended: ' + error.name + ': ' + error.message));
task('stubborn', () => new Promise((resolve) => setTimeout(resolve, 600000)));
async function loadConfig() { await null; throw new Error('config file missing'); }
task('load-config', loadConfig).catch(() => {});
const shutdown = new AbortController();
task('poller', (signal) => sleepUnlessAborted(600000, signal), { signal: shutdown.signal }).catch(() => console.log('poller stopped'));
setTimeout(function stopPolling() { shutdown.abort(); }, 50);
// Work that was already running, tracked under a name: with the app's controller, and without one.
const download = new AbortController();
track(sleepUnlessAborted(600000, download.signal), { name: 'download', controller: download })
  .catch((error) => console.log('download ended: ' + error.message));
track(new Promise(() => {}), { name: 'legacy-job' });
const upload = new AbortController();
track(sleepUnlessAborted(600000, upload.signal), { name: 'upload', controller: upload }).catch(() => {});
setTimeout(function giveUpUpload() { upload.abort(); }, 50);
setTimeout(() => console.log('ready'), 200);
`;

function rowOf(listing: string, text: string): string[] {
  const line = listing.split('\r\n').find((row) => row.includes(text));
  assert.ok(line, `no row with ${text} in:\n${listing}`);
  return line.split(/\s+/);
}

describe('named tasks', () => {
  // One app for these tests: each cancels a task of its own (sync-users, stubborn, download), the others only read.
  let app: App;
  let client: Client;
  before(async () => {
    app = await startApp(APP);
    await app.waitForOutput('ready');
    client = await connect(app.port);
  });
  after(() => {
    client?.socket.destroy();
    app?.kill();
  });

  test('a named task shows in ps, is cancelled through its signal, and is then listed as cancelled', async () => {
    const listing = await client.command('ps');
    assert.match(listing, /TYPE +AGE +DESCRIPTION/);
    const [id, type] = rowOf(listing, 'sync-users (running)');
    assert.equal(type, 'task');

    const where = await client.command(`where ${id}`);
    assert.match(where, /state: running/);
    assert.match(where, /function defined at .*app\.js:9:/);

    assert.match(await client.command(`cancel ${id}`), /✓ cancelled task sync-users/);
    await app.waitForOutput('sync-users ended: AbortError: task "sync-users" was cancelled from the monitor');
    assert.doesNotMatch(await client.command('ps'), /sync-users/);

    const finished = await client.command('ps-terminated');
    assert.match(finished, new RegExp(`^${id} +task .* cancelled +sync-users`, 'm'));
    const how = await client.command(`where-terminated ${id}`);
    assert.match(how, /cancelled at .* after running/);
    assert.match(how, /cancelled by: monitor session from 127\.0\.0\.1:\d+/);
  });

  test('a task that ignores its signal is reported as still running, and stays in ps as cancelling', async () => {
    const [id] = rowOf(await client.command('ps'), 'stubborn');
    assert.match(await client.command(`cancel ${id}`), /✓ aborted the signal of task stubborn; it is still running: its code does not watch its signal/);
    assert.match(await client.command('ps'), /stubborn \(cancelling for /);
    assert.match(await client.command(`cancel ${id}`), /✗ task stubborn is already cancelled/);
  });

  test('a failed task shows its error and where it was thrown, most recent call last', async () => {
    const finished = await client.command('pt');
    const [id] = rowOf(finished, 'load-config');
    assert.match(finished, /error +load-config: Error: config file missing/);
    const how = await client.command(`wt ${id}`);
    assert.match(how, /error: Error: config file missing/);
    const lines = how.split('\r\n');
    const frame = lines.findIndex((line) => /at loadConfig \(.*app\.js:12:/.test(line));
    assert.ok(frame > 0, how);
    assert.match(lines[frame + 1], /^ *Error: config file missing/, 'the error comes after its frames');
  });

  test('a task ended by the signal passed to task() names that signal and the code that aborted it', async () => {
    const [id] = rowOf(await client.command('pst'), 'poller');
    const how = await client.command(`where-terminated ${id}`);
    assert.match(how, /cancelled by: the signal passed to task\(\)/);
    assert.match(how, /stopPolling/);
  });

  test('track() lists running work by name: cancel aborts its controller, or says there is none', async () => {
    const listing = await client.command('ps');
    const [download] = rowOf(listing, 'download (running)');
    const [legacy] = rowOf(listing, 'legacy-job (running)');
    assert.match(await client.command(`cancel ${download}`), /✓ cancelled task download/);
    await app.waitForOutput('download ended: task "download" was cancelled from the monitor');
    assert.match(await client.command(`cancel ${legacy}`), /✗ task legacy-job cannot be cancelled: it was tracked without an AbortController; pass \{ controller \} to track\(\)/);
    assert.match(await client.command(`where ${legacy}`), /cancellable: no/);

    const [upload] = rowOf(await client.command('pt'), 'upload');
    const how = await client.command(`wt ${upload}`);
    assert.match(how, /cancelled by: its AbortController, aborted by the app/);
    assert.match(how, /giveUpUpload/);
  });

  test('ps sorts, limits, and prints JSON that parses', async () => {
    const oldestFirst = await client.command('ps --sort age --limit 1');
    assert.match(oldestFirst, /tasks \(.*\); showing 1/);
    assert.equal(oldestFirst.trim().split('\r\n').length, 3, oldestFirst);
    assert.match(await client.command('ps --sort size'), /✗ ps: --sort takes age, type or name, got "size"/);
    assert.match(await client.command('ps -n 0'), /✗ ps: --limit takes a number of rows from 1/);

    const ps = JSON.parse(await client.command('ps --json'));
    assert.equal(ps.command, 'ps');
    assert.equal(ps.version, 1);
    const stubborn = ps.tasks.find((row: { name: string }) => row.name === 'stubborn');
    assert.equal(stubborn.type, 'task');
    assert.equal(typeof stubborn.ageMs, 'number');
    assert.equal(ps.byType.task, ps.tasks.filter((row: { type: string }) => row.type === 'task').length);

    const ended = JSON.parse(await client.command('ps-terminated --json'));
    const failed = ended.tasks.find((row: { name: string }) => row.name === 'load-config');
    assert.equal(failed.outcome, 'error');
    assert.equal(failed.detail, 'Error: config file missing');
    const detail = JSON.parse(await client.command(`where-terminated ${failed.id} --json`));
    assert.match(detail.task.stack, /loadConfig/);
  });

  test('the history keeps only the newest MONITOR_MAX_TERMINATION_HISTORY tasks', async (t) => {
    const source = `
      const { task } = require(${PACKAGE});
      (async () => {
        for (let i = 1; i <= 5; i++) await task('job-' + i, () => i);
        setInterval(() => {}, 1000);
        console.log('ready');
      })();
    `;
    const { client } = await attach(t, source, { env: { MONITOR_MAX_TERMINATION_HISTORY: '2' } });
    const finished = await client.command('ps-terminated');
    assert.match(finished, /^2 finished tasks \(2 done\)/);
    assert.match(finished, /job-5/);
    assert.match(finished, /job-4/);
    assert.doesNotMatch(finished, /job-3/);
  });

  test('a failed task whose promise the app ignores is an unhandled rejection, as without the monitor', async (t) => {
    const app = await startApp(`
      const { task } = require(${PACKAGE});
      task('ignored', async () => { throw new Error('nobody listens'); });
      setInterval(() => {}, 1000);
    `);
    t.after(() => app.kill());
    const exit = await app.waitForExit();
    assert.equal(exit.code, 1);
    assert.match(app.stderr(), /Error: nobody listens/);
  });

  test('task() just runs its function when no monitor is running, and checks its arguments', () => {
    const file = writeScript(`
      const { task } = require(${PACKAGE});
      for (const bad of [() => task('', () => 1), () => task('x', 5), () => task('two\\nlines', () => 1)]) {
        try { bad(); } catch (error) { console.log(error.name + ': ' + error.message); }
      }
      task('answer', async (signal) => (signal instanceof AbortSignal ? 42 : 0)).then((value) => console.log('value ' + value));
    `);
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8' });
    assert.equal(out.match(/TypeError: task\(name, fn\): name must be a non-empty string of one line/g)?.length, 2, out);
    assert.match(out, /TypeError: task\("x", fn\): fn must be a function that takes an AbortSignal/);
    assert.match(out, /value 42/);
  });

  test('one registry per process: a task from another copy of the package, loaded by import, shows in the preload\'s monitor', async (t) => {
    // A second installed copy of the package, as when the app depends on aiomonitor and the preload comes from elsewhere.
    const project = fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-copy-'));
    t.after(() => fs.rmSync(project, { recursive: true, force: true }));
    const copy = path.join(project, 'node_modules', 'aiomonitor');
    fs.mkdirSync(copy, { recursive: true });
    fs.cpSync(path.join(ROOT, 'package.json'), path.join(copy, 'package.json'));
    fs.cpSync(path.join(ROOT, 'dist'), path.join(copy, 'dist'), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    const app = await startApp(`
      import { task } from 'aiomonitor';
      task('from-the-copy', () => new Promise(() => {}));
      setInterval(() => {}, 1000);
      console.log('ready');
    `, { name: 'app.mjs', dir: project });
    t.after(() => app.kill());
    await app.waitForOutput('ready');
    const client = await connect(app.port);
    t.after(() => client.socket.destroy());
    assert.match(await client.command('ps'), /task +\d+ (ms|s) +from-the-copy \(running\)/);
  });
});
