import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, before, describe, test, type TestContext } from 'node:test';
import { connect, startApp, waitFor, type App, type Client } from './helpers';

// Real clients (the `nc` of netcat-openbsd and the `telnet` of inetutils) and raw telnet bytes against a real app.
// The clients are not optional: without them this file fails, telling how to install them (.ci/run does).

const APP = `
setInterval(function pollQueue() {}, 5000);
console.log('ready');
`;
const PROMPT = 'monitor >>> ';
const INSTALL = 'install them with `apt-get install telnet netcat-openbsd` (the CI script .ci/run does this)';

/** Fails, naming the Debian packages, when `command` cannot be run; returns what it printed. */
function requireTool(command: string, args: string[]): string {
  const probe = spawnSync(command, args, { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] });
  if ((probe.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    assert.fail(`\`${command}\` is not installed; these tests need real telnet and nc clients: ${INSTALL}`);
  }
  return `${probe.stdout ?? ''}${probe.stderr ?? ''}`;
}

/** A client process with everything it printed. */
interface Spawned {
  stdout(): Buffer;
  stderr(): string;
  write(text: string): void;
  /** Closes its stdin. */
  end(): void;
  exited: Promise<number | null>;
  /** Waits until stdout, from byte `from` on, contains `text`. */
  until(text: string, from?: number): Promise<void>;
}

function spawnClient(t: TestContext, command: string, args: string[]): Spawned {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { err += chunk; });
  // A client that dies early must fail the test with its output, not with EPIPE.
  child.stdin.on('error', () => {});
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const stdout = (): Buffer => Buffer.concat(out);
  return {
    stdout,
    stderr: () => err,
    write: (text) => { child.stdin.write(text); },
    end: () => { child.stdin.end(); },
    exited,
    until: (text, from = 0) => waitFor(
      () => stdout().subarray(from).toString('utf8').includes(text),
      () => `${command} to print ${JSON.stringify(text)}; stdout: ${JSON.stringify(stdout().toString('latin1'))}\nstderr: ${err}`,
    ),
  };
}

/** Resolves with the exit code, failing the test if the process has not exited within WAIT_MS. */
async function exitWithin(client: Spawned, what: string): Promise<number | null> {
  let code: number | null | undefined;
  void client.exited.then((value) => { code = value; });
  await waitFor(() => code !== undefined, () => `${what}; stdout: ${JSON.stringify(client.stdout().toString('latin1'))}\nstderr: ${client.stderr()}`);
  return code!;
}

/** Lets a write leave as a packet of its own. */
function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50));
}

function count(text: string, piece: string): number {
  return text.split(piece).length - 1;
}

