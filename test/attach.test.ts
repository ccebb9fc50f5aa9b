import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { AttachError, attachToPid } from '../src/client/attach';
import { openPrompt, type PromptConnection } from '../src/client/connection';
import { processStartTime, writeRecord } from '../src/shared/discovery';
import { describeEndpoint, type Endpoint } from '../src/shared/config';
import { alive, connect, freePort, holdPort, REGISTER, startApp, waitFor, type App } from './helpers';

// Records are read from, and the apps would write theirs to, a directory of this test alone.
const RUNTIME_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-attach-'));
process.env.XDG_RUNTIME_DIR = RUNTIME_DIR;
const ENV = { XDG_RUNTIME_DIR: RUNTIME_DIR };
// Port 0: SIGUSR1 opens the inspector on a free port, so that parallel tests never meet on 9229.
const PLAIN = ['--inspect-port=0'];

/** Starts `source` with plain node (no preload) and waits until it has printed `ready`. */
async function startPlain(t: TestContext, source: string, options: { name?: string; nodeArgs?: string[] } = {}): Promise<App> {
  const app = await startApp(source, { nodeArgs: options.nodeArgs ?? PLAIN, env: ENV, ...(options.name && { name: options.name }) });
  t.after(() => app.kill());
  await app.waitForOutput('ready');
  return app;
}

async function prompt(t: TestContext, endpoint: Endpoint): Promise<PromptConnection> {
  const connection = await openPrompt(endpoint);
  t.after(() => connection.close());
  return connection;
}

/** The inspector's port, from the line Node prints on the app's stderr when SIGUSR1 opens it. */
function inspectorPort(app: App): number {
  const match = /Debugger listening on ws:\/\/[^:]+:(\d+)\//.exec(app.stderr());
  assert.ok(match, `the app's stderr names the inspector: ${app.stderr()}`);
  return Number(match[1]);
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(false); });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

/** The one line an attach fails with. */
async function attachFails(pid: number, pattern: RegExp, log?: (line: string) => void, port?: number): Promise<string> {
  const error = await attachToPid(pid, { ...(log && { log }), ...(port !== undefined && { port }) }).then(() => null, (caught: unknown) => caught);
  assert.ok(error instanceof AttachError, `an AttachError, got ${String(error)}`);
  assert.match(error.message, pattern);
  assert.doesNotMatch(error.message, /\n/);
  return error.message;
}

