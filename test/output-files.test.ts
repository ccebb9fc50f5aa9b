import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { attach, connect, REGISTER, startApp, writeScript, type App, type Client } from './helpers';

const made: string[] = [];
after(() => { for (const dir of made) fs.rmSync(dir, { recursive: true, force: true }); });

function tempDir(): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-out-')));
  made.push(dir);
  return dir;
}

// As `umask 000` in the shell that starts the app: preloaded before the monitor, so nothing it creates escapes it.
const UMASK_ZERO = writeScript('process.umask(0o000);', 'umask-zero.js', tempDir());

function oneLine(out: string): string {
  assert.equal(out.trim().split('\r\n').length, 1, `one line: ${out}`);
  return out.trim();
}

describe('snapshots and profiles are private files', { timeout: 60_000 }, () => {
  let cwd: string;
  let app: App;
  let client: Client;

  before(async () => {
    cwd = tempDir();
    app = await startApp('setInterval(() => {}, 1000); console.log("ready");', { cwd, nodeArgs: ['-r', UMASK_ZERO, '-r', REGISTER] });
    await app.waitForOutput('ready');
    client = await connect(app.port);
  });
  after(() => {
    client?.socket.destroy();
    app?.kill();
  });

  test('are written with mode 0600 under umask 000', async () => {
    const profile = path.join(cwd, 'p.cpuprofile');
    assert.ok((await client.command(`profile 0.1 ${profile}`)).includes(`✓ wrote ${profile}`));
    assert.equal(fs.statSync(profile).mode & 0o777, 0o600);
    const snapshot = path.join(cwd, 'h.heapsnapshot');
    assert.ok((await client.command(`heapsnapshot ${snapshot}`)).includes(`✓ wrote ${snapshot}`));
    assert.equal(fs.statSync(snapshot).mode & 0o777, 0o600);
  });

  test('a symlinked directory is resolved, and the real path is shown', async () => {
    const real = path.join(cwd, 'real');
    fs.mkdirSync(real);
    fs.symlinkSync(real, path.join(cwd, 'link'));
    const out = await client.command('profile 0.1 link/x.cpuprofile');
    assert.ok(out.includes(`✓ wrote ${path.join(real, 'x.cpuprofile')} (`), out);
    assert.ok(fs.existsSync(path.join(real, 'x.cpuprofile')));
  });

  test('a relative path that leads out of the working directory is refused, by .. or by a symlink', async () => {
    const outside = tempDir();
    fs.symlinkSync(outside, path.join(cwd, 'away'));
    const climbing = `../${path.basename(cwd)}-escaped.cpuprofile`;
    assert.equal(oneLine(await client.command(`profile 0.1 ${climbing}`)), `✗ ${climbing} leads out of the app's working directory ${cwd}; give a path inside it, or an absolute path`);
    assert.match(oneLine(await client.command('heapsnapshot away/escaped.heapsnapshot')), /^✗ away\/escaped\.heapsnapshot leads out of the app's working directory/);
    assert.deepEqual(fs.readdirSync(outside), []);
    assert.equal(fs.existsSync(path.resolve(cwd, climbing)), false);
    // An absolute path is the operator's explicit choice.
    assert.ok((await client.command(`profile 0.1 ${path.join(outside, 'chosen.cpuprofile')}`)).includes('✓ wrote'));
  });

  test('a symlink or a file in the way is never written through', async () => {
    const victim = path.join(tempDir(), 'victim');
    fs.writeFileSync(victim, 'precious');
    fs.symlinkSync(victim, path.join(cwd, 'trap.heapsnapshot'));
    assert.match(oneLine(await client.command('heapsnapshot trap.heapsnapshot')), /^✗ .*trap\.heapsnapshot already exists and is never overwritten/);
    fs.symlinkSync(path.join(cwd, 'nowhere'), path.join(cwd, 'dangling.cpuprofile'));
    assert.match(oneLine(await client.command('profile 0.1 dangling.cpuprofile')), /already exists/);
    assert.equal(fs.readFileSync(victim, 'utf8'), 'precious');
    assert.equal(fs.existsSync(path.join(cwd, 'nowhere')), false);
  });

  test('Ctrl-C stops a profile, and no file is left', async () => {
    const file = path.join(cwd, 'stopped.cpuprofile');
    const from = client.received().length;
    client.send(`profile 60 ${file}\r\n`);
    await client.until('Profiling the main thread for 60 s...', from);
    assert.ok(fs.existsSync(file), 'created before the profile starts');
    client.send('\x03');
    const out = await client.until(/monitor >>> $/, from);
    assert.match(out, new RegExp(`✗ profile interrupted; nothing was written, ${file} is removed\\r\\n`));
    assert.equal(fs.existsSync(file), false);
    assert.ok((await client.command(`profile 0.1 ${file}`)).includes('✓ wrote'), 'the profiler is free again');
  });
});

describe('a profile when the app ends', { timeout: 60_000 }, () => {
  test('process.exit() during a profile prints no debugger message and leaves no file', async (t) => {
    const cwd = tempDir();
    const { app, client } = await attach(t, 'setInterval(() => {}, 1000); process.on("SIGUSR2", () => process.exit(0)); console.log("ready");', { cwd });
    const file = path.join(cwd, 'cut.cpuprofile');
    client.send(`profile 60 ${file}\r\n`);
    await client.until('Profiling the main thread');
    assert.ok(fs.existsSync(file));
    // The monitor thread's own session, which started the profile, is gone once the main thread has seen it go.
    const other = await connect(app.port);
    other.socket.destroy();
    app.child.kill('SIGUSR2');
    assert.deepEqual(await app.waitForExit(), { code: 0, signal: null });
    assert.equal(app.stderr(), '');
    assert.deepEqual(fs.readdirSync(cwd), []);
  });

  test("the app's own CPU profile survives a profile of the monitor", async (t) => {
    const cwd = tempDir();
    const source = `
      const inspector = require('node:inspector');
      const session = new inspector.Session();
      session.connect();
      session.post('Profiler.enable');
      session.post('Profiler.start');
      function busy() { const end = Date.now() + 5; while (Date.now() < end); }
      setInterval(busy, 10);
      process.on('SIGUSR1', () => { console.log('blocking'); while (!require('node:fs').existsSync('release')); });
      process.on('SIGUSR2', () => session.post('Profiler.stop', (error, result) => {
        console.log(error ? 'app profile: ' + error.message : 'app profile: ' + result.profile.samples.length + ' samples over ' + Math.round((result.profile.endTime - result.profile.startTime) / 1e3) + ' ms');
      }));
      console.log('ready');`;
    const { app, client } = await attach(t, source, { cwd });
    assert.ok((await client.command(`profile 0.3 ${path.join(cwd, 'idle.cpuprofile')}`)).includes('✓ wrote'));
    // On a blocked loop the monitor also drops optimized code (through precise coverage) while it profiles.
    app.child.kill('SIGUSR1');
    await app.waitForOutput('blocking');
    await client.commandUntil('st', /blocked for/);
    const blocked = await client.command(`profile 0.3 ${path.join(cwd, 'blocked.cpuprofile')}`);
    assert.match(blocked, /optimized code is dropped[^]*✓ wrote/);
    // The block lasts until the test has profiled it.
    fs.writeFileSync(path.join(cwd, 'release'), '');
    app.child.kill('SIGUSR2');
    await app.waitForOutput('app profile: ');
    const [, samples, ms] = /app profile: (\d+) samples over (\d+) ms/.exec(app.stdout()) ?? [];
    assert.ok(Number(samples) > 100, app.stdout());
    assert.ok(Number(ms) >= 600, app.stdout());
  });
});
