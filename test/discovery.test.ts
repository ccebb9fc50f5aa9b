import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { runList, type ListEntry } from '../src/client/list';
import { discoveryDir, processStartTime, recordPath, writeRecord, type MonitorRecord } from '../src/shared/discovery';
import { connect, ENTRY, freePort, holdPort, startApp, waitFor, type App, type AppOptions } from './helpers';

// This file's own runtime directory: runList reads process.env, and no other test's monitors (nor the machine's) show.
const RUNTIME = fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-discovery-'));
process.env.XDG_RUNTIME_DIR = RUNTIME;
delete process.env.MONITOR_TOKEN;
const DIR = discoveryDir({ XDG_RUNTIME_DIR: RUNTIME });
test.after(() => fs.rmSync(RUNTIME, { recursive: true, force: true }));

async function list(token?: string): Promise<ListEntry[]> {
  let text = '';
  const out = new Writable({ write(chunk: Buffer, _encoding, done) { text += chunk.toString(); done(); } });
  assert.equal(await runList({ json: true, token }, out), 0);
  return JSON.parse(text) as ListEntry[];
}

async function listed(pid: number, token?: string): Promise<ListEntry | undefined> {
  return (await list(token)).find((entry) => entry.pid === pid);
}

/** Starts an app in this file's runtime directory; it exits when `flag` appears, if given, and is killed after the test. */
async function launch(t: TestContext, source: string, options: AppOptions = {}): Promise<App> {
  const app = await startApp(source, { ...options, env: { XDG_RUNTIME_DIR: RUNTIME, ...options.env } });
  t.after(() => app.kill());
  return app;
}

const exitOn = (flag: string): string => `
const poll = setInterval(() => { if (require('node:fs').existsSync(${JSON.stringify(flag)})) process.exit(0); }, 20);
console.log('ready');
`;

function flagFile(): string {
  return path.join(fs.mkdtempSync(path.join(RUNTIME, 'flag-')), 'go');
}

const recordOf = (pid: number): string => recordPath(DIR, pid);
const haveRecord = (app: App) => waitFor(() => fs.existsSync(recordOf(app.child.pid!)), () => `the record of ${app.child.pid}; stderr: ${app.stderr()}`);

test('an app under the preload is listed with its port and state idle; its record goes when it exits', async (t) => {
  const flag = flagFile();
  const app = await launch(t, exitOn(flag), { name: 'server.js' });
  await app.waitForOutput('ready');
  await haveRecord(app);
  assert.equal(fs.statSync(DIR).mode & 0o777, 0o700);
  assert.equal(fs.statSync(recordOf(app.child.pid!)).mode & 0o777, 0o600);
  const record = JSON.parse(fs.readFileSync(recordOf(app.child.pid!), 'utf8')) as MonitorRecord;
  assert.deepEqual(record.monitor, { host: '127.0.0.1', port: app.port });
  assert.deepEqual(record.console, { host: '127.0.0.1', port: app.consolePort });
  assert.deepEqual(record.web, { host: '127.0.0.1', port: app.webPort });
  assert.equal(record.procStart, processStartTime(app.child.pid!));
  assert.equal(record.tokenRequired, false);
  const entry = await listed(app.child.pid!);
  assert.ok(entry, 'the app is listed');
  assert.equal(entry.monitor, `127.0.0.1:${app.port}`);
  assert.equal(entry.state, 'idle');
  assert.equal(entry.status?.pid, app.child.pid);
  assert.match(entry.runs[0]!, /server\.js$/);
  assert.equal(entry.attach, null);
  fs.writeFileSync(flag, '');
  assert.deepEqual(await app.waitForExit(), { code: 0, signal: null });
  assert.equal(fs.existsSync(recordOf(app.child.pid!)), false, 'the record is removed on exit');
  assert.equal(app.stderr(), '');
});

test('SIGTERM: the record of a socket monitor goes at once; a TCP monitor\'s is pruned by the next reader', async (t) => {
  const socketApp = await launch(t, exitOn(flagFile()), { env: { MONITOR_PATH: path.join(RUNTIME, `m${process.pid}.sock`), CONSOLE_ENABLED: '0' } });
  const tcpApp = await launch(t, exitOn(flagFile()));
  for (const app of [socketApp, tcpApp]) await haveRecord(app);
  assert.equal((await listed(socketApp.child.pid!))?.monitor, path.join(RUNTIME, `m${process.pid}.sock`));
  for (const app of [socketApp, tcpApp]) app.child.kill('SIGTERM');
  for (const app of [socketApp, tcpApp]) assert.deepEqual(await app.waitForExit(), { code: null, signal: 'SIGTERM' });
  assert.equal(fs.existsSync(recordOf(socketApp.child.pid!)), false, 'removed as the signal ended the process');
  const entries = await list();
  for (const app of [socketApp, tcpApp]) {
    assert.equal(entries.some((entry) => entry.pid === app.child.pid), false);
    assert.equal(fs.existsSync(recordOf(app.child.pid!)), false);
  }
});

