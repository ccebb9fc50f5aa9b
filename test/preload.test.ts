import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test, type TestContext } from 'node:test';
import { connect, holdPort, REGISTER, startApp, waitFor, type App } from './helpers';

/** Starts an app under `-r aiomonitor/register` (or `nodeArgs`) and kills it when the test ends. */
async function launch(t: TestContext, source: string, options: { env?: NodeJS.ProcessEnv; nodeArgs?: string[]; name?: string } = {}): Promise<App> {
  // DEBUG cleared so that stderr holds only what the app or the monitor prints unasked.
  const app = await startApp(source, { ...options, env: { DEBUG: '', ...options.env } });
  t.after(() => app.kill());
  return app;
}

/** A file the test creates to tell an app to go on: the app polls for it, so nothing depends on timing. */
function flagFile(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-flag-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'go');
}

/** App source that waits for `flag` to exist, then runs `then`. */
function whenFlagged(flag: string, then: string): string {
  return `const fs = require('node:fs');
const poll = setInterval(() => {
  if (!fs.existsSync(${JSON.stringify(flag)})) return;
  clearInterval(poll);
  ${then}
}, 20);
`;
}

/** stderr split into its non-empty lines. */
function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

/** The TCP ports a process listens on, from /proc (Linux). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch { /* closed meanwhile */ }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = fs.readFileSync(table, 'utf8'); } catch { continue; }
    for (const row of text.split('\n').slice(1)) {
      const fields = row.trim().split(/\s+/);
      // local_address is field 1 (hex ip:port), st is field 3 (0A = LISTEN), inode is field 9.
      if (fields.length > 9 && fields[3] === '0A' && inodes.has(fields[9])) ports.push(parseInt(fields[1].split(':')[1], 16));
    }
  }
  return ports.sort((a, b) => a - b);
}

const BAD_ENV: [string, string][] = [['MONITOR_PORT', 'abc'], ['CONSOLE_PORT', '99999'], ['CONSOLE_ENABLED', 'maybe']];
const PLAIN_APP = `console.log('app ran'); process.exitCode = 4;`;

test('without the monitor, the plain app exits 4 (the baseline for the bad-setting cases)', async (t) => {
  const app = await launch(t, PLAIN_APP, { nodeArgs: [] });
  assert.deepEqual(await app.waitForExit(), { code: 4, signal: null });
  assert.equal(app.stdout(), 'app ran\n');
  assert.equal(app.stderr(), '');
});

for (const [name, value] of BAD_ENV) {
  test(`${name}=${value}: one aiomonitor line on stderr naming it, and the app runs as without the monitor`, async (t) => {
    const app = await launch(t, PLAIN_APP, { env: { [name]: value } });
    const exit = await app.waitForExit();
    assert.equal(app.stdout(), 'app ran\n');
    assert.deepEqual(exit, { code: 4, signal: null }, `stderr: ${app.stderr()}`);
    const errors = lines(app.stderr());
    assert.equal(errors.length, 1, `exactly one line on stderr, got: ${JSON.stringify(app.stderr())}`);
    assert.match(errors[0], /^aiomonitor:/);
    assert.ok(errors[0].includes(name), `the line names ${name}: ${errors[0]}`);
  });
}

test('monitor port already taken: one aiomonitor line naming the port, and the app runs normally', async (t) => {
  const taken = await holdPort(t);
  const flag = flagFile(t);
  const app = await launch(t, `console.log('app ran');\n${whenFlagged(flag, `console.log('app done');`)}`, { env: { MONITOR_PORT: String(taken) } });
  await app.waitForOutput('app ran');
  await waitFor(() => /^aiomonitor:/m.test(app.stderr()), () => `an aiomonitor line on stderr; stderr: ${app.stderr()}`);
  fs.writeFileSync(flag, '');
  const exit = await app.waitForExit();
  assert.deepEqual(exit, { code: 0, signal: null }, `stderr: ${app.stderr()}`);
  assert.equal(app.stdout(), 'app ran\napp done\n');
  const errors = lines(app.stderr());
  assert.equal(errors.length, 1, `exactly one line on stderr, got: ${JSON.stringify(app.stderr())}`);
  assert.match(errors[0], /^aiomonitor:/);
  assert.match(errors[0], new RegExp(`\\b${taken}\\b`), 'the line names the port');
});

