import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { test, type TestContext } from 'node:test';
import { startMonitor, type Monitor } from '../src/main/index';
import { connect, ENTRY, holdPort, startApp, waitFor, type App } from './helpers';

// The scripts load the compiled package the way an app would: by its CommonJS entry, or by URL from ESM.
const INDEX = ENTRY;
const INDEX_URL = pathToFileURL(INDEX).href;
const REQUIRE = `const api = require(${JSON.stringify(INDEX)});\nconst { startMonitor, Monitor, ConfigError } = api;\n`;

/** Runs a script with plain `node` (no preload): the API alone is under test. */
async function run(t: TestContext, source: string, name = 'app.js'): Promise<App> {
  // DEBUG cleared so that stderr holds only what the app or the monitor prints unasked.
  const app = await startApp(source, { nodeArgs: [], name, env: { DEBUG: '' } });
  t.after(() => app.kill());
  return app;
}

/** Waits for the script's `TAG {json}` line and parses it. */
async function report<T = any>(app: App, tag = 'RESULT'): Promise<T> {
  const pattern = new RegExp(`^${tag} (.*)$`, 'm');
  await waitFor(() => pattern.test(app.stdout()) || /^FAILED /m.test(app.stdout()),
    () => `a ${tag} line; stdout: ${app.stdout()}\nstderr: ${app.stderr()}`);
  const failed = /^FAILED (.*)$/m.exec(app.stdout());
  if (failed) assert.fail(`the script failed: ${failed[1]}\nstderr: ${app.stderr()}`);
  return JSON.parse(pattern.exec(app.stdout())![1]) as T;
}

// Script fragment: 'ok' when a fresh server can listen on the port, or the error code.
const CAN_LISTEN = `
const net = require('node:net');
function canListen(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error) => resolve(error.code || String(error)));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve('ok')));
  });
}
`;
// The app's own work, which keeps it alive while the API is exercised; scripts that must exit clear it when done.
// (Whether a pending `ready` or `close()` holds the process by itself is the subject of its own test.)
const KEEP = 'const keepAlive = setInterval(() => {}, 1000);\n';
const FAIL = `.catch((error) => { console.log('FAILED ' + JSON.stringify(String(error && error.stack || error))); process.exitCode = 1; });`;

const CONSTANTS = { MONITOR_HOST: '127.0.0.1', MONITOR_PORT: 50101, CONSOLE_PORT: 50102, WEB_PORT: 50103 };

test('the default address constants, through require', async (t) => {
  const app = await run(t, `${REQUIRE}
console.log('RESULT ' + JSON.stringify({
  MONITOR_HOST: api.MONITOR_HOST, MONITOR_PORT: api.MONITOR_PORT, CONSOLE_PORT: api.CONSOLE_PORT, WEB_PORT: api.WEB_PORT,
  kinds: [typeof startMonitor, typeof Monitor, typeof ConfigError],
}));
`);
  const { kinds, ...constants } = await report(app);
  assert.deepEqual(constants, CONSTANTS);
  assert.deepEqual(kinds, ['function', 'function', 'function']);
  assert.equal((await app.waitForExit()).code, 0, app.stderr());
});

test('the default address constants and the API, through named ESM imports of the CommonJS build', async (t) => {
  const app = await run(t, `
import { startMonitor, Monitor, ConfigError, MONITOR_HOST, MONITOR_PORT, CONSOLE_PORT, WEB_PORT } from ${JSON.stringify(INDEX_URL)};
console.log('RESULT ' + JSON.stringify({
  MONITOR_HOST, MONITOR_PORT, CONSOLE_PORT, WEB_PORT,
  kinds: [typeof startMonitor, typeof Monitor, typeof ConfigError],
}));
`, 'app.mjs');
  const { kinds, ...constants } = await report(app);
  assert.deepEqual(constants, CONSTANTS);
  assert.deepEqual(kinds, ['function', 'function', 'function']);
  assert.equal((await app.waitForExit()).code, 0, app.stderr());
});

