import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { pidAlive } from '../src/shared/discovery';

/** The repository root, from dist/test/. */
export const ROOT = path.resolve(__dirname, '..', '..');
/** The compiled preload. */
export const REGISTER = path.join(ROOT, 'dist', 'register.js');
/** The package's CommonJS entry, the file `require('aiomonitor')` loads (package.json's main). */
export const ENTRY = require.resolve(ROOT);
/** How long any wait in a test may take before the test fails. */
export const WAIT_MS = 15_000;
/**
 * The main thread's deadline for apps started with `{ deadlineMs: SHORT_DEADLINE_MS }` (AIOMONITOR_TEST_DEADLINE_MS),
 * for tests that must see a deadline pass: they block the loop for about a second instead of five.
 */
export const SHORT_DEADLINE_MS = 500;

const givenPorts = new Set<number>();

/**
 * A port that was free a moment ago, chosen below the kernel's ephemeral range: a port from listen(0)
 * may be handed out again as the source port of some test's client connection before the app binds it.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    // Apps of this process start at once: one given a port it has not bound yet must not share it with another.
    if (givenPorts.has(port)) continue;
    const server = net.createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!free) continue;
    server.close();
    await once(server, 'close');
    givenPorts.add(port);
    return port;
  }
}

/** Holds a port for the duration of the test, as another app would. */
export async function holdPort(t: TestContext): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as net.AddressInfo).port;
}

/** Writes a script into `dir`, or a fresh temporary directory, and returns its path. */
export function writeScript(source: string, name = 'app.js', dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-test-'))): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, source);
  return file;
}

/** How a child process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running app under the monitor, with what it printed so far. */
export interface App {
  child: ChildProcess;
  port: number;
  consolePort: number;
  /** The port of the web page and /metrics (MONITOR_WEB_PORT, and the default web port of monitors the app starts itself). */
  webPort: number;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout contains `text`. */
  waitForOutput(text: string): Promise<void>;
  /** Resolves with the exit code or signal. */
  exited: Promise<Exit>;
  /** The exit, failing the test instead of hanging if it never comes. */
  waitForExit(): Promise<Exit>;
  kill(): void;
}

/** Where the apps of this test process keep their records for aiomon (XDG_RUNTIME_DIR), unless a test gives its own. */
export const TEST_RUNTIME_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-test-runtime-'));
process.on('exit', () => fs.rmSync(TEST_RUNTIME_DIR, { recursive: true, force: true }));

/** How to start an app: its environment and node flags, the script's name and directory, the working directory, the monitor's deadline. */
export interface AppOptions {
  env?: NodeJS.ProcessEnv;
  nodeArgs?: string[];
  name?: string;
  cwd?: string;
  dir?: string;
  /** The main thread's deadline in ms (AIOMONITOR_TEST_DEADLINE_MS); the default 2000 unless given. */
  deadlineMs?: number;
}

/** Runs `source` as an app with `-r aiomonitor/register` (or other node flags) on fresh ports; the script is written into `dir`, and runs in `cwd`, if given. */
export async function startApp(source: string, options: AppOptions = {}): Promise<App> {
  const file = writeScript(source, options.name, options.dir);
  const port = await freePort();
  const consolePort = await freePort();
  const webPort = await freePort();
  const nodeArgs = options.nodeArgs ?? ['-r', REGISTER];
  const child = spawn(process.execPath, [...nodeArgs, file], {
    env: {
      ...process.env,
      // The records for aiomon go to the tests' own directory, never the machine's.
      XDG_RUNTIME_DIR: TEST_RUNTIME_DIR,
      MONITOR_PORT: String(port),
      CONSOLE_PORT: String(consolePort),
      MONITOR_WEB_PORT: String(webPort),
      // A monitor the app starts through the API listens there too, rather than on the machine's 50103.
      AIOMONITOR_TEST_DEFAULT_WEB_PORT: String(webPort),
      ...(options.deadlineMs === undefined ? {} : { AIOMONITOR_TEST_DEADLINE_MS: String(options.deadlineMs) }),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: options.cwd,
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { err += chunk; });
  let outcome: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => resolve(outcome = { code, signal }));
  });
  return {
    child,
    port,
    consolePort,
    webPort,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: () => { child.kill('SIGKILL'); },
    waitForExit: async () => {
      await waitFor(() => outcome !== undefined, () => `the app to exit; stdout: ${out}\nstderr: ${err}`);
      return outcome!;
    },
    waitForOutput: (text) => waitFor(() => out.includes(text), () => `stdout to contain ${JSON.stringify(text)}; stdout: ${out}\nstderr: ${err}`),
  };
}

