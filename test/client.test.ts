import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { processStartTime, writeRecord, type MonitorRecord } from '../src/shared/discovery';
import { connect, freePort, ROOT, startApp, waitFor, WAIT_MS, type App } from './helpers';

const BIN = path.join(ROOT, 'dist', 'bin', 'aiomon.js');
const APP = "setInterval(() => {}, 1000); console.log('ready');";

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs aiomon to its end, with `input` as its stdin (a pipe, so never a terminal) and a private state and runtime directory. */
async function aiomon(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Ran> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, MONITOR_TOKEN: '', ...options.env }, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  child.stdin.end(options.input ?? '');
  let code: number | null | undefined;
  child.on('close', (exitCode) => { code = exitCode; });
  await waitFor(() => code !== undefined, () => `aiomon ${args.join(' ')} to exit; stdout: ${stdout}\nstderr: ${stderr}`);
  return { code: code!, stdout, stderr };
}

async function ready(t: TestContext, env: NodeJS.ProcessEnv = {}): Promise<App> {
  const app = await startApp(APP, { env });
  t.after(() => app.kill());
  await app.waitForOutput('ready');
  (await connect(app.port, env.MONITOR_TOKEN ? 'token: ' : undefined)).socket.destroy(); // the monitor listens
  return app;
}

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiomon-client-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('aiomon TARGET CMD: one command', { timeout: WAIT_MS * 4 }, () => {
  test('ps --json prints the document alone and exits 0', async (t) => {
    const app = await ready(t);
    const ran = await aiomon([`:${app.port}`, 'ps', '--json']);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stderr, '');
    const document = JSON.parse(ran.stdout) as { command: string; tasks: Array<{ type: string }> };
    assert.equal(document.command, 'ps');
    assert.ok(document.tasks.some((task) => task.type === 'interval'), ran.stdout);
  });

  test('a reader that stops early, as `| head -1` does, ends it quietly with 0', async (t) => {
    const app = await ready(t);
    const child = spawn(process.execPath, [BIN, `:${app.port}`, 'help'], { env: { ...process.env, MONITOR_TOKEN: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.stdout.once('data', () => child.stdout.destroy());
    let code: number | null | undefined;
    child.on('close', (exitCode) => { code = exitCode; });
    await waitFor(() => code !== undefined, () => `aiomon to exit; stderr: ${stderr}`);
    assert.deepEqual({ code, stderr }, { code: 0, stderr: '' });
  });

  test('a ✗ line exits 1; a usage error exits 2', async (t) => {
    const app = await ready(t);
    const ran = await aiomon([`127.0.0.1:${app.port}`, 'cancel', '99999']);
    assert.equal(ran.code, 1);
    assert.match(ran.stdout, /^✗ no task 99999: .*\n$/);
    const usage = await aiomon([`:${app.port}x`, 'ps']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^aiomon: ":\d+x": "\d+x" is not a port number from 1 to 65535; see aiomon --help\n$/);
  });

  test('a token from MONITOR_TOKEN; a wrong or missing one costs one line and exit 1', async (t) => {
    const app = await ready(t, { MONITOR_TOKEN: 's3cret' });
    const ran = await aiomon([`:${app.port}`, 'ps', '--json'], { env: { MONITOR_TOKEN: 's3cret' } });
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(JSON.parse(ran.stdout).command, 'ps');
    const wrong = await aiomon([`:${app.port}`, 'ps'], { env: { MONITOR_TOKEN: 'nope' } });
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stdout, '');
    assert.match(wrong.stderr, /^aiomon: the monitor at 127\.0\.0\.1:\d+ closed the session: wrong token\n$/);
    const missing = await aiomon([`:${app.port}`, 'ps']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^aiomon: the monitor at 127\.0\.0\.1:\d+ asks for a token: set MONITOR_TOKEN, or type it when asked\n$/);
  });

  test('a token in MONITOR_TOKEN is not sent to a monitor that asks for none', async (t) => {
    const app = await ready(t);
    const ran = await aiomon([`:${app.port}`, 'ps', '--json'], { env: { MONITOR_TOKEN: 'unused' } });
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(JSON.parse(ran.stdout).command, 'ps');
  });

  test('nothing listening: one line, exit 1', async () => {
    const port = await freePort();
    const ran = await aiomon([`:${port}`, 'ps']);
    assert.equal(ran.code, 1);
    assert.equal(ran.stdout, '');
    assert.equal(ran.stderr, `aiomon: cannot reach the monitor at 127.0.0.1:${port}: nothing listens there\n`);
  });

  test('lines from a pipe run in turn, with no banner and no prompt', async (t) => {
    const app = await ready(t);
    const ran = await aiomon([`:${app.port}`], { input: 'ps --json\nloop --json\n' });
    assert.equal(ran.code, 0, ran.stderr);
    const lines = ran.stdout.trim().split('\n');
    assert.deepEqual(lines.map((line) => (JSON.parse(line) as { command: string }).command), ['ps', 'loop']);
  });
});

describe('aiomon PID: the monitors records', { timeout: WAIT_MS * 4 }, () => {
  const record = (app: App, consoleOn = true): MonitorRecord => ({
    version: 1,
    pid: app.child.pid!,
    ppid: process.pid,
    script: 'app.js',
    argv: [],
    cwd: ROOT,
    node: process.version,
    startedAt: Date.now(),
    procStart: processStartTime(app.child.pid!),
    monitor: { host: '127.0.0.1', port: app.port },
    console: consoleOn ? { host: '127.0.0.1', port: app.consolePort } : null,
    tokenRequired: false,
  });

  test('a pid with a record: its prompt and its console', async (t) => {
    const app = await ready(t);
    const runtime = tempDir(t);
    writeRecord(record(app), path.join(runtime, 'aiomonitor'));
    const env = { XDG_RUNTIME_DIR: runtime };
    const ran = await aiomon([String(app.child.pid), 'ps', '--json'], { env });
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(JSON.parse(ran.stdout).command, 'ps');
    const repl = await aiomon([String(app.child.pid), 'console'], { env, input: '6*7\n' });
    assert.equal(repl.code, 0, repl.stderr);
    assert.match(repl.stdout, /console in process \d+/);
    assert.match(repl.stdout, /^> 42$/m);
  });

  test('a pid that is not a Node process', async (t) => {
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    t.after(() => sleeper.kill());
    const env = { XDG_RUNTIME_DIR: tempDir(t) };
    assert.deepEqual(await aiomon([String(sleeper.pid)], { env }), {
      code: 1,
      stdout: '',
      stderr: `aiomon: process ${sleeper.pid} is not a Node.js process; aiomon ls lists the Node processes of this user\n`,
    });
  });

  test('a pid without a record, and one of no process', async (t) => {
    const plain = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    t.after(() => plain.kill());
    const env = { XDG_RUNTIME_DIR: tempDir(t) };
    const pid = plain.pid!;
    assert.deepEqual(await aiomon([String(pid)], { env }), {
      code: 1,
      stdout: '',
      stderr: `aiomon: process ${pid} runs without a monitor; attach to it with: aiomon attach ${pid}\n`,
    });
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    assert.deepEqual(await aiomon([String(gone), 'ps'], { env }), { code: 1, stdout: '', stderr: `aiomon: no process ${gone}\n` });
  });

  test('the console through the prompt of an address, and a console that is off', async (t) => {
    const app = await ready(t);
    const repl = await aiomon([`:${app.port}`, 'console'], { input: '6*7\n' });
    assert.equal(repl.code, 0, repl.stderr);
    assert.match(repl.stdout, /^> 42$/m);
    assert.doesNotMatch(repl.stdout, /monitor >>>/);
    const off = await ready(t, { CONSOLE_ENABLED: '0' });
    const refused = await aiomon([`:${off.port}`, 'console'], { input: '1\n' });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^aiomon: the console is disabled in this process .*\n$/);
    const runtime = tempDir(t);
    writeRecord(record(off, false), path.join(runtime, 'aiomonitor'));
    const none = await aiomon([String(off.child.pid), 'console'], { env: { XDG_RUNTIME_DIR: runtime } });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^aiomon: the console of process \d+ is off .*\n$/);
  });
});

