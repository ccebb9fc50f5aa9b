import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { startMonitor } from '../src/main/index';
import { connect, freePort, refuses, SHORT_DEADLINE_MS, startApp, waitFor, WAIT_MS, type App, type AppOptions } from './helpers';

const IDLE_APP = 'setInterval(function pollQueue() {}, 1000); console.log("ready");';

async function launch(t: TestContext, env: NodeJS.ProcessEnv, source = IDLE_APP, options: AppOptions = {}): Promise<App> {
  const app = await startApp(source, { ...options, env: { DEBUG: '', ...env } });
  t.after(() => app.kill());
  await app.waitForOutput('ready');
  return app;
}

/** Waits until something accepts connections on the port. */
async function listening(port: number): Promise<void> {
  await waitFor(async () => !(await refuses(port)), () => `something to listen on port ${port}`);
}

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-sock-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Connects and reads until the server closes the connection; returns all it said. */
async function saidBeforeClose(target: number | string, send?: string): Promise<string> {
  const socket = typeof target === 'number' ? net.connect(target, '127.0.0.1') : net.connect(target);
  socket.on('error', () => {});
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; });
  if (send !== undefined) socket.write(send);
  await once(socket, 'close');
  return text;
}

describe('MONITOR_TOKEN', { timeout: WAIT_MS * 2 }, () => {
  test('a wrong token gets one line and the connection closes', async (t) => {
    const app = await launch(t, { MONITOR_TOKEN: 's3cret' });
    await Promise.all([listening(app.port), listening(app.consolePort)]);
    assert.equal(await saidBeforeClose(app.port, 'guess\r\n'), 'token: ✗ wrong token\r\n');
    assert.equal(await saidBeforeClose(app.consolePort, 's3cre\n'), 'token: ✗ wrong token\r\n');
    assert.equal(await saidBeforeClose(app.port, `${'x'.repeat(5000)}`), 'token: ✗ wrong token\r\n', 'an endless token line is cut off');
  });

  test('the right token opens the monitor and the console, and console needs no second token', async (t) => {
    const app = await launch(t, { MONITOR_TOKEN: 's3cret' });
    const client = await connect(app.port, 'token: ');
    client.send('s3cret\r\n');
    await client.until('monitor >>> ');
    assert.match(await client.command('ps', 'monitor >>> '), /pollQueue/);
    const entered = await client.command('console', '> ');
    assert.doesNotMatch(entered, /token/);
    assert.match(await client.command('1 + 1', '> '), /2/);
    client.socket.destroy();

    const repl = await connect(app.consolePort, 'token: ');
    repl.send('s3cret\n40 + 2\n');
    await repl.until('42');
    repl.socket.destroy();
  });

  test('a non-loopback address is refused without a token and allowed with one', async (t) => {
    const refused = await launch(t, { MONITOR_HOST: '0.0.0.0' });
    await waitFor(() => refused.stderr().length > 0, () => 'a line on stderr');
    assert.match(refused.stderr(), /^aiomonitor: refusing to listen on 0\.0\.0\.0 without a token: .*MONITOR_TOKEN.*; the app runs without a monitor\n$/);
    await assert.rejects(saidBeforeClose(refused.port), /ECONNREFUSED/);

    const guarded = await launch(t, { MONITOR_HOST: '0.0.0.0', MONITOR_TOKEN: 's3cret' });
    const client = await connect(guarded.port, 'token: ');
    client.socket.destroy();
  });
});