describe('real clients and telnet bytes', () => {
  let app: App;

  before(async () => {
    app = await startApp(APP);
    await app.waitForOutput('ready');
    // The monitor listens a moment after the app starts; the real clients below do not retry like `connect`.
    const probe = await connect(app.port);
    probe.socket.destroy();
  });
  after(() => app?.kill());

  test('nc (netcat-openbsd): banner, ps, and exit closes the connection; no telnet bytes sent', async (t) => {
    const help = requireTool('nc', ['-h']);
    assert.match(help, /OpenBSD netcat/, `\`nc\` is not netcat-openbsd (nc -h says: ${help.split('\n')[0]}); ${INSTALL}`);
    // As `printf 'ps\nexit\n' | nc HOST PORT`. Without -q or -N the end of its input does not end the
    // connection: nc waits for the server to close it, so nc exiting proves that `exit` did.
    const nc = spawnClient(t, 'nc', ['127.0.0.1', String(app.port)]);
    nc.write('ps\nexit\n');
    nc.end();
    const code = await exitWithin(nc, 'nc to exit once the monitor closes the connection after `exit`');
    assert.equal(code, 0, `nc exit code; stderr: ${nc.stderr()}`);
    const raw = nc.stdout();
    const out = raw.toString('utf8');
    assert.match(out, /^aiomonitor: Node\.js v\d+\.\d+\.\d+, pid \d+, \d+ tasks? running\r\nType help for available commands\r\n/);
    assert.match(out, /ID\s+TYPE\s+DESCRIPTION\r\n/);
    assert.match(out, /\d+\s+interval\s+pollQueue every 5000 ms/);
    // One prompt after the banner and one after ps; none after exit.
    assert.equal(count(out, PROMPT), 2, out);
    assert.ok(out.endsWith(PROMPT), `output after exit: ${JSON.stringify(out.slice(-80))}`);
    assert.equal(raw.indexOf(255), -1, 'the monitor sent a telnet IAC byte (255) to a plain nc client');
  });

  test('nc -N: the session ends when the client\'s input ends, after its commands ran', async (t) => {
    requireTool('nc', ['-h']);
    const nc = spawnClient(t, 'nc', ['-N', '127.0.0.1', String(app.port)]);
    nc.write('ps\n');
    await nc.until('pollQueue');
    // At the end of its input, nc -N shuts down its sending side; the monitor finishes and closes.
    nc.end();
    const code = await exitWithin(nc, 'nc -N to exit once its input ended');
    assert.equal(code, 0, `nc exit code; stderr: ${nc.stderr()}`);
  });

  test('nc -N into the console from the prompt: the console answers, and the end of input ends both', async (t) => {
    requireTool('nc', ['-h']);
    // As `printf 'console\n6*7\n' | nc -N HOST PORT`: the client's end of input must reach the console too.
    const nc = spawnClient(t, 'nc', ['-N', '127.0.0.1', String(app.port)]);
    nc.write('console\n6*7\n');
    nc.end();
    const code = await exitWithin(nc, 'nc -N to exit once the console answered the input it was given');
    assert.equal(code, 0, `nc exit code; stderr: ${nc.stderr()}`);
    assert.match(nc.stdout().toString('utf8'), /> 42\r\n/);
  });

  test('telnet: help, ps and exit; telnet reports the connection closed', async (t) => {
    requireTool('telnet', ['--help']);
    const telnet = spawnClient(t, 'telnet', ['127.0.0.1', String(app.port)]);
    await telnet.until(PROMPT);
    let from = telnet.stdout().length;
    telnet.write('help\r\n');
    await telnet.until('Type help CMD or CMD --help for its usage.', from);
    await telnet.until(PROMPT, from);
    from = telnet.stdout().length;
    telnet.write('ps\n');
    await telnet.until(PROMPT, from);
    telnet.write('exit\n');
    await exitWithin(telnet, 'telnet to exit once the monitor closes the connection after `exit`');
    const out = telnet.stdout().toString('utf8');
    assert.match(out, /Connected to 127\.0\.0\.1/);
    assert.match(out, /Type help for available commands/);
    for (const names of ['help, ?, h', 'ps, p', 'where, w', 'cancel, ca', 'signal', 'stacktrace, st, stack', 'console', 'exit, q, quit']) {
      assert.ok(out.includes(names), `help lacks "${names}":\n${out}`);
    }
    assert.match(out, /ID\s+TYPE\s+DESCRIPTION/);
    assert.match(out, /\d+\s+interval\s+pollQueue every 5000 ms/);
    assert.match(`${out}\n${telnet.stderr()}`, /Connection closed by foreign host/);
  });

  describe('telnet bytes over a raw socket', () => {
    /** A connection to the prompt that also keeps the exact bytes received from now on. */
    async function open(t: TestContext): Promise<{ client: Client; untilBytes(expected: number[]): Promise<void> }> {
      const client = await connect(app.port);
      t.after(() => client.socket.destroy());
      client.socket.setNoDelay(true);
      // `connect` set the socket to latin1, so each char of a chunk is one byte.
      let raw = Buffer.alloc(0);
      client.socket.on('data', (chunk: string) => { raw = Buffer.concat([raw, Buffer.from(chunk, 'latin1')]); });
      return {
        client,
        untilBytes: (expected) => waitFor(
          () => raw.includes(Buffer.from(expected)),
          () => `bytes ${JSON.stringify(expected)}; received ${JSON.stringify([...raw])}`,
        ),
      };
    }

    test('IAC DO ECHO is refused with IAC WONT ECHO', async (t) => {
      const { client, untilBytes } = await open(t);
      client.send(Buffer.from([255, 253, 1]));
      await untilBytes([255, 252, 1]);
    });

    test('IAC WILL NAWS is refused with IAC DONT NAWS', async (t) => {
      const { client, untilBytes } = await open(t);
      client.send(Buffer.from([255, 251, 31]));
      await untilBytes([255, 254, 31]);
    });

    test('a subnegotiation in the middle of a command is dropped and the command runs', async (t) => {
      const { client } = await open(t);
      const subnegotiation = [255, 250, 31, 0, 80, 0, 24, 255, 240]; // IAC SB NAWS 80x24 IAC SE
      // In one packet...
      let from = client.received().length;
      client.send(Buffer.concat([Buffer.from('p'), Buffer.from(subnegotiation), Buffer.from('s\r\n')]));
      let out = await client.until(new RegExp(`pollQueue[^]*${PROMPT}`), from);
      assert.match(out, /\d+\s+interval\s+pollQueue every 5000 ms/);
      assert.doesNotMatch(out, /✗/);
      // ...and cut across packets, inside the subnegotiation.
      from = client.received().length;
      client.send(Buffer.concat([Buffer.from('p'), Buffer.from(subnegotiation.slice(0, 4))]));
      await pause();
      client.send(Buffer.from(subnegotiation.slice(4, 8)));
      await pause();
      client.send(Buffer.concat([Buffer.from(subnegotiation.slice(8)), Buffer.from('s\r\n')]));
      out = await client.until(new RegExp(`pollQueue[^]*${PROMPT}`), from);
      assert.match(out, /\d+\s+interval\s+pollQueue every 5000 ms/);
      assert.doesNotMatch(out, /✗/);
    });

    test('CR NUL line endings work', async (t) => {
      const { client } = await open(t);
      const from = client.received().length;
      client.send(Buffer.from('help\r\0ps\r\0'));
      const out = await client.until(/pollQueue[^]*monitor >>> /, from);
      assert.match(out, /Commands:/);
      assert.match(out, /interval\s+pollQueue/);
      assert.doesNotMatch(out, /✗/);
    });

    test('IAC IP at the prompt gives a fresh prompt and drops the half-typed line', async (t) => {
      const { client } = await open(t);
      let from = client.received().length;
      client.send(Buffer.from([255, 244]));
      await client.until(`^C\r\n${PROMPT}`, from);
      // As telnet sends Ctrl-C: the interrupt in a packet of its own, after what was typed.
      from = client.received().length;
      client.send('garbage');
      await pause();
      client.send(Buffer.from([255, 244]));
      await client.until(`^C\r\n${PROMPT}`, from);
      client.send('ps\r\n');
      const out = await client.until(/pollQueue[^]*monitor >>> /, from);
      assert.doesNotMatch(out, /garbage|✗/);
    });

    test('a 70 KiB line gets one "line too long" line and the session goes on', async (t) => {
      const { client } = await open(t);
      const from = client.received().length;
      client.send(`${'x'.repeat(70 * 1024)}\r\n`);
      const out = await client.until(PROMPT, from);
      assert.equal(count(out, 'line too long'), 1, out.slice(0, 500));
      assert.match(out, /^✗ line too long[^\r\n]*\r\nmonitor >>> $/);
      assert.match(await client.command('help'), /Commands:/);
    });

    test('an unknown command gives one ✗ line and no stack trace', async (t) => {
      const { client } = await open(t);
      const out = await client.command('frobnicate --now');
      assert.equal(out.trim().split('\r\n').length, 1, out);
      assert.match(out, /^✗ /);
      assert.doesNotMatch(out, / {4}at /);
      assert.match(await client.command('help'), /Commands:/);
    });
  });
});
