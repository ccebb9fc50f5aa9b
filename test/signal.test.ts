import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { attach, connect, startApp } from './helpers';

const QUIET_APP = 'setInterval(function keepAlive() {}, 1000); console.log("ready");';

describe('signal says what a signal will do before it does it', () => {
  test('a signal the app does not handle would end it: refused without --force, and sent with it after the ✓ line', async (t) => {
    const { app, client } = await attach(t, QUIET_APP);
    const refused = await client.command('signal usr2');
    assert.match(refused, /^✗ not sending SIGUSR2: the app has no handler for it, so it would end the app; add --force to send it anyway\r\n$/);
    assert.equal(app.child.exitCode, null, 'the app was not touched');
    assert.match(await client.command('ps'), /keepAlive/, 'the session goes on');

    client.send('signal usr2 --force\r\n');
    assert.match(await client.until(/\r\n/, client.received().length), /✓ sent SIGUSR2 to process \d+: without a handler for it, the app ends/);
    assert.deepEqual(await app.waitForExit(), { code: null, signal: 'SIGUSR2' });
  });

  test('a signal the app handles is sent at once', async (t) => {
    const { app, client } = await attach(t, `${QUIET_APP} process.on('SIGHUP', () => console.log('reloading'));`);
    assert.match(await client.command('signal hup'), /^✓ sent SIGHUP to process \d+\r\n$/);
    await app.waitForOutput('reloading');
    assert.equal(app.child.exitCode, null);
  });

  test('SIGSTOP is refused, SIGKILL and stopping signals need --force, harmless ones are sent', async (t) => {
    const { app, client } = await attach(t, QUIET_APP);
    assert.match(await client.command('signal stop'), /^✗ SIGSTOP would freeze the whole process, this monitor with it, and nothing here could resume it; from a shell: kill -STOP \d+, then kill -CONT \d+\r\n$/);
    assert.match(await client.command('signal 9'), /^✗ SIGKILL ends the process at once, without any cleanup; add --force to send it\r\n$/);
    assert.match(await client.command('signal tstp'), /^✗ not sending SIGTSTP: the app has no handler for it, so it would stop the whole process, this monitor with it; add --force/);
    assert.match(await client.command('signal usr1'), /^✗ SIGUSR1 makes Node open its inspector .*, where any local user can run code in the app without a token; add --force to send it\r\n$/);
    assert.match(await client.command('signal winch'), /^✓ sent SIGWINCH to process \d+\r\n$/);
    assert.match(await client.command('signal pipe'), /^✓ sent SIGPIPE to process \d+: the process ignores it\r\n$/);
    assert.match(await client.command('ps'), /keepAlive/, 'the app still runs and the monitor answers');
    client.send('signal kill -f\r\n');
    assert.deepEqual(await app.waitForExit(), { code: null, signal: 'SIGKILL' });
  });
});

test('on a socket file, whose cleanup listens to SIGTERM, a SIGTERM the app does not handle is still refused without --force', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-signal-'));
  const socket = path.join(dir, 'monitor.sock');
  const app = await startApp(QUIET_APP, { env: { MONITOR_PATH: socket } });
  t.after(() => app.kill());
  await app.waitForOutput('ready');
  const client = await connect(socket);
  t.after(() => client.socket.destroy());
  assert.match(await client.command('signal term'), /^✗ not sending SIGTERM: the app has no handler for it/);
  client.send('signal term --force\r\n');
  assert.deepEqual(await app.waitForExit(), { code: null, signal: 'SIGTERM' });
  assert.deepEqual(fs.readdirSync(dir), [], 'the socket file is removed');
});

test('escape and DEL bytes a client types come back escaped in error lines', async (t) => {
  const { client } = await attach(t, QUIET_APP);
  const out = await client.command('ps --\x1b[2J\x7f');
  assert.equal(out, '✗ ps: unknown option --\\x1b[2J\\x7f; usage: ps [-f TEXT] [-a] [-s age|type|name] [-n N] [--json]\r\n');
  const unknown = await client.command('\x1b[31mhelp\x7f');
  assert.match(unknown, /^✗ unknown command "\\u001b\[31mhelp\\x7f"/);
  assert.doesNotMatch(unknown, /[\x1b\x7f]/);
});