test('a record whose process is gone, or whose pid is another process now, is pruned', async (t) => {
  const dead = spawn(process.execPath, ['-e', '']);
  await once(dead, 'exit');
  const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
  t.after(() => other.kill('SIGKILL'));
  await waitFor(() => processStartTime(other.pid!) !== null, () => 'the other process to start');
  const fake = (pid: number, procStart: number | null): MonitorRecord => ({
    version: 1, pid, ppid: 1, script: '/gone/app.js', argv: [], cwd: '/', node: process.version, startedAt: Date.now() - 1000,
    procStart, monitor: { host: '127.0.0.1', port: 9 }, console: null, tokenRequired: false,
  });
  writeRecord(fake(dead.pid!, 1), DIR);
  writeRecord(fake(other.pid!, processStartTime(other.pid!)! - 1), DIR);
  const entries = await list();
  assert.equal(fs.existsSync(recordOf(dead.pid!)), false, 'dead pid pruned');
  assert.equal(fs.existsSync(recordOf(other.pid!)), false, 'reused pid pruned');
  assert.equal(entries.some((entry) => entry.pid === dead.pid), false);
  // The reused pid is a Node process without a monitor, and is listed as one.
  const entry = entries.find((candidate) => candidate.pid === other.pid);
  assert.equal(entry?.state, 'no monitor');
});

test('two apps on the default port: the second listens on a free one, says so in one line, and both are listed', async (t) => {
  const defaults = { AIOMONITOR_TEST_DEFAULT_PORT: String(await freePort()), AIOMONITOR_TEST_DEFAULT_CONSOLE_PORT: String(await freePort()) };
  const env = { ...defaults, MONITOR_PORT: '', CONSOLE_PORT: '' };
  const first = await launch(t, exitOn(flagFile()), { env });
  await haveRecord(first);
  const second = await launch(t, exitOn(flagFile()), { env });
  await haveRecord(second);
  const taken = `${defaults.AIOMONITOR_TEST_DEFAULT_PORT} and ${defaults.AIOMONITOR_TEST_DEFAULT_CONSOLE_PORT}`;
  assert.equal(first.stderr(), '');
  assert.match(second.stderr(), new RegExp(`^aiomonitor: ports ${taken} are taken \\(by another monitor\\?\\); this one listens on 127\\.0\\.0\\.1:(\\d+) \\(console 127\\.0\\.0\\.1:\\d+\\) — find it with aiomon\\n$`));
  const port = Number(/listens on 127\.0\.0\.1:(\d+)/.exec(second.stderr())![1]);
  const entries = await list();
  assert.equal(entries.find((entry) => entry.pid === first.child.pid)?.monitor, `127.0.0.1:${defaults.AIOMONITOR_TEST_DEFAULT_PORT}`);
  const moved = entries.find((entry) => entry.pid === second.child.pid);
  assert.equal(moved?.monitor, `127.0.0.1:${port}`);
  assert.equal(moved?.state, 'idle');
  const client = await connect(port);
  t.after(() => client.socket.destroy());
  assert.match(await client.command('status'), /^idle:/);
});

test('a port set explicitly and taken is still an error, and leaves no record', async (t) => {
  const taken = await holdPort(t);
  const flag = flagFile();
  const app = await launch(t, exitOn(flag), { env: { MONITOR_PORT: String(taken) } });
  await waitFor(() => /^aiomonitor:/m.test(app.stderr()), () => `an aiomonitor line; stderr: ${app.stderr()}`);
  assert.equal(app.stderr(), `aiomonitor: cannot listen for the monitor on 127.0.0.1:${taken}: the port is already in use (another monitor, or another app); choose another port (0 picks a free one); the app runs without a monitor\n`);
  assert.equal(fs.existsSync(recordOf(app.child.pid!)), false);
  fs.writeFileSync(flag, '');
  assert.deepEqual(await app.waitForExit(), { code: 0, signal: null });
});

