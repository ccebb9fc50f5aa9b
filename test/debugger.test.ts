import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test, type TestContext } from 'node:test';
import { REGISTER, connect, startApp, waitFor, writeScript, type App, type Client } from './helpers';

/**
 * A developer's debugger: a CDP client over the inspector's WebSocket, as Chrome DevTools is. With `pause` it
 * pauses the app; with `brk` it lets an `--inspect-brk` app run past its first-line pause and waits for the
 * next one (a \`debugger\` statement). It keeps that pause for HOLD ms, resumes it, and prints how it ended.
 */
const CDP_CLIENT = `
  const [url, mode, hold] = process.argv.slice(2);
  const ws = new WebSocket(url);
  let id = 0;
  const send = (method, params = {}) => ws.send(JSON.stringify({ id: ++id, method, params }));
  let pausedAt = 0;
  let resuming = false;
  ws.onopen = () => {
    send('Debugger.enable');
    send(mode === 'brk' ? 'Runtime.runIfWaitingForDebugger' : 'Debugger.pause');
  };
  ws.onmessage = ({ data }) => {
    const message = JSON.parse(data);
    if (message.method === 'Debugger.paused' && message.params.reason === 'Break on start') {
      console.log('started paused');
      send('Debugger.resume');
    } else if (message.method === 'Debugger.paused' && !pausedAt) {
      pausedAt = Date.now();
      console.log('paused in ' + message.params.callFrames[0].functionName);
      setTimeout(() => { resuming = true; send('Debugger.resume'); }, Number(hold));
    } else if (message.method === 'Debugger.resumed' && pausedAt) {
      const held = Date.now() - pausedAt;
      console.log(resuming ? 'held ' + held + ' ms, resumed by the debugger' : 'resumed by someone else after ' + held + ' ms');
      ws.close();
    }
  };
`;

/** Starts the CDP client against the app's inspector, once the app has printed where it listens. */
async function debug(t: TestContext, app: App, mode: 'pause' | 'brk', holdMs: number): Promise<{ output(): string }> {
  await waitFor(() => /ws:\/\/\S+/.test(app.stderr()), () => `the inspector's URL on stderr: ${app.stderr()}`);
  const url = /ws:\/\/\S+/.exec(app.stderr())![0];
  // Node 20 has WebSocket only behind a flag.
  const flags = typeof WebSocket === 'undefined' ? ['--experimental-websocket'] : [];
  const client = spawn(process.execPath, [...flags, writeScript(CDP_CLIENT, 'cdp-client.js'), url, mode, String(holdMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => client.kill());
  let out = '';
  client.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; });
  return { output: () => out };
}

// Long enough for two commands to be answered during the pause, and ten times the block threshold.
const HOLD_MS = 1000;

/** No block as long as the debugger's pause was recorded (a busy machine may stall the app briefly by itself). */
async function assertPauseNotRecorded(client: Client): Promise<void> {
  const { blocks } = JSON.parse(await client.command('blocks --json')) as { blocks: { durationMs: number; where: string }[] };
  assert.deepEqual(blocks.filter((block) => block.durationMs >= HOLD_MS / 2), [], 'the pause was recorded as a block');
}

/**
 * An in-process debugger: a worker thread of the app that pauses the main thread through its own
 * inspector session, as a debugger embedded in the app would, when the app asks it to. It writes straight
 * to fd 1, since the main thread that relays a worker's console is paused.
 *
 * It is running before it is asked: starting a worker stalls a busy machine's main thread, and a pause asked
 * for while the monitor's own pause of that stall is pending is one pause for V8, which both take for theirs.
 */
const IN_PROCESS_DEBUGGER = `
  const { parentPort, workerData } = require('node:worker_threads');
  const inspector = require('node:inspector');
  const say = (text) => require('node:fs').writeSync(1, text + '\\n');
  const session = new inspector.Session();
  session.connectToMainThread();
  let pausedAt = 0;
  let resuming = false;
  // It stays until the app ends: inspector callbacks alone do not keep a thread alive, and Node 20 sometimes
  // aborts the process when such a worker ends right after a pause (seen without the monitor too).
  setInterval(() => {}, 1000);
  session.on('Debugger.paused', (message) => {
    if (pausedAt) return;
    pausedAt = Date.now();
    say('paused in ' + message.params.callFrames[0].functionName);
    setTimeout(() => { resuming = true; session.post('Debugger.resume'); }, workerData.hold);
  });
  session.on('Debugger.resumed', () => {
    if (!pausedAt) return;
    const held = Date.now() - pausedAt;
    say(resuming ? 'held ' + held + ' ms, resumed by the debugger' : 'resumed by someone else after ' + held + ' ms');
  });
  parentPort.once('message', () => session.post('Debugger.enable', () => session.post('Debugger.pause')));
  say('debugger ready');
`;
const APP = `
  setInterval(function poll() {}, 20);
  console.log('ready');
`;