describe('Unix socket files', { timeout: WAIT_MS * 2 }, () => {
  test('MONITOR_PATH and CONSOLE_PATH listen on private socket files', async (t) => {
    const dir = tempDir(t);
    const monitorPath = path.join(dir, 'monitor.sock');
    const consolePath = path.join(dir, 'console.sock');
    const app = await launch(t, { MONITOR_PATH: monitorPath, CONSOLE_PATH: consolePath });
    const client = await connect(monitorPath);
    assert.equal(fs.statSync(monitorPath).mode & 0o777, 0o600);
    assert.equal(fs.statSync(consolePath).mode & 0o777, 0o600);
    assert.match(await client.command('ps'), /pollQueue/);
    await client.command('console', '> ');
    assert.match(await client.command('6 * 7', '> '), /42/);
    client.socket.destroy();
    await assert.rejects(saidBeforeClose(app.port), /ECONNREFUSED/, 'no TCP port as well');
  });

  test('a stale socket file is replaced; a live one or another file is left alone', async (t) => {
    const dir = tempDir(t);
    const stale = path.join(dir, 'stale.sock');
    // A socket file whose server is gone, as a killed process leaves it.
    const dead = await startApp(`require('net').createServer().listen(${JSON.stringify(stale)}, () => console.log('ready'));`, { nodeArgs: [] });
    await dead.waitForOutput('ready');
    dead.kill();
    await dead.exited;
    assert.ok(fs.statSync(stale).isSocket());
    const live = path.join(dir, 'live.sock');
    const server = net.createServer().listen(live);
    t.after(() => server.close());
    await once(server, 'listening');
    const file = path.join(dir, 'notes.txt');
    fs.writeFileSync(file, 'keep me');
    // Three apps, one for each thing in the way, started at once.
    const [, second, third] = await Promise.all([stale, live, file].map((target) => launch(t, { MONITOR_PATH: target, CONSOLE_ENABLED: '0' })));

    (await connect(stale)).socket.destroy();
    await waitFor(() => second.stderr().includes('\n'), () => 'a line on stderr');
    assert.equal(second.stderr(), `aiomonitor: cannot listen for the monitor on ${live}: another process is listening there; choose another path; the app runs without a monitor\n`);

    await waitFor(() => third.stderr().includes('\n'), () => 'a line on stderr');
    assert.match(third.stderr(), /a file that is not a socket is in the way/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'keep me');
  });

  test('close() removes the socket files', async (t) => {
    const dir = tempDir(t);
    const monitor = startMonitor({ path: path.join(dir, 'm.sock'), consolePath: path.join(dir, 'c.sock') });
    t.after(() => monitor.close());
    const address = await monitor.ready;
    assert.deepEqual([address.path, address.consolePath, address.port], [path.join(dir, 'm.sock'), path.join(dir, 'c.sock'), null]);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['c.sock', 'm.sock']);
    await monitor.close();
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});

describe('session limits', { timeout: WAIT_MS * 2 }, () => {
  test('past MONITOR_MAX_SESSIONS a newcomer gets one line and is closed; a freed place can be taken again', async (t) => {
    const app = await launch(t, { MONITOR_MAX_SESSIONS: '2' });
    const first = await connect(app.port);
    const second = await connect(app.port);
    assert.equal(await saidBeforeClose(app.port), '✗ too many sessions: 2 are open (MONITOR_MAX_SESSIONS); close one and try again\r\n');
    assert.match(await second.command('help'), /Commands:/, 'the sessions already open go on');
    first.send('exit\r\n');
    await first.closed;
    const third = await connect(app.port);
    third.socket.destroy();
    second.socket.destroy();
  });

  test('a silent session is closed after MONITOR_IDLE_TIMEOUT seconds', async (t) => {
    const app = await launch(t, { MONITOR_IDLE_TIMEOUT: '1' });
    const client = await connect(app.port);
    await client.closed;
    assert.match(client.received(), /✗ closing this session after 1 s without input \(MONITOR_IDLE_TIMEOUT\)\r\n$/);
  });
});

describe('cluster', { timeout: WAIT_MS * 2 }, () => {
  test('cluster workers listen on MONITOR_PORT + their ID, and ps in the primary names them', async (t) => {
    // Three ports in a row that are free now.
    let base = 0;
    for (let tries = 0; tries < 20 && base === 0; tries++) {
      const candidate = await freePort();
      const ok = await Promise.all([1, 2].map((i) => new Promise<boolean>((resolve) => {
        const probe = net.createServer().once('error', () => resolve(false)).listen(candidate + i, '127.0.0.1', () => probe.close(() => resolve(true)));
      })));
      if (candidate < 65000 && ok.every(Boolean)) base = candidate;
    }
    assert.ok(base > 0, 'three free ports in a row');
    const app = await launch(t, { MONITOR_PORT: String(base), CONSOLE_ENABLED: '0' }, `
      const cluster = require('node:cluster');
      if (cluster.isPrimary) {
        let online = 0;
        cluster.on('online', () => { if (++online === 2) setTimeout(() => console.log('ready'), 0); });
        cluster.fork(); cluster.fork();
        setInterval(() => {}, 1000);
      } else {
        setInterval(function workerTick() {}, 1000);
      }
    `);
    const primary = await connect(base);
    const listing = await primary.command('ps');
    assert.match(listing, new RegExp(`child\\s+pid \\d+: cluster worker 1, monitor on port ${base + 1}`));
    assert.match(listing, new RegExp(`child\\s+pid \\d+: cluster worker 2, monitor on port ${base + 2}`));
    primary.socket.destroy();
    for (const id of [1, 2]) {
      const worker = await connect(base + id);
      assert.match(await worker.command('ps'), /workerTick/);
      assert.doesNotMatch(worker.received(), new RegExp(`pid ${app.child.pid},`), 'the worker answers, not the primary');
      worker.socket.destroy();
    }
    assert.equal(app.stderr(), '', 'nobody fought for a port');
  });
});

describe('the app is untouched', { timeout: WAIT_MS * 2 }, () => {
  test('SIGINT without a handler still kills the app by SIGINT', async (t) => {
    const app = await launch(t, {});
    (await connect(app.port)).socket.destroy();
    app.child.kill('SIGINT');
    assert.deepEqual(await app.waitForExit(), { code: null, signal: 'SIGINT' });
  });

  test('an unhandled rejection ends the app as it would without the monitor', async (t) => {
    const app = await launch(t, {}, 'console.log("ready"); setTimeout(() => Promise.reject(new Error("nobody caught me")), 100);');
    assert.deepEqual(await app.waitForExit(), { code: 1, signal: null }, `the app's stderr: ${app.stderr()}`);
    assert.match(app.stderr(), /Error: nobody caught me/);
  });

  test('process.exit() after the monitor paused the main thread prints no debugger message', async (t) => {
    const app = await launch(t, {}, 'setInterval(() => {}, 1000); process.on("SIGUSR2", () => process.exit(0)); console.log("ready");');
    const client = await connect(app.port);
    assert.match(await client.command('stacktrace'), /The event loop is idle/);
    assert.match(await client.command('where 1'), /callback defined at/);
    client.send('signal SIGUSR2\r\n'); // the app exits on it, perhaps before the prompt comes back
    assert.deepEqual(await app.waitForExit(), { code: 0, signal: null });
    assert.equal(app.stderr(), '');
  });
});

describe('under pressure', { timeout: WAIT_MS * 3 }, () => {
  test('a storm of 300 connections at once leaves the monitor serving', async (t) => {
    const app = await launch(t, {});
    await listening(app.port);
    const answers = await Promise.all(Array.from({ length: 300 }, async () => {
      const socket = net.connect(app.port, '127.0.0.1');
      socket.on('error', () => {});
      let text = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk;
        if (text.includes('monitor >>> ')) socket.destroy();
      });
      await once(socket, 'close');
      return text;
    }));
    const admitted = answers.filter((text) => text.includes('monitor >>> ')).length;
    const turnedAway = answers.filter((text) => text === '✗ too many sessions: 16 are open (MONITOR_MAX_SESSIONS); close one and try again\r\n').length;
    assert.equal(admitted + turnedAway, 300, 'every connection got a prompt or the one line');
    assert.ok(admitted >= 16, `at least the first 16 were admitted (${admitted})`);
    // The server notices the storm's closes a moment after the clients made them: try again until a place is free.
    let said = '';
    await waitFor(async () => (said = await saidBeforeClose(app.port, 'help\r\nexit\r\n')).includes('monitor >>> '), () => `a place in the monitor; last answer: ${JSON.stringify(said)}`);
    assert.match(said, /Commands:/);
    assert.equal(app.child.exitCode, null);
  });

  test('a main thread stuck in native code gets a busy answer, and the session goes on', async (t) => {
    const app = await launch(t, {}, `
      setInterval(function pollQueue() {}, 1000);
      globalThis.sleepInNativeCode = () => setTimeout(() => require('node:child_process').execSync('sleep 5'), 10);
      console.log('ready');
    `, { deadlineMs: SHORT_DEADLINE_MS });
    const client = await connect(app.port);
    const repl = await connect(app.consolePort, '> ');
    await repl.command('sleepInNativeCode()', 'Timeout');
    repl.socket.destroy();
    // Each ps, the stacktrace after them and help take at most about the deadline: well within the sleep.
    const answer = await client.commandUntil('ps', (output) => output.startsWith('✗'));
    assert.match(answer, new RegExp(`^✗ the main thread has not answered for ${SHORT_DEADLINE_MS} ms \\(its event loop last turned \\d+ ms ago\\); stacktrace shows what it is doing\r\n$`));
    assert.match(await client.command('stacktrace'), /inside native code/);
    assert.match(await client.command('help'), /Commands:/);
  });
});
