import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect, startApp, type App, type Client } from './helpers';

const made: string[] = [];
// Profiles and snapshots are megabytes each: leave none behind.
after(() => { for (const dir of made) fs.rmSync(dir, { recursive: true, force: true }); });

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-diag-'));
  made.push(dir);
  return dir;
}

/** The rows of the top-10 table, as [self ms, self %, function, location]. */
function hotRows(out: string): string[][] {
  const lines = out.split('\r\n');
  const header = lines.findIndex((line) => /^\s*SELF MS\s+SELF %\s+FUNCTION\s+LOCATION/.test(line));
  assert.ok(header >= 0, `no table in:\n${out}`);
  return lines.slice(header + 1).filter((line) => line.trim()).map((line) => line.trim().split(/\s{2,}/));
}

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
}

function assertOneError(out: string, pattern: RegExp): void {
  assert.match(out, pattern);
  assert.equal(out.trim().split('\r\n').length, 1, `one line: ${out}`);
}

describe('profile', () => {
  test('names the function that blocks the loop, profiled while it blocks', async (t) => {
    const dir = tempDir();
    // Precise coverage (NODE_V8_COVERAGE) would rule out the recompilation that names a running loop.
    const app = await startApp(`
      function crunchNumbers(ms) {
        const until = Date.now() + ms;
        while (Date.now() < until);
      }
      globalThis.startBlock = () => { setTimeout(() => crunchNumbers(4000), 10); return 'armed'; };
      setInterval(() => {}, 1000);
      console.log('ready');
    `, { env: { NODE_V8_COVERAGE: '' } });
    t.after(() => app.kill());
    await app.waitForOutput('ready');
    const client = await connect(app.port);
    t.after(() => client.socket.destroy());
    const consoleClient = await connect(app.consolePort, '> ');
    await consoleClient.command('startBlock()', 'armed');
    consoleClient.socket.destroy();
    assert.match(await client.commandUntil('st', /blocked for[^]*crunchNumbers/), /at crunchNumbers/);

    const file = path.join(dir, 'x.cpuprofile');
    const out = await client.command(`profile 0.5 ${file}`);
    assert.match(out, new RegExp(`✓ wrote ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+ samples over`));
    const profile = readJson(file);
    assert.ok(Array.isArray(profile.nodes) && Array.isArray(profile.samples), 'a profile has nodes and samples');
    // The app's rows are those located in app.js; V8's own, such as '(program)', have no location.
    const appRow = hotRows(out).find((row) => /app\.js:\d+$/.test(row[3] ?? ''));
    assert.ok(appRow, `no app function in:\n${out}`);
    assert.equal(appRow[2], 'crunchNumbers', out);
    assert.match(appRow[3], /app\.js:2$/);
  });

  describe('on an idle app', () => {
    let app: App;
    let client: Client;
    let cwd: string;

    before(async () => {
      cwd = tempDir();
      app = await startApp('globalThis.keep = new Array(1000).fill("x"); setInterval(() => {}, 1000); console.log("ready");', { cwd });
      await app.waitForOutput('ready');
      client = await connect(app.port);
    });
    after(() => {
      client?.socket.destroy();
      app?.kill();
    });

    test('writes a valid profile', async () => {
      const file = path.join(tempDir(), 'idle.cpuprofile');
      const out = await client.command(`profile 0.2 ${file}`);
      assert.match(out, /Profiling the main thread for 0\.2 s/);
      assert.ok(out.includes(`✓ wrote ${file}`), out);
      const profile = readJson(file);
      assert.ok(Array.isArray(profile.nodes) && Array.isArray(profile.samples));
      assert.ok(hotRows(out).length <= 10);
    });

    test('without PATH writes into the process\'s current directory', async () => {
      const out = await client.command('profile 0.1');
      const written = fs.readdirSync(cwd).filter((name) => /^aiomonitor-\d+-\d{8}-\d{6}(-\d+)?\.cpuprofile$/.test(name));
      assert.equal(written.length, 1, `files in ${cwd}: ${fs.readdirSync(cwd).join(', ')}`);
      assert.ok(out.includes(`✓ wrote ${path.join(cwd, written[0])}`), out);
      assert.ok(written[0].includes(`-${app.child.pid}-`));
      const relative = await client.command('profile 0.1 sub.cpuprofile');
      assert.ok(relative.includes(`✓ wrote ${path.join(cwd, 'sub.cpuprofile')}`), relative);
    });

    test('mistakes get one line', async () => {
      assertOneError(await client.command('profile abc'), /^✗ profile: SECONDS must be a number from 0\.1 to 600, not "abc"/);
      assertOneError(await client.command('profile 0'), /^✗ profile: SECONDS must be a number from 0\.1 to 600, not "0"/);
      assertOneError(await client.command('profile 601'), /^✗ profile: SECONDS must be/);
      const missing = path.join(tempDir(), 'no', 'such', 'x.cpuprofile');
      assertOneError(await client.command(`profile 0.1 ${missing}`), /^✗ cannot create .*x\.cpuprofile: directory .*such does not exist/);
      assert.equal(fs.existsSync(missing), false);
    });

    test('refuses to overwrite a file', async () => {
      const file = path.join(tempDir(), 'taken.cpuprofile');
      fs.writeFileSync(file, 'precious');
      assertOneError(await client.command(`profile 0.1 ${file}`), /^✗ .*taken\.cpuprofile already exists and is never overwritten/);
      assertOneError(await client.command(`heapsnapshot ${file}`), /already exists/);
      assert.equal(fs.readFileSync(file, 'utf8'), 'precious');
    });

    test('runs one at a time per process', async () => {
      const file = path.join(tempDir(), 'long.cpuprofile');
      const from = client.received().length;
      client.send(`profile 1 ${file}\r\n`);
      await client.until('Profiling the main thread', from);
      const other = await connect(app.port);
      try {
        assertOneError(await other.command('profile 0.1'), /^✗ a CPU profile is already running in this process/);
        assertOneError(await other.command('heapsnapshot'), /^✗ a CPU profile is already running/);
      } finally {
        other.socket.destroy();
      }
      await client.until(/✓ wrote[^]*monitor >>> $/, from);
      assert.ok(fs.existsSync(file));
    });

    test('heapsnapshot writes a snapshot and says what it costs, and never overwrites', async () => {
      const file = path.join(tempDir(), 'heap.heapsnapshot');
      const out = await client.command(`heapsnapshot ${file}`);
      assert.match(out, /the main thread freezes until it is written, and the process needs at least [\d.]+ MiB more memory/);
      assert.match(out, /✓ wrote .*heap\.heapsnapshot \([\d.]+ MiB\)/);
      const snapshot = readJson(file);
      assert.ok('snapshot' in snapshot && 'nodes' in snapshot, `keys: ${Object.keys(snapshot).join(', ')}`);
      const before = fs.statSync(file);
      assertOneError(await client.command(`heapsnapshot ${file}`), /^✗ .*heap\.heapsnapshot already exists/);
      assert.equal(fs.statSync(file).mtimeMs, before.mtimeMs);
    });
  });
});
