import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { alive, attach, connect, idOf, SHORT_DEADLINE_MS, startApp, waitFor, WAIT_MS, type App, type Client } from './helpers';

// One app with one of each kind of task, shared by the read-only tests below.
const APP = `
const http = require('node:http');
const net = require('node:net');
const { spawn } = require('node:child_process');
const { Worker } = require('node:worker_threads');

setInterval(function pollQueue() {}, 5000);
setTimeout(function flushCache() {}, 600000);
const server = http.createServer(function handleRequest(req, res) { res.end('ok'); });
server.listen(0, '127.0.0.1', () => {
  const client = net.connect(server.address().port, '127.0.0.1');
  const child = spawn('sleep', ['600']);
  const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
  process.on('SIGUSR2', () => console.log('got SIGUSR2'));
  client.on('connect', () => console.log('ready ' + server.address().port + ' ' + child.pid));
});
`;

describe('monitor commands', () => {
  let app: App;
  let client: Client;
  let serverPort: string;

  before(async () => {
    app = await startApp(APP);
    await app.waitForOutput('ready');
    serverPort = app.stdout().split(' ')[1];
    client = await connect(app.port);
  });
  after(() => {
    client?.socket.destroy();
    app?.kill();
  });

  test('the banner counts the tasks and says how to get help', () => {
    assert.match(client.received(), /\d+ tasks running\r\nType help for available commands\r\n/);
  });

  test('help lists every command with its aliases', async () => {
    const out = await client.command('help');
    for (const names of ['help, ?, h', 'ps, p', 'where, w', 'cancel, ca', 'signal', 'stacktrace, st, stack', 'console', 'exit, q, quit']) {
      assert.ok(out.includes(names), `help lacks "${names}":\n${out}`);
    }
  });

  test('help CMD and CMD --help print its usage', async () => {
    assert.match(await client.command('help ps'), /Usage: ps \[-f TEXT\] \[-a\]/);
    assert.match(await client.command('where --help'), /Usage: where \[--json\] ID/);
    assert.match(await client.command('? cancel'), /Usage: cancel \[--json\] ID/);
  });

  test('ps lists timers, the server, sockets, the child process and the worker', async () => {
    const out = await client.command('ps');
    assert.match(out, /interval\s+pollQueue every 5000 ms/);
    assert.match(out, /timeout\s+flushCache after 600000 ms/);
    assert.match(out, new RegExp(`server\\s+127\\.0\\.0\\.1:${serverPort}`));
    assert.match(out, new RegExp(`socket\\s+127\\.0\\.0\\.1:\\d+ -> 127\\.0\\.0\\.1:${serverPort}`));
    assert.match(out, new RegExp(`socket\\s+127\\.0\\.0\\.1:${serverPort} <- 127\\.0\\.0\\.1:\\d+`));
    assert.match(out, /child\s+pid \d+: sleep 600/);
    assert.match(out, /worker\s+thread \d+/);
    assert.doesNotMatch(out, /messageport|aiomonitor/i, 'the monitor shows its own handles');
    assert.match(out.split('\r\n')[0], /^\d+ tasks \(.*\d+ sockets?/);
  });

  test('ps IDs stay the same from one listing to the next', async () => {
    const first = idOf(await client.command('ps'), /pollQueue/);
    const second = idOf(await client.command('p'), /pollQueue/);
    assert.equal(first, second);
  });

  test('ps -f filters by type or text; ps -a adds unref\'d timers', async () => {
    const filtered = await client.command('ps -f pollqueue');
    assert.match(filtered, /^1 task /);
    assert.match(filtered, /pollQueue/);
    assert.doesNotMatch(filtered, /flushCache/);
    const all = await client.command('ps --all');
    assert.match(all, /ID\s+TYPE\s+REF\s+DESCRIPTION/);
    assert.match(all, /checkConnections every/, 'the http server\'s unref\'d interval is listed with --all');
  });

  test('where shows a timer callback\'s source location', async () => {
    const id = idOf(await client.command('ps'), /pollQueue/);
    const out = await client.command(`where ${id}`);
    assert.match(out, new RegExp(`interval ${id}: pollQueue every 5000 ms`));
    assert.match(out, /callback defined at .*app\.js:7:\d+/);
  });

  test('where shows a server\'s request handler location', async () => {
    const id = idOf(await client.command('ps'), /server/);
    const out = await client.command(`w ${id}`);
    assert.match(out, /'request' listener defined at .*app\.js:9:\d+/);
  });

  test('mistakes get one line and the session goes on', async () => {
    const cases: [string, RegExp][] = [
      ['frobnicate', /^✗ unknown command "frobnicate"; type help for the list\r\n$/],
      ['where', /^✗ where: missing ID; usage: where \[--json\] ID\r\n$/],
      ['where abc', /^✗ "abc" is not a task ID/],
      ['where 999999', /^✗ no task 999999: it has ended or never existed/],
      ['cancel 1 2', /^✗ cancel: too many arguments/],
      ['ps --bogus', /^✗ ps: unknown option --bogus/],
      ['ps -f', /^✗ ps: --filter needs a value/],
      ['signal NOPE', /^✗ unknown signal "NOPE"/],
      ['help nothing', /^✗ no command "nothing"/],
    ];
    for (const [line, expected] of cases) {
      const out = await client.command(line);
      assert.match(out, expected, `for ${line}`);
      assert.equal(out.trim().split('\r\n').length, 1, `one line for ${line}: ${out}`);
    }
    assert.match(await client.command('help'), /Commands:/);
  });

  test('listing commands print one JSON document with their name and version when given --json', async () => {
    const id = idOf(await client.command('ps'), /flushCache/);
    const documents: Record<string, (doc: any) => void> = {
      'ps --json': (doc) => assert.ok(doc.tasks.some((task: { description: string }) => task.description.startsWith('flushCache'))),
      [`where ${id} --json`]: (doc) => assert.match(doc.functions[0].location, /app\.js:\d+:\d+/),
      'ps-terminated --json': (doc) => assert.ok(Array.isArray(doc.tasks)),
      'blocks --json': (doc) => assert.ok(Array.isArray(doc.blocks)),
      'loop --json': (doc) => assert.equal(typeof doc.utilization.sinceStart, 'number'),
      'mem --json': (doc) => assert.ok(doc.memory.rss > 0),
    };
    for (const [line, check] of Object.entries(documents)) {
      const out = await client.command(line);
      assert.equal(out.split('\r\n').filter(Boolean).length, 1, `${line} printed more than one line:\n${out}`);
      const doc = JSON.parse(out);
      assert.equal(doc.command, line.split(' ')[0], line);
      assert.equal(doc.version, 1, line);
      check(doc);
    }
  });

  test('signal sends a signal to the process', async () => {
    assert.match(await client.command('signal usr2'), /✓ sent SIGUSR2 to process \d+/);
    await app.waitForOutput('got SIGUSR2');
  });
});

describe('cancel', () => {
  test('clears a timer, closes a socket, kills a child process', async (t) => {
    const { app, client } = await attach(t, APP);
    const childPid = Number(app.stdout().trim().split(' ')[2]);

    const listing = await client.command('ps');
    const timer = idOf(listing, /pollQueue/);
    assert.match(await client.command(`cancel ${timer}`), new RegExp(`✓ cleared interval ${timer} \\(pollQueue`));
    assert.doesNotMatch(await client.command('ps'), /pollQueue/);
    assert.match(await client.command(`cancel ${timer}`), new RegExp(`✗ no task ${timer}`));

    const socket = idOf(listing, /socket .* ->/);
    assert.match(await client.command(`ca ${socket}`), /✓ closed socket/);

    const child = idOf(listing, /^\d+\s+child\s/);
    assert.match(await client.command(`cancel ${child}`), /✓ sent SIGTERM to child/);
    await waitFor(() => !alive(childPid), () => `child ${childPid} to end`);
  });

  test('--json says what was done as one document, a refusal too', async (t) => {
    const { client } = await attach(t, APP);
    const timer = idOf(await client.command('ps'), /pollQueue/);
    const done = JSON.parse(await client.command(`cancel --json ${timer}`));
    assert.deepEqual(done, {
      command: 'cancel', version: 1, id: Number(timer), ok: true,
      message: done.message, task: { type: 'interval', description: done.task.description },
    });
    assert.match(done.message, new RegExp(`^cleared interval ${timer} \\(pollQueue`));
    assert.match(done.task.description, /^pollQueue every 5000 ms/);
    const gone = JSON.parse(await client.command(`cancel --json ${timer}`));
    assert.deepEqual(gone, { command: 'cancel', version: 1, id: Number(timer), ok: false, message: gone.message, task: null });
    assert.match(gone.message, new RegExp(`^no task ${timer}: it has ended or never existed`));
  });
});

describe('stacktrace', () => {
  test('names the function that blocks the loop while it blocks, and says when the loop is idle', async (t) => {
    const { app, client } = await attach(t, `
      function crunchNumbers(ms) {
        const until = Date.now() + ms;
        while (Date.now() < until);
      }
      globalThis.stallSoon = () => setTimeout(() => crunchNumbers(4000), 10);
      setInterval(() => {}, 1000);
      console.log('ready');
    `);
    assert.match(await client.command('stacktrace'), /The event loop is idle/);
    const consoleClient = await connect(app.consolePort, '> ');
    await consoleClient.command('stallSoon()', 'Timeout');
    consoleClient.socket.destroy();
    const out = await client.commandUntil('st', /blocked for[^]*crunchNumbers/);
    assert.match(out, /Main thread \(pid \d+\) blocked for \d+ ms, most recent call first:/);
    assert.match(out, /at crunchNumbers \(.*app\.js:\d+:\d+\)/);
  });
});

describe('console and exit', () => {
  test('console switches to the REPL and .exit comes back to the prompt', async (t) => {
    const { client } = await attach(t, 'globalThis.appState = { hits: 7 }; setInterval(() => {}, 1000); console.log("ready");');
    await client.command('console', '> ');
    assert.match(await client.command('appState.hits + 1', '> '), /8/);
    assert.match(await client.command('await new Promise((r) => setTimeout(() => r("later"), 20))', '> '), /'later'/);
    await client.command('.exit');
    assert.match(await client.command('help'), /Commands:/);
  });

  test('exit ends the session and the app goes on', async (t) => {
    const { app, client } = await attach(t, 'setInterval(() => {}, 1000); console.log("ready");');
    client.send('exit\r\n');
    await client.closed;
    assert.equal(app.child.exitCode, null);
  });

  test('after q the server closes the connection fully, so typing more ends a client such as nc', { timeout: WAIT_MS }, async (t) => {
    const { app } = await attach(t, 'setInterval(() => {}, 1000); console.log("ready");');
    const raw = net.connect({ port: app.port, host: '127.0.0.1', allowHalfOpen: true });
    raw.on('error', () => {});
    raw.resume();
    raw.write('q\r\n');
    await once(raw, 'end');
    // A half-open server would read on in silence; a closed one resets the connection at the next writes.
    const typing = setInterval(() => raw.write('help\r\n'), 50);
    t.after(() => { clearInterval(typing); raw.destroy(); });
    await new Promise((resolve) => raw.on('close', resolve)); // 'error' (EPIPE, ECONNRESET) comes first
  });
});

describe('a main thread blocked in JavaScript', () => {
  test('a cancel that cannot run in time is withdrawn, and IDs still work after the block', async (t) => {
    const release = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-release-')), 'release');
    t.after(() => fs.rmSync(path.dirname(release), { recursive: true, force: true }));
    // The block lasts until the test has seen what it needs, under a deadline of SHORT_DEADLINE_MS.
    const { app, client } = await attach(t, `
      const fs = require('node:fs');
      setInterval(function pollQueue() {}, 5000);
      let stall = false;
      globalThis.stallOnce = () => { stall = true; return 'armed'; };
      setInterval(function crunchNumbers() {
        if (!stall) return;
        stall = false;
        while (!fs.existsSync(process.env.RELEASE_FILE));
      }, 20);
      console.log('ready');
    `, { env: { RELEASE_FILE: release }, deadlineMs: SHORT_DEADLINE_MS });
    const before = await client.command('ps');
    const poll = idOf(before, /pollQueue/);
    const crunch = idOf(before, /crunchNumbers/);

    const consoleClient = await connect(app.consolePort, '> ');
    await consoleClient.command('stallOnce()', 'armed');
    consoleClient.socket.destroy();
    assert.match(await client.commandUntil('st', /blocked for[^]*crunchNumbers/), /at crunchNumbers/);

    assert.match(await client.command('ps'), /pollQueue/, 'ps answers during the block');
    assert.match(await client.command(`cancel ${poll}`), /✗ the main thread has been busy for \d+ ms, so cancel was withdrawn and nothing was changed/);
    fs.writeFileSync(release, '');
    await client.commandUntil('st', /The event loop is idle/);
    assert.match(await client.command('ps'), new RegExp(`${poll}\\s+interval\\s+pollQueue`), 'the withdrawn cancel never ran');
    assert.match(await client.command(`where ${crunch}`), new RegExp(`interval ${crunch}: crunchNumbers`));
  });
});

describe('telnet control characters', () => {
  test('Ctrl-C drops only what was typed before it, even within one packet', async (t) => {
    const { client } = await attach(t, 'setInterval(function pollQueue() {}, 5000); console.log("ready");');
    const from = client.received().length;
    client.send(Buffer.concat([Buffer.from('garbage'), Buffer.from([255, 244]), Buffer.from('ps\r\n')]));
    const out = await client.until(/pollQueue[^]*monitor >>> $/, from);
    assert.doesNotMatch(out, /garbage/);
    client.send(Buffer.concat([Buffer.from('help\r\n'), Buffer.from([4])]));
    await client.closed;
    assert.match(client.received(), /Commands:/, 'the line before Ctrl-D still ran');
  });
});

test('names from the app cannot forge lines or drive the terminal: control characters are escaped', async (t) => {
  const { client } = await attach(t, `
    function f() {}
    Object.defineProperty(f, 'name', { value: 'evil\\x1b[2J\\r\\nmonitor >>> fake' });
    setTimeout(f, 600000);
    console.log('ready');
  `);
  // The escaped name holds the text of the prompt: only a prompt at the start of a line ends an answer.
  const prompt = '\r\nmonitor >>> ';
  const listing = await client.command('ps', prompt);
  assert.match(listing, /timeout +evil\\x1b\[2J\\x0d\\x0amonitor >>> fake after 600000 ms/);
  assert.doesNotMatch(listing, /\x1b/);
  const where = await client.command(`where ${idOf(listing, /evil/)}`, prompt);
  assert.match(where, /callback: evil\\x1b\[2J\\x0d\\x0amonitor >>> fake\r\n/);
});