test('CONSOLE_ENABLED=0: the monitor works, the console port does not listen, and `console` says it is disabled', async (t) => {
  const app = await launch(t, `setInterval(() => {}, 1000); console.log('app ran');`, { env: { CONSOLE_ENABLED: '0' } });
  const client = await connect(app.port);
  t.after(() => client.socket.destroy());
  // The console would listen before the prompt does, so by now it would be there.
  const refused = await new Promise<string>((resolve) => {
    const socket = net.connect(app.consolePort, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve('connected'); });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
  assert.equal(refused, 'ECONNREFUSED');
  const answer = await client.command('console');
  assert.match(answer, /console is disabled/i);
  // The session goes on.
  assert.match(await client.command('ps'), /task/);
  assert.equal(app.stderr(), '');
});

test('an app that ends by itself exits with its own code and prints nothing extra', async (t) => {
  const app = await launch(t, `setTimeout(() => { process.exitCode = 3; }, 50);`);
  assert.deepEqual(await app.waitForExit(), { code: 3, signal: null }, `stderr: ${app.stderr()}`);
  assert.doesNotMatch(app.stderr(), /debugger/i);
  assert.equal(app.stderr(), '');
  assert.equal(app.stdout(), '');
});

test('an uncaught exception still kills the app with exit code 1 and its message', async (t) => {
  const flag = flagFile(t);
  const app = await launch(t, whenFlagged(flag, `throw new Error('boom from the app');`));
  // Throw only once the monitor is surely running.
  const client = await connect(app.port);
  t.after(() => client.socket.destroy());
  fs.writeFileSync(flag, '');
  assert.deepEqual(await app.waitForExit(), { code: 1, signal: null }, `stderr: ${app.stderr()}`);
  assert.match(app.stderr(), /boom from the app/);
});

test('SIGTERM with no handler still kills the app by SIGTERM', async (t) => {
  const flag = flagFile(t);
  const app = await launch(t, whenFlagged(flag, `process.kill(process.pid, 'SIGTERM');`));
  const client = await connect(app.port);
  t.after(() => client.socket.destroy());
  fs.writeFileSync(flag, '');
  assert.deepEqual(await app.waitForExit(), { code: null, signal: 'SIGTERM' }, `stderr: ${app.stderr()}`);
});

test('ESM: node --import register app.mjs runs the monitor, and ps shows the app\'s interval by name', async (t) => {
  const app = await launch(t, `setInterval(function esmHeartbeat() {}, 1000);\nconsole.log('esm app ' + typeof import.meta.url);\n`, {
    nodeArgs: ['--import', pathToFileURL(REGISTER).href],
    name: 'app.mjs',
  });
  await app.waitForOutput('esm app string');
  const client = await connect(app.port);
  t.after(() => client.socket.destroy());
  const ps = await client.command('ps');
  assert.match(ps, /^\s*\d+\s+interval\s+.*esmHeartbeat/m, `ps output: ${ps}`);
  assert.equal(app.stderr(), '');
});

test('an app with its own worker threads: one monitor, few threads, ps lists the workers', async (t) => {
  const app = await launch(t, `
const { Worker } = require('node:worker_threads');
let online = 0;
for (let i = 0; i < 2; i++) {
  const worker = new Worker('setInterval(() => {}, 1000);', { eval: true });
  worker.on('online', () => { if (++online === 2) console.log('workers online'); });
  worker.on('error', (error) => console.error('worker failed: ' + error.message));
}
`);
  await app.waitForOutput('workers online');
  const client = await connect(app.port);
  t.after(() => client.socket.destroy());
  const pid = app.child.pid!;

  await t.test('the monitor starts once: its three servers are all the process listens on, and stderr is clean', () => {
    assert.deepEqual(listeningPorts(pid), [app.port, app.consolePort, app.webPort].sort((a, b) => a - b));
    assert.equal(app.stderr(), '');
  });

  await t.test('the thread count stays small', () => {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1]);
    assert.ok(Number.isInteger(threads), `no Threads line in ${status}`);
    assert.ok(threads < 40, `${threads} threads`);
  });

  await t.test('ps lists the two workers', async () => {
    const ps = await client.command('ps');
    const workers = ps.split('\n').filter((line) => /^\s*\d+\s+worker\b/.test(line));
    assert.equal(workers.length, 2, `ps output: ${ps}`);
  });
});

test('port 0: DEBUG=aiomonitor:main says where the monitor listens, and the prompt answers there', async (t) => {
  const app = await launch(t, `setInterval(() => {}, 1000);`, {
    env: { MONITOR_PORT: '0', CONSOLE_PORT: '0', DEBUG: 'aiomonitor:main' },
  });
  const pattern = /monitor on 127\.0\.0\.1:(\d+)/;
  await waitFor(() => pattern.test(app.stderr()), () => `"monitor on 127.0.0.1:PORT" on stderr; stderr: ${app.stderr()}`);
  const port = Number(pattern.exec(app.stderr())![1]);
  assert.ok(port > 0 && port <= 65535, `port ${port}`);
  const client = await connect(port);
  t.after(() => client.socket.destroy());
  assert.match(client.received(), /monitor >>> $/);
});