test('startMonitor returns a Monitor at once; ready gives real ports; the prompt and the console answer there', async (t) => {
  const app = await run(t, `${REQUIRE}${KEEP}
const monitor = startMonitor({ port: 0, consolePort: 0 });
const sync = {
  thenable: monitor !== null && typeof monitor === 'object' && typeof monitor.then === 'function',
  isMonitor: monitor instanceof Monitor,
  readyIsPromise: monitor.ready instanceof Promise,
};
monitor.ready.then((address) => {
  console.log('RESULT ' + JSON.stringify({ ...sync, address, sameAsAddress: JSON.stringify(monitor.address) === JSON.stringify(address) }));
})${FAIL}
`);
  const result = await report(app);
  assert.equal(result.thenable, false, 'startMonitor must return the monitor, not a promise');
  assert.equal(result.isMonitor, true);
  assert.equal(result.readyIsPromise, true);
  const { host, port, consolePort } = result.address;
  assert.equal(host, '127.0.0.1');
  assert.ok(Number.isInteger(port) && port > 0 && port <= 65535, `monitor port ${port}`);
  assert.ok(Number.isInteger(consolePort) && consolePort > 0 && consolePort <= 65535, `console port ${consolePort}`);
  assert.notEqual(port, consolePort);
  assert.ok(Number.isInteger(result.address.webPort) && result.address.webPort > 0, `web port ${result.address.webPort}`);
  assert.equal(result.sameAsAddress, true, 'monitor.address matches what ready gave');

  const client = await connect(port);
  t.after(() => client.socket.destroy());
  assert.match(client.received(), /monitor >>> $/);
  const session = await connect(consolePort, '> ');
  t.after(() => session.socket.destroy());
});

test('close() returns a promise, is idempotent, frees both ports; start() then throws', async (t) => {
  const app = await run(t, `${REQUIRE}${CAN_LISTEN}${KEEP}
(async () => {
  const monitor = startMonitor({ port: 0, consolePort: 0 });
  const address = await monitor.ready;
  const closedBefore = monitor.closed;
  const first = monitor.close();
  const second = monitor.close();
  const promises = [first instanceof Promise, second instanceof Promise];
  await Promise.all([first, second]);
  await monitor.close();
  const closedAfter = monitor.closed;
  const rebind = { monitor: await canListen(address.port), console: await canListen(address.consolePort), web: await canListen(address.webPort) };
  let start;
  try {
    monitor.start();
    start = { threw: false };
  } catch (error) {
    start = { threw: true, isError: error instanceof Error, message: String(error && error.message) };
  }
  console.log('RESULT ' + JSON.stringify({ address, closedBefore, promises, closedAfter, rebind, start }));
  clearInterval(keepAlive);
})()${FAIL}
`);
  const result = await report(app);
  assert.equal(result.closedBefore, false);
  assert.deepEqual(result.promises, [true, true], 'both close() calls return promises');
  assert.equal(result.closedAfter, true);
  assert.deepEqual(result.rebind, { monitor: 'ok', console: 'ok', web: 'ok' }, 'all three ports are free again inside the app');
  assert.equal(result.start.threw, true, 'start() after close() throws');
  assert.equal(result.start.isError, true);
  assert.match(result.start.message, /closed/);
  assert.equal((await app.waitForExit()).code, 0, app.stderr());
});

test('Symbol.asyncDispose (what `await using` calls) closes the monitor at the end of the block', async (t) => {
  const app = await run(t, `${REQUIRE}${CAN_LISTEN}${KEEP}
(async () => {
  const hasSymbol = typeof Symbol.asyncDispose === 'symbol';
  let port, hasMethod, closedInside, monitor;
  {
    // Plain-JS spelling of: await using m = startMonitor({ port: 0, consolePort: 0 });
    const m = startMonitor({ port: 0, consolePort: 0 });
    monitor = m;
    try {
      hasMethod = typeof m[Symbol.asyncDispose] === 'function';
      port = (await m.ready).port;
      closedInside = m.closed;
    } finally {
      await m[Symbol.asyncDispose]();
    }
  }
  console.log('RESULT ' + JSON.stringify({ hasSymbol, hasMethod, closedInside, closedAfter: monitor.closed, rebind: await canListen(port) }));
  clearInterval(keepAlive);
})()${FAIL}
`);
  const result = await report(app);
  assert.deepEqual(result, { hasSymbol: true, hasMethod: true, closedInside: false, closedAfter: true, rebind: 'ok' });
  assert.equal((await app.waitForExit()).code, 0, app.stderr());
});