// Each test has its own app and debugger, and mostly waits out a pause: they run at once.
describe("a developer's debugger", { concurrency: true }, () => {
  test('a pause made with --inspect holds for its full length while the monitor watches and a session reads the app', async (t) => {
    const app = await startApp(APP, { nodeArgs: ['--inspect=127.0.0.1:0', '-r', REGISTER] });
    t.after(() => app.kill());
    await app.waitForOutput('ready');
    const client = await connect(app.port);
    t.after(() => client.socket.destroy());
    const developer = await debug(t, app, 'pause', HOLD_MS);
    await waitFor(() => developer.output().includes('paused in '), () => `the debugger's pause; it printed: ${developer.output()}`);
    assert.match(await client.command('stacktrace'), /^The main thread is paused in a debugger \(its event loop last turned \d+ ms ago\); the monitor leaves it paused: resume it from the debugger\.\r\n$/);
    assert.match(await client.command('ps'), /interval\s+poll every 20 ms/);
    await waitFor(() => /held|someone else/.test(developer.output()), () => `the end of the pause; the debugger printed: ${developer.output()}`);
    assert.match(developer.output(), /held \d+ ms, resumed by the debugger/, "the monitor did not end the developer's pause");
    await assertPauseNotRecorded(client);
  });

  test('under --inspect-brk, a debugger statement holds the app for as long as the debugger keeps it paused', async (t) => {
    const app = await startApp(`process.on('SIGUSR2', function stopHere() { debugger; }); ${APP}`, { nodeArgs: ['--inspect-brk=127.0.0.1:0', '-r', REGISTER] });
    t.after(() => app.kill());
    const developer = await debug(t, app, 'brk', HOLD_MS);
    // The monitor's thread starts only once the first line runs: measured on Node 20 and 24.
    await app.waitForOutput('ready');
    assert.match(developer.output(), /started paused/);
    const client = await connect(app.port);
    t.after(() => client.socket.destroy());
    app.child.kill('SIGUSR2');
    await waitFor(() => developer.output().includes('paused in stopHere'), () => `the debugger statement; the debugger printed: ${developer.output()}`);
    assert.match(await client.command('stacktrace'), /^The main thread is paused in a debugger/);
    assert.match(await client.command('ps'), /interval\s+poll every 20 ms/);
    await waitFor(() => /held|someone else/.test(developer.output()), () => `the end of the pause; the debugger printed: ${developer.output()}`);
    assert.match(developer.output(), /held \d+ ms, resumed by the debugger/, "the monitor did not end the developer's pause");
    await assertPauseNotRecorded(client);
  });

  test("an app's own worker that pauses the main thread through the inspector keeps it paused", async (t) => {
    const app = await startApp(`
      const { Worker } = require('node:worker_threads');
      const debuggerThread = new Worker(${JSON.stringify(IN_PROCESS_DEBUGGER)}, { eval: true, workerData: { hold: ${HOLD_MS} } });
      process.on('SIGUSR2', () => debuggerThread.postMessage('pause'));
      ${APP}
    `);
    t.after(() => app.kill());
    await app.waitForOutput('debugger ready');
    const client = await connect(app.port);
    t.after(() => client.socket.destroy());
    app.child.kill('SIGUSR2');
    await app.waitForOutput('paused in ');
    assert.match(await client.command('stacktrace'), /^The main thread is paused in a debugger/);
    assert.match(await client.command('ps'), /interval\s+poll every 20 ms/);
    await waitFor(() => /held|someone else/.test(app.stdout()), () => `the end of the pause; the app printed: ${app.stdout()}`);
    assert.match(app.stdout(), /held \d+ ms, resumed by the debugger/, "the monitor did not end the developer's pause");
    await assertPauseNotRecorded(client);
  });
});
