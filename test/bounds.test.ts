import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { connect, ENTRY, freePort, REGISTER, ROOT, startApp, waitFor, WAIT_MS, type App } from './helpers';

// Hostile or unlucky clients must not cost the app memory, nor keep others out: a client that floods the
// prompt and never reads, sessions that never type, strangers at the token prompt.

const IDLE_APP = 'setInterval(function pollQueue() {}, 1000); console.log("ready");';
const MiB = 1024 * 1024;
const FLOOD_BYTES = 50 * MiB;
const RSS_GROWTH_LIMIT = 64 * MiB;
// Long enough for an unbounded monitor to grow past RSS_GROWTH_LIMIT (it did in 4 to 5 s here).
const FLOOD_MS = 6000;

async function launch(t: TestContext, env: NodeJS.ProcessEnv, nodeArgs = ['-r', REGISTER], source = IDLE_APP): Promise<App> {
  const app = await startApp(source, { env: { DEBUG: '', ...env }, nodeArgs });
  t.after(() => app.kill());
  await app.waitForOutput('ready');
  return app;
}

/** The app's resident memory in bytes (Linux). */
function rss(pid: number): number {
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

/** A raw connection whose reader sleeps for good, as a client that only writes. */
async function nonReader(t: TestContext, port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.pause();
  t.after(() => socket.destroy());
  await once(socket, 'connect');
  return socket;
}

/**
 * Sends `FLOOD_BYTES` of each of `lines` at once, each on its own connection that never reads, and watches the app's
 * memory for FLOOD_MS (a measurement window, not a wait: without bounds the app grows all along it); returns the peak
 * RSS growth under all the floods together and how much of each flood left the client.
 */
async function flood(t: TestContext, app: App, port: number, lines: string[]): Promise<{ growth: number; sent: number[] }> {
  const before = rss(app.child.pid!);
  const sockets = await Promise.all(lines.map(async (line) => {
    const socket = await nonReader(t, port);
    const block = Buffer.from(line.repeat(Math.ceil(64 * 1024 / line.length)));
    let queued = 0;
    for (; queued < FLOOD_BYTES; queued += block.length) socket.write(block);
    return { socket, queued };
  }));
  let peak = before;
  for (const end = Date.now() + FLOOD_MS; Date.now() < end;) {
    peak = Math.max(peak, rss(app.child.pid!));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { growth: peak - before, sent: sockets.map(({ socket, queued }) => queued - socket.writableLength) };
}

// The floods' measurement windows are what takes time: the tests run at once, each on its own app.
describe('a client that floods and never reads', { timeout: WAIT_MS * 3, concurrency: true }, () => {
  test('the monitor stops reading it, the app stays small under --max-old-space-size=256, and a new session works', async (t) => {
    const app = await launch(t, {}, ['--max-old-space-size=256', '-r', REGISTER]);
    await (await connect(app.port)).socket.destroy();
    // Both floods at once: the app must stay within the limit under the two together.
    const lines = ['help\n', 'loop --watch\n'];
    const { growth, sent } = await flood(t, app, app.port, lines);
    lines.forEach((line, i) => assert.ok(sent[i] < FLOOD_BYTES, `the monitor read all ${FLOOD_BYTES / MiB} MiB of ${JSON.stringify(line)} from a client that reads nothing`));
    assert.ok(growth < RSS_GROWTH_LIMIT, `the app grew by ${(growth / MiB).toFixed(1)} MiB under floods of ${lines.map((line) => JSON.stringify(line)).join(' and ')}`);
    const client = await connect(app.port);
    assert.match(await client.command('help'), /Commands:/);
    client.socket.destroy();
    assert.equal(app.child.exitCode, null);
    assert.equal(app.stderr(), '', 'the monitor thread did not die');
  });

  test('the console stops reading it too, and answers others', async (t) => {
    const app = await launch(t, {});
    await connect(app.consolePort, '> ');
    // Answers of 3 KB each: a non-reader's unsent answers are what would pile up in the app.
    const { growth, sent: [sent] } = await flood(t, app, app.consolePort, ["'x'.repeat(3000)\n"]);
    assert.ok(sent < FLOOD_BYTES, 'the console read the whole flood from a client that reads nothing');
    assert.ok(growth < RSS_GROWTH_LIMIT, `the app grew by ${(growth / MiB).toFixed(1)} MiB`);
    const repl = await connect(app.consolePort, '> ');
    assert.match(await repl.command('6 * 7', '> '), /42/);
    repl.socket.destroy();
  });

  test('Ctrl-C still interrupts a running command behind more typed-ahead lines than a session keeps', async (t) => {
    const app = await launch(t, {}, ['-r', REGISTER], `
      require(${JSON.stringify(ROOT)}).defineCommand({ name: 'hang', description: 'Never answers unless stopped' }, () => {
        console.log('hang started');
        return new Promise(() => {});
      });
      ${IDLE_APP}
    `);
    const client = await connect(app.port);
    const from = client.received().length;
    client.send('hang\r\n');
    await app.waitForOutput('hang started');
    // 200 KB of lines behind the command, then Ctrl-C: it must reach the command, and drop the lines.
    client.send(`${`${'x'.repeat(100)}\r\n`.repeat(2000)}\x03`);
    const answer = await client.until('monitor >>> ', from);
    assert.equal(answer, "✗ stopped waiting for hang; its handler's signal is aborted, so it stops if it watches it\r\nmonitor >>> ");
    assert.match(await client.command('help'), /Commands:/);
    client.socket.destroy();
  });
});

describe('loop --watch', { timeout: WAIT_MS * 2 }, () => {
  test('redrawn again and again, loop does not pile up memory in the app', async (t) => {
    const app = await launch(t, {});
    const client = await connect(app.port);
    const reports = async (count: number): Promise<void> => {
      const from = client.received().length;
      client.send('loop\r\n'.repeat(count));
      await waitFor(() => client.received().slice(from).split('monitor >>> ').length > count, () => `${count} loop reports`);
    };
    // The first few hundred grow both threads' heaps to their working size: what piles up shows after them.
    await reports(300);
    const before = rss(app.child.pid!);
    // What a viewer who keeps loop --watch open for 25 minutes asks for: 1,500 reports, typed at once and each read.
    await reports(1500);
    const growth = rss(app.child.pid!) - before;
    // A report that left its 35 KB histogram behind grew the app by 50 MiB here; without it, 7 to 17 MiB of
    // garbage not yet collected in both threads, more on a busy machine and on Node 24.
    assert.ok(growth < 32 * MiB, `the app grew by ${(growth / MiB).toFixed(1)} MiB over 1,500 loop reports`);
    client.socket.destroy();
  });
});

describe('MONITOR_IDLE_TIMEOUT', { timeout: WAIT_MS * 2 }, () => {
  test('counts only what the client types: 16 silent loop --watch sessions are closed, and the door opens again', async (t) => {
    // Longer than the redraw's second: output that counted as activity would keep them open for good.
    const app = await launch(t, { MONITOR_IDLE_TIMEOUT: '2' });
    const watchers = await Promise.all(Array.from({ length: 16 }, async () => {
      const client = await connect(app.port);
      client.send('loop --watch\r\n');
      await client.until('(Enter stops)');
      return client;
    }));
    await Promise.all(watchers.map((client) => client.closed));
    for (const client of watchers) assert.match(client.received(), /✗ closing this session after 2 s without input \(MONITOR_IDLE_TIMEOUT\)\r\n$/);
    const next = await connect(app.port);
    assert.match(await next.command('help'), /Commands:/);
    next.socket.destroy();
  });
});

/** Connects and collects what the server says until it closes the connection. */
function stranger(port: number, trickle = false): { said: Promise<string>; socket: net.Socket } {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; });
  // A slowloris: a byte every 100 ms, never a line.
  const timer = trickle ? setInterval(() => socket.write('x'), 100) : undefined;
  const said = once(socket, 'close').then(() => { clearInterval(timer); return text; });
  return { said, socket };
}