test('consoleEnabled: false makes ready resolve with consolePort null', async (t) => {
  const app = await run(t, `${REQUIRE}${KEEP}
startMonitor({ port: 0, consolePort: 0, consoleEnabled: false }).ready
  .then((address) => { console.log('RESULT ' + JSON.stringify(address)); })${FAIL}
`);
  const address = await report(app);
  assert.equal(address.consolePort, null);
  assert.ok(Number.isInteger(address.port) && address.port > 0, `monitor port ${address.port}`);
  const client = await connect(address.port);
  t.after(() => client.socket.destroy());
});

test('locals are names in the console, next to monitor', async (t) => {
  const app = await run(t, `${REQUIRE}${KEEP}
const monitor = startMonitor({ port: 0, consolePort: 0, locals: { answer: 42 } });
monitor.ready.then((address) => { console.log('RESULT ' + JSON.stringify(address)); })${FAIL}
`);
  const address = await report(app);
  const session = await connect(address.consolePort, '> ');
  t.after(() => session.socket.destroy());
  assert.match(await session.command('answer', '\n> '), /\b42\b/);
  assert.match(await session.command('monitor.closed', '\n> '), /\bfalse\b/);
});

for (const which of ['port', 'consolePort'] as const) {
  test(`${which} already in use: ready rejects with an Error naming the port`, async (t) => {
    const taken = await holdPort(t);
    const options = which === 'port' ? `{ port: ${taken}, consolePort: 0 }` : `{ port: 0, consolePort: ${taken} }`;
    const app = await run(t, `${REQUIRE}${KEEP}
startMonitor(${options}).ready.then(
  (address) => console.log('RESULT ' + JSON.stringify({ resolved: address })),
  (error) => console.log('RESULT ' + JSON.stringify({ isError: error instanceof Error, message: String(error && error.message) })),
).finally(() => clearInterval(keepAlive));
`);
    const result = await report(app);
    assert.equal(result.resolved, undefined, `ready resolved on a taken port: ${JSON.stringify(result.resolved)}`);
    assert.equal(result.isError, true);
    assert.match(result.message, new RegExp(`\\b${taken}\\b`), 'the message names the port');
    assert.match(result.message, /already in use/);
    assert.doesNotMatch(result.message, /\n/, 'a one-line message');
    const { code, signal } = await app.waitForExit();
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, app.stderr());
  });
}

test('a taken port does not crash an app that never awaits ready (no unhandled rejection)', async (t) => {
  const taken = await holdPort(t);
  const app = await run(t, `${REQUIRE}
const { inspect } = require('node:util');
const monitor = startMonitor({ port: ${taken}, consolePort: 0 });
// Watch ready without handling it (inspect adds no handler); once it has settled, give an unhandled rejection time to kill us.
const watch = setInterval(() => {
  const state = inspect(monitor.ready);
  if (state.includes('<pending>')) return;
  clearInterval(watch);
  console.log('SETTLED ' + JSON.stringify(state.includes('<rejected>') ? 'rejected' : 'resolved'));
  setTimeout(() => console.log('still alive'), 500);
}, 20);
`);
  const { code, signal } = await app.waitForExit();
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, `stderr: ${app.stderr()}`);
  assert.match(app.stdout(), /^SETTLED "rejected"$/m);
  assert.match(app.stdout(), /still alive/);
  assert.doesNotMatch(app.stderr(), /unhandled|Error/i);
});

test('a bad option throws a one-line ConfigError synchronously, naming the option', async (t) => {
  const cases = [
    { options: { port: 'abc' }, name: 'port' },
    { options: { port: 70000 }, name: 'port' },
    { options: { host: '' }, name: 'host' },
    { options: { consolePort: -1 }, name: 'consolePort' },
  ];
  const app = await run(t, `${REQUIRE}
const cases = ${JSON.stringify(cases.map((c) => c.options))};
const results = cases.map((options) => {
  try {
    const returned = startMonitor(options);
    if (returned && typeof returned.close === 'function') returned.close();
    return { threw: false, returned: String(returned) };
  } catch (error) {
    return { threw: true, isConfigError: error instanceof ConfigError, isError: error instanceof Error, name: error && error.name, message: String(error && error.message) };
  }
});
console.log('RESULT ' + JSON.stringify(results));
`);
  const results = await report<any[]>(app);
  cases.forEach(({ options, name }, i) => {
    const result = results[i];
    const label = JSON.stringify(options);
    assert.equal(result.threw, true, `${label} must throw at once, got ${result.returned}`);
    assert.equal(result.isConfigError, true, `${label}: instanceof ConfigError`);
    assert.equal(result.isError, true, `${label}: instanceof Error`);
    assert.equal(result.name, 'ConfigError', label);
    assert.doesNotMatch(result.message, /\n/, `${label}: a one-line message`);
    assert.match(result.message, new RegExp(`(^|[^A-Za-z])${name}([^A-Za-z]|$)`), `${label}: the message names ${name}: ${result.message}`);
  });
  assert.equal((await app.waitForExit()).code, 0, app.stderr());
});

