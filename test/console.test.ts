import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { listenConsole } from '../src/main/console-server';
import { waitFor } from './helpers';

const MODULE = path.join(__dirname, '..', 'src', 'main', 'console-server.js');
const WAIT_MS = 15_000;
const PROMPT = '\r\n> ';
// The REPL's prompt for an unfinished statement: '... ' until Node 24 made it '| '.
const CONTINUATION = Number(process.versions.node.split('.')[0]) >= 24 ? '| ' : '... ';

// The app under test: a console on a free port, plus a few stdin commands that let the test change the app's state from outside.
const APP = `
const { listenConsole } = require(${JSON.stringify(MODULE)});
globalThis.appState = { hits: 3 };
const keepAlive = setInterval(() => {}, 1000);
listenConsole({ endpoint: { host: '127.0.0.1', port: 0 }, rules: { token: null, maxSessions: 16, idleTimeoutMs: 0 }, locals: { answer: 42 }, monitor: { name: 'm' } }).then((server) => {
  console.log('PORT ' + server.endpoint.port);
  const commands = {
    late: () => { globalThis.lateGlobal = 'later'; return 'LATE SET'; },
    bump: () => { globalThis.appState = { hits: 4 }; return 'BUMPED'; },
    check: () => 'CHECK ' + JSON.stringify([typeof globalThis.leaked, typeof globalThis.leakedVar, typeof globalThis.appState]),
    counts: () => 'COUNTS ' + JSON.stringify(process.eventNames().map((name) => [String(name), process.listenerCount(name)])),
    release: () => { clearInterval(keepAlive); process.stdin.destroy(); return 'RELEASED'; },
    close: () => { Promise.all([server.close(), server.close()]).then(() => console.log('CLOSED')); return 'CLOSING'; },
  };
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (text) => {
    for (const line of text.split('\\n').filter(Boolean)) console.log(commands[line]());
  });
});
`;

// An app with nothing to do but listen: it must exit by itself.
const IDLE_APP = `
require(${JSON.stringify(MODULE)}).listenConsole({ endpoint: { host: '127.0.0.1', port: 0 }, rules: { token: null, maxSessions: 16, idleTimeoutMs: 0 }, locals: {}, monitor: {} })
  .then((server) => console.log('PORT ' + server.endpoint.port));
`;

/** Collects a stream's text and waits for expected pieces of it, in order. */
function reader(stream: NodeJS.ReadableStream, name: string) {
  let text = '';
  let cursor = 0;
  let ended = false;
  const waiters = new Set<() => void>();
  const wake = (): void => waiters.forEach((check) => check());
  stream.on('data', (chunk: Buffer | string) => { text += typeof chunk === 'string' ? chunk : chunk.toString('latin1'); wake(); });
  stream.on('end', () => { ended = true; wake(); });
  stream.on('close', () => { ended = true; wake(); });
  return {
    get all() { return text; },
    /** Resolves with the text between the last match and `expected`; fails on timeout or when the stream ends first. */
    until(expected: string): Promise<string> {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const at = text.indexOf(expected, cursor);
          if (at >= 0) {
            done();
            const before = text.slice(cursor, at);
            cursor = at + expected.length;
            resolve(before);
          } else if (ended) {
            done();
            reject(new Error(`${name} ended before ${JSON.stringify(expected)}; got ${JSON.stringify(text.slice(cursor))}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: no ${JSON.stringify(expected)} within ${WAIT_MS} ms; got ${JSON.stringify(text.slice(cursor))}`));
        }, WAIT_MS);
        const done = (): void => { clearTimeout(timer); waiters.delete(check); };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Runs the app in a child process and returns it once its console listens. */
async function startApp(t: TestContext, source = APP) {
  const dir = mkdtempSync(path.join(tmpdir(), 'aiomonitor-console-'));
  writeFileSync(path.join(dir, 'app.js'), source);
  const child = spawn(process.execPath, [path.join(dir, 'app.js')], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(() => { child.kill(); rmSync(dir, { recursive: true, force: true }); });
  const stdout = reader(child.stdout!, 'app stdout');
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk; });
  await stdout.until('PORT ').catch((err: Error) => assert.fail(`${err.message}; stderr: ${stderr}`));
  const port = Number(await stdout.until('\n'));
  assert.ok(port > 0, `app printed no port: ${stdout.all}`);
  /** Sends one stdin command to the app and waits for its answer. */
  const command = async (line: string, answer: string): Promise<string> => {
    child.stdin!.write(`${line}\n`);
    await stdout.until(answer);
    return stdout.until('\n');
  };
  return { child, port, exited, stdout, command, stderr: () => stderr };
}

/** Opens a console session and waits for its first prompt. */
async function connect(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => {});
  const output = reader(socket, 'console');
  const banner = await output.until(PROMPT);
  /** Types one line and returns what the console printed before the next prompt. */
  const run = (line: string): Promise<string> => {
    socket.write(`${line}\n`);
    return output.until(PROMPT);
  };
  return { socket, output, banner, run, closed };
}