test('an app blocked in a loop is listed as blocked; one that needs a token says so', async (t) => {
  const spin = await launch(t, 'setTimeout(function spin() { for (;;); }, 50);\n');
  const locked = await launch(t, exitOn(flagFile()), { env: { MONITOR_TOKEN: 'sekrit-123' } });
  for (const app of [spin, locked]) await haveRecord(app);
  assert.equal(fs.readFileSync(recordOf(locked.child.pid!), 'utf8').includes('sekrit'), false, 'the record never holds the token');
  let entry: ListEntry | undefined;
  // Blocked at once; where, once the watchdog has read the stack.
  await waitFor(async () => (entry = await listed(spin.child.pid!))?.state === 'blocked' && entry?.status?.where !== undefined, () => `state blocked with where; last: ${JSON.stringify(entry)}`);
  assert.match(String(entry?.status?.where), /^spin \(/);
  assert.equal((await listed(locked.child.pid!))?.state, 'token needed');
  assert.equal((await listed(locked.child.pid!, 'wrong'))?.state, 'wrong token');
  assert.equal((await listed(locked.child.pid!, 'sekrit-123'))?.state, 'idle');
});

test('an app whose environment names another directory (a service without XDG_RUNTIME_DIR) is found there', async (t) => {
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-elsewhere-'));
  t.after(() => fs.rmSync(elsewhere, { recursive: true, force: true }));
  const app = await launch(t, exitOn(flagFile()), { env: { XDG_RUNTIME_DIR: elsewhere } });
  await app.waitForOutput('ready');
  const itsRecord = recordPath(discoveryDir({ XDG_RUNTIME_DIR: elsewhere }), app.child.pid!);
  await waitFor(() => fs.existsSync(itsRecord), () => `the record in the app's own directory; stderr: ${app.stderr()}`);
  const entry = await listed(app.child.pid!);
  assert.equal(entry?.monitor, `127.0.0.1:${app.port}`);
  assert.equal(entry?.state, 'idle');
});

test('a plain node app without a monitor is listed as such, with the command that attaches one', async (t) => {
  const plain = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'plain-arg'], { stdio: 'ignore' });
  t.after(() => plain.kill('SIGKILL'));
  await once(plain, 'spawn');
  let entry: ListEntry | undefined;
  await waitFor(async () => (entry = await listed(plain.pid!)) !== undefined, () => 'the plain app to be listed');
  assert.equal(entry?.state, 'no monitor');
  assert.equal(entry?.monitor, null);
  assert.equal(entry?.attach, `aiomon attach ${plain.pid}`);
  assert.deepEqual(entry?.runs, ['-e', 'plain-arg']);
  assert.equal((await list()).some((candidate) => candidate.pid === process.pid), false, 'aiomon itself is not listed');
});

test('the API\'s monitor has its record, gone on close(); a directory that is not private gets no record', async (t) => {
  const flag = flagFile();
  const api = await launch(t, `
const { startMonitor } = require(${JSON.stringify(ENTRY)});
const monitor = startMonitor({ port: 0, consoleEnabled: false });
monitor.ready.then(() => console.log('ready'));
const poll = setInterval(() => { if (require('node:fs').existsSync(${JSON.stringify(flag)})) { clearInterval(poll); monitor.close().then(() => console.log('closed')); } }, 20);
setInterval(() => {}, 1000);
`, { nodeArgs: [] });
  await api.waitForOutput('ready');
  await haveRecord(api);
  fs.writeFileSync(flag, '');
  await api.waitForOutput('closed');
  assert.equal(fs.existsSync(recordOf(api.child.pid!)), false);

  const open = fs.mkdtempSync(path.join(RUNTIME, 'open-'));
  fs.mkdirSync(path.join(open, 'aiomonitor'), { mode: 0o755 });
  fs.chmodSync(path.join(open, 'aiomonitor'), 0o755);
  const app = await launch(t, exitOn(flagFile()), { env: { XDG_RUNTIME_DIR: open } });
  await waitFor(() => app.stderr().includes('\n'), () => `a line on stderr; stderr: ${app.stderr()}`);
  assert.match(app.stderr(), /^aiomonitor: cannot write the record aiomon finds monitors by \(.*is not a private directory.*\); the monitor runs on, but aiomon ls will not list it\n$/);
  assert.deepEqual(fs.readdirSync(path.join(open, 'aiomonitor')), []);
  const client = await connect(app.port);
  t.after(() => client.socket.destroy());
  assert.match(await client.command('status'), /^idle:/);
});

test('cluster workers each have their own record', async (t) => {
  const app = await launch(t, `
const cluster = require('node:cluster');
if (cluster.isPrimary) {
  cluster.fork().on('online', () => console.log('ready'));
  setInterval(() => {}, 1000);
} else {
  setInterval(() => {}, 1000);
}
`, { env: { MONITOR_PORT: '0', CONSOLE_ENABLED: '0' } });
  await app.waitForOutput('ready');
  await haveRecord(app);
  let worker: ListEntry | undefined;
  await waitFor(async () => (worker = (await list()).find((entry) => entry.ppid === app.child.pid && entry.monitor !== null)) !== undefined, () => 'the worker\'s record');
  const primary = await listed(app.child.pid!);
  assert.equal(primary?.state, 'idle');
  assert.equal(worker?.state, 'idle');
  assert.notEqual(worker?.monitor, primary?.monitor);
  assert.equal(app.stderr(), '');
});