test('an app exits on its own when its work is done, with the monitor started and never closed', async (t) => {
  await t.test('after awaiting ready', async (t) => {
    const app = await run(t, `${REQUIRE}${KEEP}
const monitor = startMonitor({ port: 0, consolePort: 0 });
monitor.ready.then((address) => {
  console.log('RESULT ' + JSON.stringify(address));
  clearInterval(keepAlive);
  setTimeout(() => console.log('work done'), 50);
})${FAIL}
`);
    await report(app);
    const { code, signal } = await app.waitForExit();
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `stderr: ${app.stderr()}`);
    assert.match(app.stdout(), /work done/);
    assert.equal(app.stderr(), '');
  });

  await t.test('while the monitor is still starting', async (t) => {
    const app = await run(t, `${REQUIRE}
startMonitor({ port: 0, consolePort: 0 });
console.log('work done');
`);
    const { code, signal } = await app.waitForExit();
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `stderr: ${app.stderr()}`);
    assert.match(app.stdout(), /work done/);
    assert.equal(app.stderr(), '');
  });

  await t.test('with a client connected to the prompt', async (t) => {
    // The app stays busy until the test has a session open, then finishes its work.
    const app = await run(t, `${REQUIRE}
// The app's work: it goes on until the test signals it, with a session open.
const work = setInterval(() => { if (globalThis.release) { clearInterval(work); console.log('work done'); } }, 20);
process.on('SIGUSR2', () => { globalThis.release = true; });
const monitor = startMonitor({ port: 0, consolePort: 0 });
monitor.ready.then((address) => {
  console.log('RESULT ' + JSON.stringify(address));
})${FAIL}
`);
    const address = await report(app);
    const client = await connect(address.port);
    t.after(() => client.socket.destroy());
    app.child.kill('SIGUSR2');
    const { code, signal } = await app.waitForExit();
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `stderr: ${app.stderr()}`);
    assert.match(app.stdout(), /work done/);
  });
});

test('an app with nothing else to do can await ready and close() (ESM top-level await)', async (t) => {
  const app = await run(t, `
import { startMonitor } from ${JSON.stringify(INDEX_URL)};
const monitor = startMonitor({ port: 0, consolePort: 0 });
const address = await monitor.ready;
console.log('RESULT ' + JSON.stringify(address));
await monitor.close();
console.log('CLOSED ' + JSON.stringify(monitor.closed));
`, 'app.mjs');
  const { code, signal } = await app.waitForExit();
  // Exit code 13 is Node's "unsettled top-level await": the process ran out of work while ready or close() was pending.
  assert.deepEqual({ code, signal }, { code: 0, signal: null },
    `exited with ${JSON.stringify({ code, signal })}; stdout: ${JSON.stringify(app.stdout())}; stderr: ${JSON.stringify(app.stderr())}`);
  const address = await report(app);
  assert.ok(Number.isInteger(address.port) && address.port > 0, `monitor port ${address.port}`);
  assert.match(app.stdout(), /^CLOSED true$/m);
});

test('await using closes the monitor at the end of the block (compiled by TypeScript, run in this process)', async () => {
  let seen: { closed: boolean; port: number } | undefined;
  let monitor: Monitor | undefined;
  {
    await using scoped = startMonitor({ port: 0, consoleEnabled: false });
    monitor = scoped;
    const { port } = await scoped.ready;
    seen = { closed: scoped.closed, port: port! };
    const client = await connect(port!);
    client.socket.destroy();
  }
  assert.equal(seen?.closed, false);
  assert.equal(monitor?.closed, true);
});

test('close() after a failed start resolves', { timeout: 15_000 }, async (t) => {
  const taken = await holdPort(t);
  const monitor = startMonitor({ port: taken, consoleEnabled: false });
  await assert.rejects(monitor.ready, /already in use/);
  // Let the failed start finish tearing down, so that close() comes when the monitor thread is gone.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await monitor.close();
  assert.equal(monitor.closed, true);
});