test('a CommonJS app started with plain node: attached, ps and stacktrace answer, the inspector is closed again', async (t) => {
  const app = await startPlain(t, `
setInterval(function crunch() { const end = Date.now() + 100; while (Date.now() < end); }, 150);
console.log('ready');
`);
  const started = Date.now();
  const { endpoint, tokenRequired } = await attachToPid(app.child.pid!, {});
  t.diagnostic(`attached in ${Date.now() - started} ms at ${describeEndpoint(endpoint)}`);
  assert.equal(tokenRequired, false);
  assert.ok('host' in endpoint && endpoint.host === '127.0.0.1' && endpoint.port > 0);
  const port = inspectorPort(app);
  await waitFor(() => refused(port), () => `the inspector's port ${port} to refuse connections`);
  const connection = await prompt(t, endpoint);
  assert.match(await connection.run('ps'), /interval\s+crunch every 150 ms/);
  // The monitor thread's own inspector session to the main thread outlives the closed inspector server.
  let stack = '';
  await waitFor(async () => /at crunch \(/.test(stack = await connection.run('stacktrace')), () => `stacktrace to show crunch; last: ${stack}`);
  // A second attach finds the monitor the first one started.
  const again = await attachToPid(app.child.pid!, {});
  assert.deepEqual(again.endpoint, endpoint);
  await waitFor(() => refused(port), () => `the inspector's port ${port} to refuse connections after the second attach`);
});

test('an ES module app started with plain node is attached on the port asked for', async (t) => {
  const app = await startPlain(t, `
import { setInterval } from 'node:timers';
setInterval(function tick() {}, 1000);
console.log('ready');
`, { name: 'app.mjs' });
  const port = await freePort();
  const { endpoint } = await attachToPid(app.child.pid!, { port });
  assert.deepEqual(endpoint, { host: '127.0.0.1', port });
  const connection = await prompt(t, endpoint);
  assert.match(await connection.run('ps'), /interval\s+tick every 1000 ms/);
  assert.match(await connection.run('stacktrace'), /The event loop is idle|Main thread \(pid \d+\)/);
  const inspector = inspectorPort(app);
  await waitFor(() => refused(inspector), () => `the inspector's port ${inspector} to refuse connections`);
});

test('a monitor that cannot listen: one line, the inspector closes, and a second attach on a free port works', async (t) => {
  const app = await startPlain(t, `setInterval(function tick() {}, 1000);\nconsole.log('ready');\n`);
  const taken = await holdPort(t);
  await attachFails(app.child.pid!, new RegExp(`^the monitor could not start in process \\d+: .*${taken}`), undefined, taken);
  const port = inspectorPort(app);
  await waitFor(() => refused(port), () => `the inspector's port ${port} to refuse connections`);
  const { endpoint } = await attachToPid(app.child.pid!, {});
  const connection = await prompt(t, endpoint);
  assert.match(await connection.run('ps'), /tick every 1000 ms/);
});

test('an app started with --inspect keeps its inspector open', async (t) => {
  const app = await startPlain(t, `setInterval(function tick() {}, 1000);\nconsole.log('ready');\n`, { nodeArgs: ['--inspect=127.0.0.1:0'] });
  await waitFor(() => /Debugger listening/.test(app.stderr()), () => `the inspector to open; stderr: ${app.stderr()}`);
  const { endpoint } = await attachToPid(app.child.pid!, {});
  const connection = await prompt(t, endpoint);
  assert.match(await connection.run('ps'), /tick every 1000 ms/);
  assert.equal(await refused(inspectorPort(app)), false);
});

test('a main thread blocked in JavaScript: its stack goes to the log, the attach fails with one line, the inspector closes once it returns', async (t) => {
  const flag = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-attach-flag-')), 'release');
  const app = await startPlain(t, `
const fs = require('node:fs');
setInterval(() => {}, 1000);
function spinUntilReleased() { while (!fs.existsSync(${JSON.stringify(flag)})); }
setTimeout(spinUntilReleased, 50);
console.log('ready');
`);
  const lines: string[] = [];
  await attachFails(app.child.pid!, /^the main thread of process \d+ is blocked, so the monitor could not start; try again when it returns$/, (line) => lines.push(line));
  // The pause may land inside existsSync, above the spinning function.
  assert.equal(lines[0], 'the main thread is blocked here:');
  assert.match(lines.join('\n'), /\n {2}at spinUntilReleased \(.*app\.js:4:\d+\)/);
  fs.writeFileSync(flag, '');
  const port = inspectorPort(app);
  await waitFor(() => refused(port), () => `the inspector's port ${port} to refuse connections once the loop returns`);
  assert.ok(alive(app.child.pid!));
});

test('a pid that is not Node, or gone, gets one line', async (t) => {
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.after(() => sleeper.kill('SIGKILL'));
  await once(sleeper, 'spawn');
  await attachFails(sleeper.pid!, /^process \d+ is not a Node\.js process \(sleep\); give the pid of a node process$/);
  const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(gone, 'exit');
  await attachFails(gone.pid!, /^no process \d+; check the pid/);
  await attachFails(-1, /^-1 is not a process id/);
});

test('an app started with --disable-sigusr1 gets one line and lives on', async (t) => {
  if (!process.allowedNodeEnvironmentFlags.has('--disable-sigusr1')) {
    t.skip(`Node ${process.version} has no --disable-sigusr1 (it came in 22.14 and 23.7)`);
    return;
  }
  const app = await startPlain(t, `setInterval(() => {}, 1000);\nconsole.log('ready');\n`, { nodeArgs: ['--disable-sigusr1'] });
  await attachFails(app.child.pid!, /^process \d+ runs with --disable-sigusr1, so SIGUSR1 cannot open its inspector/);
  assert.ok(alive(app.child.pid!));
});

test("an app that takes SIGUSR1 for itself gets one line", async (t) => {
  const app = await startPlain(t, `process.on('SIGUSR1', () => console.log('usr1'));\nsetInterval(() => {}, 1000);\nconsole.log('ready');\n`);
  await attachFails(app.child.pid!, /^SIGUSR1 opened no inspector in process \d+ within 3 s: the app handles SIGUSR1 itself/);
  await app.waitForOutput('usr1');
});

test('an app already under the monitor: its record tells the endpoint, and no SIGUSR1 is sent', async (t) => {
  const app = await startApp(`setInterval(() => {}, 1000);\nconsole.log('ready');\n`, { nodeArgs: ['-r', REGISTER, ...PLAIN], env: ENV });
  t.after(() => app.kill());
  await app.waitForOutput('ready');
  (await connect(app.port)).socket.destroy();
  const pid = app.child.pid!;
  // Until the preload writes its record itself, the test writes the one it would.
  if (!fs.existsSync(path.join(RUNTIME_DIR, 'aiomonitor', `${pid}.json`))) {
    writeRecord({
      version: 1, pid, ppid: process.pid, script: null, argv: [], cwd: process.cwd(), node: process.version, startedAt: Date.now(),
      procStart: processStartTime(pid), monitor: { host: '127.0.0.1', port: app.port }, console: { host: '127.0.0.1', port: app.consolePort }, tokenRequired: false,
    }, path.join(RUNTIME_DIR, 'aiomonitor'));
  }
  const { endpoint, tokenRequired } = await attachToPid(pid, {});
  assert.deepEqual(endpoint, { host: '127.0.0.1', port: app.port });
  assert.equal(tokenRequired, false);
  const connection = await prompt(t, endpoint);
  assert.match(await connection.run('ps'), /interval/);
  assert.doesNotMatch(app.stderr(), /Debugger listening/);
});

test('an app under the monitor that left no record gets one line, and no second monitor', async (t) => {
  const app = await startApp(`setInterval(() => {}, 1000);\nconsole.log('ready');\n`, { nodeArgs: ['-r', REGISTER, ...PLAIN], env: ENV });
  t.after(() => app.kill());
  await app.waitForOutput('ready');
  (await connect(app.port)).socket.destroy();
  fs.rmSync(path.join(RUNTIME_DIR, 'aiomonitor', `${app.child.pid}.json`), { force: true });
  await attachFails(app.child.pid!, /^process \d+ already runs the monitor \(started by -r aiomonitor\/register\) but left no record; connect to its port/);
  const port = inspectorPort(app);
  await waitFor(() => refused(port), () => `the inspector's port ${port} to refuse connections`);
});