/**
 * Polls `check` until it holds, failing with `describe()` after `timeoutMs`: the one polling loop of the tests. An
 * async check (a command typed again until its answer shows something) paces itself; a plain one is asked every 20 ms.
 */
export async function waitFor(check: () => boolean | Promise<boolean>, describe: () => string, timeoutMs = WAIT_MS): Promise<void> {
  const start = Date.now();
  for (;;) {
    const result = check();
    if (typeof result === 'boolean' ? result : await result) return;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${describe()}`);
    if (typeof result === 'boolean') await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A client of the monitor, as `nc` would be. */
export interface Client {
  socket: net.Socket;
  /** Everything received so far, telnet line endings kept. */
  received(): string;
  /** Waits until the text received after `from` contains `text`; returns that text. */
  until(text: string | RegExp, from?: number): Promise<string>;
  /** Sends a line and returns the output up to the next prompt. */
  command(line: string, prompt?: string): Promise<string>;
  /** Sends `line` again and again until its output matches `expected` (or passes it, given as a function), and returns that output. */
  commandUntil(line: string, expected: RegExp | ((output: string) => boolean), prompt?: string): Promise<string>;
  /** Sends raw bytes or text. */
  send(data: string | Buffer): void;
  closed: Promise<void>;
}

/** Connects to a monitor or console port (or Unix socket file), retrying while the server is still starting. */
export async function connect(target: number | string, prompt = 'monitor >>> '): Promise<Client> {
  const start = Date.now();
  let socket: net.Socket;
  for (;;) {
    socket = typeof target === 'number' ? net.connect(target, '127.0.0.1') : net.connect(target);
    try {
      await once(socket, 'connect');
      break;
    } catch (error) {
      if (Date.now() - start > WAIT_MS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  let data = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => { data += chunk; });
  const closed = once(socket, 'close').then(() => {});
  const client: Client = {
    socket,
    received: () => Buffer.from(data, 'latin1').toString('utf8'),
    async until(text, from = 0) {
      const found = (): boolean => {
        const tail = client.received().slice(from);
        return typeof text === 'string' ? tail.includes(text) : text.test(tail);
      };
      await waitFor(found, () => `${String(text)} from the monitor; received: ${JSON.stringify(client.received().slice(from))}`);
      return client.received().slice(from);
    },
    async command(line, expected = prompt) {
      const from = client.received().length;
      client.send(`${line}\r\n`);
      const text = await client.until(expected, from);
      return text.slice(0, text.lastIndexOf(expected));
    },
    async commandUntil(line, expected, expectedPrompt = prompt) {
      const passes = typeof expected === 'function' ? expected : (output: string) => expected.test(output);
      let output = '';
      await waitFor(async () => passes(output = await client.command(line, expectedPrompt)), () => `${line} to answer ${String(expected)}; last answer: ${JSON.stringify(output)}`);
      return output;
    },
    send(payload) { socket.write(payload); },
    closed,
  };
  await client.until(prompt);
  return client;
}

/** Whether a process still exists. */
export const alive = pidAlive;

/** Whether a connection to `port` is refused now: one attempt, as a user's first `nc` would make. */
export function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(false); });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

/** Starts an app that prints 'ready', connects to its monitor, and cleans both up after the test. */
export async function attach(t: TestContext, source: string, options: AppOptions = {}): Promise<{ app: App; client: Client }> {
  const app = await startApp(source, options);
  t.after(() => app.kill());
  await app.waitForOutput('ready');
  const client = await connect(app.port);
  t.after(() => client.socket.destroy());
  return { app, client };
}

/** The ID of the first row of a listing (after its summary and header lines) that matches `pattern`. */
export function idOf(listing: string, pattern: RegExp): string {
  const line = listing.split('\r\n').slice(2).find((row) => pattern.test(row));
  assert.ok(line, `no row matching ${pattern} in:\n${listing}`);
  return line.split(/\s+/)[0];
}