/** Waits for `promise`, failing after the generous timeout with what was awaited. */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${WAIT_MS} ms`)), WAIT_MS);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const waitClosed = (closed: Promise<void>): Promise<void> => within(closed, 'connection close');

test('a session shows a banner and a prompt, evaluates on the main thread and ends lines in CRLF', async (t) => {
  const app = await startApp(t);
  const c = await connect(app.port);
  assert.match(c.banner, /^Node\.js v\d+\.\d+\.\d+ console in process \d+ \(main thread\)\. Top-level await works\. Names: monitor, answer\. Leave with \.exit or Ctrl-D\.$/);
  assert.ok(c.banner.includes(`in process ${app.child.pid} `), `banner names another process: ${c.banner}`);
  assert.equal(await c.run('1 + 1'), '2');
  assert.equal(await c.run('await new Promise(r => setTimeout(() => r(5), 10))'), '5');
  assert.equal(await c.run('answer'), '42');
  assert.equal(await c.run('monitor.name'), "'m'");
  assert.equal(await c.run('appState.hits'), '3');
  assert.equal(await c.run('require("node:worker_threads").isMainThread && process.pid'), String(app.child.pid));
  assert.equal(await c.run('console.log("a\\nb")'), 'a\r\nb\r\nundefined');
  assert.doesNotMatch(c.output.all, /[^\r]\n/, 'every line must end in CRLF');
});

test('app globals are shared live, console names stay in the console', async (t) => {
  const app = await startApp(t);
  const c = await connect(app.port);
  assert.equal(await c.run('typeof lateGlobal'), "'undefined'");
  await app.command('late', 'LATE SET');
  assert.equal(await c.run('lateGlobal'), "'later'");
  await app.command('bump', 'BUMPED');
  assert.equal(await c.run('appState.hits'), '4');
  assert.equal(await c.run('leaked = 1; var leakedVar = 2; appState = "mine"'), "'mine'");
  assert.equal(await c.run('appState'), "'mine'");
  assert.equal(await app.command('check', 'CHECK '), '["undefined","undefined","object"]');
  // `.clear` starts a fresh context, which must get the locals and the app globals again.
  await c.run('.clear');
  assert.equal(await c.run('[typeof leaked, answer, monitor.name, appState.hits, lateGlobal]'), "[ 'undefined', 42, 'm', 4, 'later' ]");
});

test('errors typed in the console stay in the console and the app keeps running', async (t) => {
  const app = await startApp(t);
  const c = await connect(app.port);
  assert.match(await c.run("throw new Error('boom')"), /^Uncaught Error: boom/);
  assert.equal(await c.run('1 + 2'), '3');
  assert.match(await c.run('await Promise.reject(new Error("rejected"))'), /^Uncaught Error: rejected/);
  assert.equal(await c.run('setTimeout(() => { throw new Error("later boom") }, 5), "scheduled"'), "'scheduled'");
  assert.match(await c.output.until(PROMPT), /Uncaught Error: later boom/);
  assert.equal(await c.run('({ [Symbol.for("nodejs.util.inspect.custom")]() { throw new Error("no show") } })'), '[value cannot be shown: Error: no show]');
  assert.equal(await c.run('2 + 2'), '4');
  assert.equal(app.child.exitCode, null, `app died: ${app.stderr()}`);
  assert.doesNotMatch(app.stderr(), /boom|rejected|Uncaught/);
});

test('sessions are independent and may run at once', async (t) => {
  const app = await startApp(t);
  const [a, b] = await Promise.all([connect(app.port), connect(app.port)]);
  assert.equal(await a.run('let x = 1'), 'undefined');
  assert.equal(await b.run('typeof x'), "'undefined'");
  assert.equal(await b.run('let x = 2'), 'undefined');
  assert.equal(await a.run('x'), '1');
  a.socket.write('.exit\n');
  await waitClosed(a.closed);
  assert.equal(await b.run('x'), '2');
});

test('.exit and Ctrl-D end the session and leave nothing behind', async (t) => {
  const app = await startApp(t);
  const first = await connect(app.port);
  first.socket.write('.exit\n');
  await waitClosed(first.closed);
  const counts = await app.command('counts', 'COUNTS ');
  const second = await connect(app.port);
  assert.equal(await second.run('1 + 1'), '2');
  second.socket.write(Buffer.from([4]));
  await waitClosed(second.closed);
  // Telnet in line mode sends Ctrl-D as IAC EOF.
  const third = await connect(app.port);
  third.socket.write(Buffer.from([255, 236]));
  await waitClosed(third.closed);
  const fourth = await connect(app.port);
  fourth.socket.destroy();
  await waitClosed(fourth.closed);
  // The server side of the last session cleans up just after the client sees the close: wait for it, boundedly.
  let now = '';
  await waitFor(async () => (now = await app.command('counts', 'COUNTS ')) === counts, () => `the process listeners to come back to ${counts}; now ${now}`, 2000)
    .catch(() => assert.equal(now, counts, 'process listeners grew with each session'));
  assert.equal(app.child.exitCode, null);
});

test('a client that stops sending still gets the answers, awaited ones too', async (t) => {
  const app = await startApp(t);
  const c = await connect(app.port);
  c.socket.end('1 + 1\nawait new Promise(r => setTimeout(() => r(5), 50))\n');
  await waitClosed(c.closed);
  // Node 24's REPL prints no last prompt once its input has ended; earlier lines do.
  assert.match(c.output.all.slice(c.output.all.indexOf(PROMPT)), /^\r\n> 2\r\n> 5\r\n(> )?$/);
});

test('telnet negotiation is refused and Ctrl-C clears the pending input', async (t) => {
  const app = await startApp(t);
  const c = await connect(app.port);
  c.socket.write(Buffer.from([255, 253, 1])); // IAC DO ECHO
  await c.output.until('\xff\xfc\x01'); // IAC WONT ECHO
  assert.equal(await c.run('1 + 1'), '2');
  c.socket.write('foo(\n');
  await c.output.until(CONTINUATION);
  c.socket.write(Buffer.from([3]));
  assert.equal(await c.output.until(PROMPT), '');
  assert.equal(await c.run('3 + 3'), '6');
  c.socket.write('bar(\n');
  await c.output.until(CONTINUATION);
  c.socket.write(Buffer.from([255, 244])); // IAC IP, how telnet sends Ctrl-C
  await c.output.until(PROMPT);
  assert.equal(await c.run('[1, 2].length'), '2');
});

test('close() ends open sessions and frees the port, twice over', async (t) => {
  const app = await startApp(t);
  const c = await connect(app.port);
  await app.command('close', 'CLOSING');
  await waitClosed(c.closed);
  await app.stdout.until('CLOSED');
  const refused = await new Promise<string>((resolve) => {
    const probe = net.connect(app.port, '127.0.0.1', () => { probe.destroy(); resolve('connected'); });
    probe.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
  assert.equal(refused, 'ECONNREFUSED');
});

test('the console does not keep the app alive, even with a session open', async (t) => {
  const idle = await startApp(t, IDLE_APP);
  assert.equal(await within(idle.exited, 'idle app exit'), 0, idle.stderr());
  const busy = await startApp(t);
  const c = await connect(busy.port);
  assert.equal(await c.run('1 + 1'), '2');
  await busy.command('release', 'RELEASED');
  assert.equal(await within(busy.exited, 'released app exit'), 0, busy.stderr());
  await waitClosed(c.closed);
});

test('a port already in use is reported in one line', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const { port } = blocker.address() as net.AddressInfo;
  try {
    await assert.rejects(listenConsole({ endpoint: { host: '127.0.0.1', port }, rules: { token: null, maxSessions: 16, idleTimeoutMs: 0 }, locals: {}, monitor: {} }), {
      message: `cannot listen for the console on 127.0.0.1:${port}: the port is already in use (another monitor, or another app); choose another port (0 picks a free one)`,
    });
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});
