import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { attach, connect, waitFor } from './helpers';

const made: string[] = [];
after(() => { for (const dir of made) fs.rmSync(dir, { recursive: true, force: true }); });

function tempDir(): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-heap-')));
  made.push(dir);
  return dir;
}

function oneLine(out: string): string {
  assert.equal(out.trim().split('\r\n').length, 1, `one line: ${out}`);
  return out.trim();
}

/** The rows of the top-sites table, as [self size, self %, function, location]. */
function siteRows(out: string): string[][] {
  const lines = out.split('\r\n');
  const header = lines.findIndex((line) => /^\s*SELF SIZE\s+SELF %\s+FUNCTION\s+LOCATION/.test(line));
  assert.ok(header >= 0, `no table in:\n${out}`);
  return lines.slice(header + 1).filter((line) => line.trim()).map((line) => line.trim().split(/\s{2,}/));
}

// Keeps what it allocates (up to a few MiB), so that the samples are still alive when the profile stops, and counts its ticks.
const ALLOCATING_APP = `
  const kept = [];
  let ticks = 0;
  function allocateRecords() {
    const batch = [];
    for (let i = 0; i < 500; i++) batch.push({ id: i, name: 'record-' + i });
    kept.push(batch);
    if (kept.length > 200) kept.shift();
  }
  setInterval(() => { allocateRecords(); console.log('tick ' + ++ticks); }, 20);
  process.on('SIGUSR2', () => process.exit(0));
  console.log('ready');
`;

const ticks = (stdout: string): number => (stdout.match(/^tick \d+$/gm) ?? []).length;

describe('heapprofile', { timeout: 90_000 }, () => {
  test('writes a .heapprofile whose top sites name the allocating function', async (t) => {
    const cwd = tempDir();
    const { client } = await attach(t, ALLOCATING_APP, { cwd });
    const file = path.join(cwd, 'app.heapprofile');
    const out = await client.command(`heapprofile 1 ${file}`);
    assert.match(out, /Sampling the main thread's allocations for 1 s; the app keeps running\.\.\./);
    assert.match(out, new RegExp(`✓ wrote ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+ samples, [\\d.]+ MiB allocated and not yet collected\\); open it in Chrome DevTools \\(Memory tab\\)`));
    const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as { head: { callFrame: { functionName: string }; children: unknown[] }; samples: unknown[] };
    assert.equal(profile.head.callFrame.functionName, '(root)');
    assert.ok(Array.isArray(profile.head.children) && profile.head.children.length > 0, 'the tree has children');
    assert.ok(Array.isArray(profile.samples));
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const rows = siteRows(out);
    assert.ok(rows.length >= 1 && rows.length <= 10, out);
    const appRow = rows.find((row) => row[2] === 'allocateRecords');
    assert.ok(appRow, `allocateRecords is not among the top sites:\n${out}`);
    assert.match(appRow[0], /^[\d.]+ MiB$/);
    assert.match(appRow[3], /app\.js:4$/);
  });

  test('mistakes get one line, and nothing is written', async (t) => {
    const cwd = tempDir();
    const { client } = await attach(t, 'setInterval(() => {}, 1000); console.log("ready");', { cwd });
    const cases: [string, RegExp][] = [
      ['heapprofile abc', /^✗ heapprofile: SECONDS must be a number from 0\.1 to 600, not "abc"; usage: heapprofile \[SECONDS\] \[PATH\]$/],
      ['heapprofile 0', /^✗ heapprofile: SECONDS must be a number from 0\.1 to 600, not "0"/],
      ['heapprofile 601', /^✗ heapprofile: SECONDS must be/],
      ['heapprofile 1 no/such/dir/x.heapprofile', /^✗ cannot create .*x\.heapprofile: directory .*dir does not exist$/],
      ['heapprofile 1 2 3', /^✗ heapprofile: too many arguments/],
    ];
    for (const [line, expected] of cases) assert.match(oneLine(await client.command(line)), expected, line);
    fs.writeFileSync(path.join(cwd, 'taken.heapprofile'), 'precious');
    assert.match(oneLine(await client.command('heapprofile 0.1 taken.heapprofile')), /^✗ .*taken\.heapprofile already exists and is never overwritten/);
    assert.equal(fs.readFileSync(path.join(cwd, 'taken.heapprofile'), 'utf8'), 'precious');
    assert.deepEqual(fs.readdirSync(cwd), ['taken.heapprofile']);
  });

  test('without PATH writes into the process\'s current directory, named with the pid and the time', async (t) => {
    const cwd = tempDir();
    const { app, client } = await attach(t, 'setInterval(() => {}, 1000); console.log("ready");', { cwd });
    const out = await client.command('heapprofile 0.2');
    const written = fs.readdirSync(cwd);
    assert.equal(written.length, 1, `files in ${cwd}: ${written.join(', ')}`);
    assert.match(written[0], new RegExp(`^aiomonitor-${app.child.pid}-\\d{8}-\\d{6}(-\\d+)?\\.heapprofile$`));
    assert.ok(out.includes(`✓ wrote ${path.join(cwd, written[0])}`), out);
  });

  test('the app keeps running while it samples, one profile runs at a time, and Ctrl-C ends it early with no file left', async (t) => {
    const cwd = tempDir();
    const { app, client } = await attach(t, ALLOCATING_APP, { cwd });
    const file = path.join(cwd, 'stopped.heapprofile');
    const from = client.received().length;
    client.send(`heapprofile 60 ${file}\r\n`);
    await client.until('Sampling the main thread', from);
    assert.ok(fs.existsSync(file), 'created before sampling starts');
    const before = ticks(app.stdout());
    await waitFor(() => ticks(app.stdout()) >= before + 5, () => `the app's interval to tick while it is sampled; stdout: ${app.stdout().slice(-200)}`);

    const other = await connect(app.port);
    try {
      assert.match(oneLine(await other.command('heapprofile 0.1')), /^✗ a heap profile is already running in this process/);
      assert.match(oneLine(await other.command('profile 0.1')), /^✗ a heap profile is already running in this process/);
    } finally {
      other.socket.destroy();
    }

    client.send(Buffer.from([255, 244])); // IAC IP, how telnet sends Ctrl-C
    const out = await client.until(/monitor >>> $/, from);
    assert.ok(out.includes(`✗ heapprofile interrupted; nothing was written, ${file} is removed\r\n`), out);
    assert.equal(fs.existsSync(file), false);
    assert.match(await client.command(`heapprofile 0.2 ${file}`), /✓ wrote/, 'the profiler is free again');
    assert.ok(fs.existsSync(file));
  });

  test('process.exit() during a heap profile prints no debugger message and leaves no file', async (t) => {
    const cwd = tempDir();
    const { app, client } = await attach(t, ALLOCATING_APP, { cwd });
    const file = path.join(cwd, 'cut.heapprofile');
    client.send(`heapprofile 60 ${file}\r\n`);
    await client.until('Sampling the main thread');
    assert.ok(fs.existsSync(file));
    // The monitor thread's own session, which started the profile, is gone once the main thread has seen it go.
    const other = await connect(app.port);
    other.socket.destroy();
    app.child.kill('SIGUSR2');
    assert.deepEqual(await app.waitForExit(), { code: 0, signal: null });
    assert.equal(app.stderr(), '');
    assert.deepEqual(fs.readdirSync(cwd), []);
  });
});