describe('the token prompt', { timeout: WAIT_MS * 2 }, () => {
  test('strangers who never send the token, and a trickler, do not keep out the operator', async (t) => {
    const app = await launch(t, { MONITOR_TOKEN: 's3cret', MONITOR_MAX_SESSIONS: '2' });
    await (await connect(app.port, 'token: ')).socket.destroy();
    const strangers = Array.from({ length: 20 }, (_, i) => stranger(app.port, i === 19));
    t.after(() => { for (const { socket } of strangers) socket.destroy(); });
    await waitFor(() => strangers.every(({ socket }) => socket.bytesRead > 0), () => 'every stranger to see the prompt');
    for (const round of [1, 2, 3]) {
      const operator = await connect(app.port, 'token: ');
      operator.send('s3cret\r\n');
      await operator.until('monitor >>> ');
      assert.match(await operator.command('ps', 'monitor >>> '), /pollQueue/, `operator, round ${round}`);
      if (round === 3) break;
      operator.socket.destroy();
      await operator.closed;
    }
    // Ten strangers at most wait at the prompt: the ones that waited longest were let go with one line.
    const evicted = await Promise.all(strangers.slice(0, 10).map(({ said }) => said));
    for (const text of evicted) assert.match(text, /^token: ✗ too many connections are waiting for the token \(10\); this one waited longest; connect again and send the token at once\r\n$/);
  });

  test('a connection that has not sent the token within the grace is closed with one line, trickle or not', async (t) => {
    const module = path.join(ROOT, 'dist', 'src', 'main', 'console-server.js');
    const app = await launch(t, {}, [], `
      require(${JSON.stringify(module)}).listenConsole({ endpoint: { host: '127.0.0.1', port: 0 },
        rules: { token: 's3cret', maxSessions: 16, idleTimeoutMs: 0, tokenGraceMs: 1000 }, locals: {}, monitor: {} })
        .then((server) => console.log('ready ' + server.endpoint.port));
      setInterval(() => {}, 1000);
    `);
    const port = Number(/ready (\d+)/.exec(app.stdout())![1]);
    const silent = stranger(port);
    const trickler = stranger(port, true);
    const started = Date.now();
    for (const { said } of [silent, trickler]) assert.equal(await said, 'token: ✗ no token within 1 s; connect again and send the token first\r\n');
    assert.ok(Date.now() - started < WAIT_MS / 2, 'the trickle did not extend the grace');
    const operator = await connect(port, 'token: ');
    operator.send('s3cret\n6 * 7\n');
    await operator.until('42');
    operator.socket.destroy();
  });
});