// util-linux `script` runs aiomon in a real pseudo-terminal, fed from this pipe.
const hasScript = spawnSync('script', ['--version']).status === 0;
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** aiomon's interactive prompt in a pseudo-terminal: what it shows (escape sequences removed), keys to type, its exit. */
function terminal(t: TestContext, port: number, state: string): { screen(): string; type(keys: string): void; until(text: string | RegExp, from?: number): Promise<string>; exited: Promise<number | null> } {
  const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;
  const child = spawn('script', ['-qefc', `${quote(process.execPath)} ${quote(BIN)} :${port}`, '/dev/null'], {
    env: { ...process.env, MONITOR_TOKEN: '', TERM: 'xterm', XDG_STATE_HOME: state },
    stdio: 'pipe',
  });
  t.after(() => { child.kill('SIGKILL'); });
  let raw = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { raw += chunk; });
  const screen = (): string => raw.replace(ANSI, '').replace(/\r/g, '');
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    screen,
    type: (keys) => { child.stdin.write(keys); },
    async until(text, from = 0) {
      const seen = (): boolean => (typeof text === 'string' ? screen().slice(from).includes(text) : text.test(screen().slice(from)));
      await waitFor(seen, () => `${String(text)} on the terminal; it shows: ${JSON.stringify(screen().slice(from))}`);
      return screen().slice(from);
    },
    exited,
  };
}

