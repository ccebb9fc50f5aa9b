import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { connect, startApp, waitFor, WAIT_MS, type App, type Client } from './helpers';

// An app that blocks its loop on request, in a function with a name to find, and says for how long.
const STALLING_APP = `
  function crunchNumbers(ms) {
    const start = Date.now();
    while (Date.now() - start < ms);
    return Date.now() - start;
  }
  globalThis.stallFor = (ms) => setTimeout(() => console.log('stalled ' + crunchNumbers(ms)), 10);
  setInterval(function pollQueue() {}, 1000);
  console.log('ready');
`;

async function attach(t: TestContext, env: NodeJS.ProcessEnv = {}): Promise<{ app: App; client: Client; stall(ms: number): Promise<number> }> {
  const app = await startApp(STALLING_APP, { env: { DEBUG: '', ...env } });
  t.after(() => app.kill());
  await app.waitForOutput('ready');
  const client = await connect(app.port);
  t.after(() => client.socket.destroy());
  let repl: Client | undefined;
  let stalls = 0;
  return {
    app,
    client,
    async stall(ms) {
      // Connected only now: the first console session loads Node's REPL, which can block the loop a moment itself.
      if (!repl) {
        repl = await connect(app.consolePort, '> ');
        t.after(() => repl?.socket.destroy());
      }
      await repl.command(`stallFor(${ms})`, 'Timeout');
      stalls++;
      await waitFor(() => app.stdout().split('stalled ').length > stalls, () => 'the app to finish its stall');
      return Number(app.stdout().split('stalled ')[stalls].split('\n')[0]);
    },
  };
}

describe('blocks', { timeout: WAIT_MS * 2 }, () => {
  test('a stall is recorded with the blocking function and about its real duration', async (t) => {
    const { client, stall } = await attach(t);
    const real = await stall(1000);
    const listing = await client.commandUntil('blocks', /crunchNumbers/);
    // Opening the console loads Node's REPL, which may itself block the loop for a moment: find our block by name.
    const row = listing.split('\r\n').find((line) => /^\d+\s+\d\d:.*crunchNumbers/.test(line));
    assert.ok(row, listing);
    assert.match(row, /crunchNumbers \(.*app\.js:\d+:\d+\)$/);
    const id = row.split(/\s+/)[0];
    const measured = Number(/(\d+) ms/.exec(row)![1]);
    assert.ok(Math.abs(measured - real) <= Math.max(60, real * 0.1), `measured ${measured} ms for a ${real} ms stall`);

    const detail = await client.command(`blocks ${id}`);
    assert.match(detail, new RegExp(`^block ${id}: \\d+ ms, started `));
    assert.match(detail, /at crunchNumbers \(.*app\.js:\d+:\d+\)/);
    assert.match(await client.command('blocks 99'), /^✗ no block 99/);
  });

  test('blocks --top groups stalls by stack; MONITOR_BLOCK_LOG prints each one', async (t) => {
    const { app, client, stall } = await attach(t, { MONITOR_BLOCK_LOG: '1', MONITOR_BLOCK_THRESHOLD: '150' });
    const blockLines = (): string[] => app.stderr().split('\n').filter((line) => line.startsWith('aiomonitor: event loop blocked for '));
    const logged = (): string[] => blockLines().filter((line) => /crunchNumbers/.test(line));
    // A loaded machine can end a block before the monitor has read its stack ("over before its stack could be
    // read"): stall again until two blocks name the function.
    for (let stalls = 1; logged().length < 2; stalls++) {
      assert.ok(stalls <= 6, `${stalls - 1} stalls, and not two of them logged with their stack: ${app.stderr()}`);
      const before = blockLines().length;
      await stall(400);
      await waitFor(() => blockLines().length > before, () => `a block line on stderr: ${app.stderr()}`);
    }
    assert.match(logged()[0], /^aiomonitor: event loop blocked for \d+ ms at crunchNumbers \(.*app\.js:\d+:\d+\)$/);
    const top = await client.command('blocks --top');
    // A busy machine can stall the app by itself meanwhile: a line about a block in progress may come first.
    assert.match(top, /(^|\n)\d+ blocks, grouped by stack/);
    assert.match(top, /\r\n([2-9]|\d\d+)\s+\d+ ms\s+\d+ ms\s+crunchNumbers/);
  });
});

describe('loop and mem', { timeout: WAIT_MS * 2 }, () => {
  test('loop shows delay percentiles, utilization and active resources, also during a block', async (t) => {
    const { client, stall } = await attach(t);
    const out = await client.command('loop');
    assert.match(out, /EVENT LOOP DELAY \(ms\)\s+P50\s+P90\s+P99\s+MAX\s+SAMPLES/);
    assert.match(out, /last minute\s+[\d.]+\s+[\d.]+/);
    assert.match(out, /Utilization: [\d.]+% last minute, [\d.]+% since start/);
    assert.match(out, /Not blocked now/);
    assert.match(out, /Active handles and requests: .*Timeout \d/);
    const stalling = stall(1000);
    assert.match(await client.commandUntil('loop', /Blocked right now/), /Blocked right now, for \d+ ms so far/);
    await stalling;
  });

  test('loop --watch redraws until Enter', async (t) => {
    const { client } = await attach(t);
    const from = client.received().length;
    client.send('loop --watch\r\n');
    const redrawn = await client.until(/\(Enter stops\)[^]*\(Enter stops\)/, from);
    assert.ok(redrawn.split('\x1b[H\x1b[2J').length - 1 >= 2, 'each redraw clears the screen first');
    assert.match(redrawn, /EVENT LOOP DELAY/);
    await client.command('');
    assert.match(await client.command('help'), /Commands:/, 'the prompt is back');
  });

  test('mem shows process memory, heap spaces, and garbage collections from the first mem on', async (t) => {
    const { app, client } = await attach(t);
    const first = await client.command('mem');
    assert.match(first, /^Process: rss [\d.]+ MiB, heap [\d.]+ MiB used of [\d.]+ MiB/);
    assert.match(first, /old_space\s+[\d.]+ MiB/);
    assert.match(first, /garbage collections since the first mem/i);
    const repl = await connect(app.consolePort, '> ');
    t.after(() => repl.socket.destroy());
    await repl.command('for (let i = 0; i < 20; i++) globalThis.junk = Array.from({ length: 1e5 }, (_, n) => ({ n })); "made"', 'made');
    // Node hands the collections to the observer in a later turn of the loop, so an answer right away may precede them.
    const counted = /Garbage collections since the first mem, [^\r]*:\r\nKIND\s+COUNT\s+TOTAL ms\r\nminor \(scavenge\)\s+[1-9]/;
    let last = '';
    await waitFor(async () => counted.test(last = await client.command('mem')), () => `mem to count the scavenges; it printed: ${last}`);
  });
});