describe('the monitor thread', { timeout: WAIT_MS * 2 }, () => {
  test('stopping unexpectedly costs one line on stderr, and the app and its console run on', async (t) => {
    // A monitor thread with a tiny heap, and more tasks than it can list: the first session's banner takes it
    // to its heap limit.
    const [port, consolePort] = [await freePort(), await freePort()];
    const app = await launch(t, {}, [], `
      const threads = require('node:worker_threads');
      const Worker = threads.Worker;
      threads.Worker = class extends Worker {
        constructor(file, options) { super(file, { ...options, resourceLimits: { ...options.resourceLimits, maxOldGenerationSizeMb: 16 } }); }
      };
      for (let i = 0; i < 100000; i++) setInterval(() => {}, 100000 + i);
      setInterval(function tick() { console.log('tick'); }, 50);
      require(${JSON.stringify(ENTRY)}).startMonitor({ port: ${port}, consolePort: ${consolePort} })
        .ready.then(() => console.log('ready'), (error) => console.log('not started: ' + error.message));
    `);
    const doomed = net.connect(port, '127.0.0.1');
    doomed.on('error', () => {});
    t.after(() => doomed.destroy());
    await waitFor(() => app.stderr().includes('\n'), () => 'a line on stderr');
    assert.match(app.stderr(), /^aiomonitor: the monitor thread stopped \(Worker terminated due to reaching memory limit: JS heap out of memory\); the app runs on without the command prompt \(the console still answers\); restart the app to get it back\n$/);
    const ticks = app.stdout().split('tick').length;
    await waitFor(() => app.stdout().split('tick').length > ticks + 2, () => 'the app to tick on');
    const repl = await connect(consolePort, '> ');
    assert.match(await repl.command('6 * 7', '> '), /42/);
    repl.socket.destroy();
  });
});