describe('aiomon TARGET: the interactive prompt in a terminal', { timeout: WAIT_MS * 6, skip: !hasScript && 'util-linux script is not installed' }, () => {
  test('commands, completion, Ctrl-C, history across sessions', async (t) => {
    const app = await ready(t);
    const state = tempDir(t);
    const term = terminal(t, app.port, state);
    await term.until(/Type help for available commands\n\nmonitor >>> $/);

    let from = term.screen().length;
    term.type('ps\r');
    await term.until(/ID {2}TYPE[^]*interval[^]*monitor >>> $/, from);

    // Tab completes a command name (asking help --json), an option, a task ID (asking ps --json).
    from = term.screen().length;
    term.type('ps-t\t');
    await term.until('ps-terminated ', from);
    term.type('\x15'); // Ctrl-U: clear the line
    from = term.screen().length;
    term.type('ps --j\t');
    await term.until('ps --json ', from);
    term.type('\r');
    await term.until(/"command":"ps"[^]*monitor >>> $/, from);
    from = term.screen().length;
    // The app's tasks are its interval (1), its stdout pipe (2) and this session's socket.
    term.type('where 1\t');
    await term.until(/where 1 $/, from);
    term.type('\r');
    await term.until(/interval 1[^]*monitor >>> $/, from);

    // Ctrl-C during a command that runs until Enter gives the prompt back; the session goes on.
    from = term.screen().length;
    term.type('loop --watch\r');
    await term.until('(Enter stops)', from);
    term.type('\x03');
    await term.until(/\(Enter stops\)\nmonitor >>> $/, from);
    from = term.screen().length;
    term.type('mem\r');
    await term.until(/HEAP SPACE[^]*monitor >>> $/, from);

    // Enter stops the watch, as it says.
    from = term.screen().length;
    term.type('loop -w\r');
    await term.until('(Enter stops)', from);
    from = term.screen().length;
    term.type('\r'); // readline shows the line break wherever the output has got to
    await term.until(/monitor >>> $/, from);
    from = term.screen().length;
    term.type('help ps\r');
    await term.until(/Usage: ps[^]*monitor >>> $/, from);
    assert.doesNotMatch(term.screen().slice(from), /monitor >>> monitor >>>/);

    // Ctrl-C at the prompt drops the line; Ctrl-D leaves with exit code 0.
    from = term.screen().length;
    term.type('wher\x03');
    await term.until(/wher\^C\nmonitor >>> $/, from);
    term.type('\x04');
    assert.equal(await term.exited, 0);

    const file = path.join(state, 'aiomonitor', 'history');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(fs.readFileSync(file, 'utf8').split('\n').slice(-3), ['loop -w', 'help ps', '']);

    // A new session recalls the last one's lines with the Up key.
    const again = terminal(t, app.port, state);
    await again.until(/monitor >>> $/);
    from = again.screen().length;
    again.type('\x1b[A');
    await again.until('help ps', from);
    again.type('\r');
    await again.until(/Usage: ps[^]*monitor >>> $/, from);
    again.type('exit\r');
    assert.equal(await again.exited, 0);
  });
});
