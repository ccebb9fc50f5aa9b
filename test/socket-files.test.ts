import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { connect, ENTRY, refuses, REGISTER, startApp, waitFor, writeScript, WAIT_MS, type App } from './helpers';

const IDLE_APP = 'setInterval(() => {}, 1000); console.log("ready");';

function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-sf-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function launch(t: TestContext, env: NodeJS.ProcessEnv, source = IDLE_APP, nodeArgs?: string[]): Promise<App> {
  const app = await startApp(source, { env: { DEBUG: '', ...env }, nodeArgs });
  t.after(() => app.kill());
  await app.waitForOutput('ready');
  return app;
}

/** Starts an app on socket files in a fresh directory and waits until both listen. */
async function onSockets(t: TestContext, source: string): Promise<{ app: App; dir: string; files: string[] }> {
  const dir = tempDir(t);
  const files = [path.join(dir, 'm.sock'), path.join(dir, 'c.sock')];
  const app = await launch(t, { MONITOR_PATH: files[0], CONSOLE_PATH: files[1] }, source);
  (await connect(files[0])).socket.destroy();
  (await connect(files[1], '> ')).socket.destroy();
  return { app, dir, files };
}

async function firstLine(app: App): Promise<string> {
  await waitFor(() => app.stderr().includes('\n'), () => `a line on stderr; stderr: ${app.stderr()}`);
  return app.stderr();
}

// Each test has its own app and directory, and mostly waits for the app to start or end: they run at once.
describe('socket files', { timeout: WAIT_MS * 3, concurrency: true }, () => {
  test('are private from the start under umask 000, and no private directory is left beside them', async (t) => {
    const umaskZero = writeScript('process.umask(0o000);', 'umask-zero.js', tempDir(t));
    const dir = tempDir(t);
    const files = [path.join(dir, 'm.sock'), path.join(dir, 'c.sock')];
    // Every mode a socket file shows in the directory from the moment it appears; another user could connect to any beyond 0600.
    const seen: string[] = [];
    const watcher = fs.watch(dir, (_event, name) => {
      try {
        const stats = fs.lstatSync(path.join(dir, String(name)));
        if (stats.isSocket()) seen.push(`${String(name)} ${(stats.mode & 0o777).toString(8)}`);
      } catch {
        // Gone again, as the private directory is.
      }
    });
    t.after(() => watcher.close());
    const app = await launch(t, { MONITOR_PATH: files[0], CONSOLE_PATH: files[1] }, IDLE_APP, ['-r', umaskZero, '-r', REGISTER]);
    // Seen twice on busy CI runs and never alone: the first connect failed (ECONNRESET, then ENOENT for WAIT_MS).
    const client = await connect(files[0]).catch((error: Error) => {
      throw new Error(`${error.message}; in the directory: ${fs.readdirSync(dir).join(', ')}; the modes seen: ${seen.join(', ')}; the app's stderr: ${app.stderr()}`);
    });
    client.socket.destroy();
    for (const file of files) assert.equal(fs.statSync(file).mode & 0o777, 0o600, file);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['c.sock', 'm.sock']);
    assert.ok(seen.length > 0, 'the watcher saw the files appear');
    assert.deepEqual(seen.filter((entry) => !entry.endsWith(' 600')), []);
  });

  test('a path too long for a socket is refused in one line, and nothing listens', async (t) => {
    const dir = tempDir(t);
    const long = path.join(dir, `${'x'.repeat(120)}.sock`);
    const app = await launch(t, { MONITOR_PATH: long });
    assert.match(await firstLine(app), new RegExp(`^aiomonitor: path \\(MONITOR_PATH\\) is too long for a Unix socket \\(${Buffer.byteLength(long)} bytes; at most 107, its directory at most 92\\); choose a shorter path; the app runs without a monitor\\n$`));
    assert.deepEqual(fs.readdirSync(dir), [], 'no socket at a truncated path');
    // The line comes after the options were refused, before anything listens: nothing will listen later either.
    assert.ok(await refuses(app.consolePort), 'the console listens though the monitor was refused');
  });

  test('a socket path in a missing directory names the directory', async (t) => {
    const missing = path.join(tempDir(t), 'gone');
    const app = await launch(t, { MONITOR_PATH: path.join(missing, 'm.sock'), CONSOLE_ENABLED: '0' });
    assert.equal(await firstLine(app), `aiomonitor: cannot listen for the monitor on ${path.join(missing, 'm.sock')}: directory ${missing} does not exist; choose another path; the app runs without a monitor\n`);
  });

  test('are removed when the app calls process.exit()', async (t) => {
    const { app, dir } = await onSockets(t, `${IDLE_APP} process.on('SIGUSR2', () => process.exit(3));`);
    app.child.kill('SIGUSR2');
    assert.deepEqual(await app.waitForExit(), { code: 3, signal: null });
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  test('are removed when the app dies of an uncaught exception', async (t) => {
    const { app, dir } = await onSockets(t, `${IDLE_APP} process.on('SIGUSR2', () => { throw new Error('boom'); });`);
    app.child.kill('SIGUSR2');
    assert.deepEqual(await app.waitForExit(), { code: 1, signal: null });
    assert.match(app.stderr(), /Error: boom/);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    test(`are removed when the app, which has no handler, is killed by ${signal}, and it still dies of it`, async (t) => {
      const { app, dir } = await onSockets(t, IDLE_APP);
      app.child.kill(signal);
      assert.deepEqual(await app.waitForExit(), { code: null, signal });
      assert.deepEqual(fs.readdirSync(dir), []);
    });
  }

  test('two copies of the package, each on socket files (the preload and the app\'s own startMonitor), still let SIGTERM end the app', async (t) => {
    // The preload's bundle and the API's are two copies in one process: each must not take the other's cleanup for the app's handler.
    const dir = tempDir(t);
    const own = path.join(dir, 'api.sock');
    const source = `require(${JSON.stringify(ENTRY)}).startMonitor({ path: ${JSON.stringify(own)}, consoleEnabled: false }).ready.then(() => console.log('ready'));
      setInterval(() => {}, 1000);`;
    const preloaded = path.join(dir, 'm.sock');
    const app = await launch(t, { MONITOR_PATH: preloaded, CONSOLE_ENABLED: '0' }, source);
    (await connect(own)).socket.destroy();
    (await connect(preloaded)).socket.destroy();
    app.child.kill('SIGTERM');
    assert.deepEqual(await app.waitForExit(), { code: null, signal: 'SIGTERM' });
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  test("an app's own SIGTERM handler still gets the signal, and the app and its monitor go on", async (t) => {
    const { app, files } = await onSockets(t, `${IDLE_APP} process.on('SIGTERM', () => console.log('got SIGTERM'));`);
    app.child.kill('SIGTERM');
    await app.waitForOutput('got SIGTERM');
    const client = await connect(files[0]);
    t.after(() => client.socket.destroy());
    assert.match(await client.command('ps'), /1 interval/);
    assert.equal(app.child.exitCode, null);
  });
});
