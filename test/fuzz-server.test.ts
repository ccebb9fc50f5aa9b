import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { runLine } from '../src/commands/dispatch';
import { createLineSplitter } from '../src/protocol/lines';
import { createTelnetDecoder, toCrlf } from '../src/protocol/telnet';
import { PROMPT } from '../src/worker/session';
import { chop, Corpus, Findings, hex, makeRng, REPLAY, SEED, shorten } from './fuzz-corpus';
import { acted, fakeContext, noEffects, type Effects } from './fuzz-fake-main';
import { connect, startApp, WAIT_MS } from './helpers';

// The fuzz corpus through a real monitor, and through its token prompt (see fuzz-corpus.ts for the seed and its replay).

// ---------------------------------------------------------------------------------------------
// Server level: the same corpus through a real monitor.

// The app's loop turns every few ms, as a busy server's does: stacktrace's pause lands at once instead of waiting for
// an idle loop to run JavaScript (a quarter of a second for each of the corpus's stacktraces).
const APP = `
const http = require('node:http');
setInterval(function keepAlive() {}, 1000);
setInterval(function serveTraffic() {}, 2);
http.createServer((req, res) => res.end('ok')).listen(0, '127.0.0.1', () => console.log('ready'));
`;
const BATCHES = 20;
const BATCH_INPUTS = 500;
const CRLF = Buffer.from('\r\n');
// From any telnet decoder state, IAC SE IAC SE ends in the data state (a cut subnegotiation included).
const RESYNC = Buffer.from([255, 240, 255, 240, 13, 10]);

/** What `help` prints, as a client receives it. */
async function expectedHelp(): Promise<string> {
  const out: string[] = [];
  await runLine('help', fakeContext(makeRng(0, 0), out, noEffects()));
  return toCrlf(out.map((text) => `${text}\n`).join(''));
}

/**
 * Runs a line as the monitor would, with a recording fake: whether it would end the session, open the
 * console, wait for input, signal the process, cancel a task, or run a command that does more than read. Those lines are kept out of the server's corpus, so that one
 * connection lives through every batch and the app keeps its tasks (the unit test above covers them).
 */
async function acts(line: string): Promise<boolean> {
  const effects: Effects = noEffects();
  const rng = makeRng(0, 0);
  const kill = process.kill;
  let signalled = false;
  process.kill = () => { signalled = true; return true; };
  try {
    await runLine(line, fakeContext({ ...rng, chance: () => false }, [], effects));
  } catch {
    // runLine must not reject (the unit test above says so when it does); let the monitor show what it makes of it.
  } finally {
    process.kill = kill;
  }
  return signalled || acted(effects);
}

/** The session's decoder, splitter and Ctrl-C handling, to know which lines the monitor will run. */
function simulator(): (bytes: Buffer) => { lines: string[]; interrupts: number; eof: boolean } {
  const decode = createTelnetDecoder();
  let split = createLineSplitter();
  return (bytes) => {
    const lines: string[] = [];
    let interrupts = 0;
    let eof = false;
    for (const part of decode(bytes).parts) {
      if (part === 'interrupt') { interrupts++; split = createLineSplitter(); }
      else if (part === 'eof') eof = true;
      else for (const item of split(part)) if ('line' in item) lines.push(item.line);
    }
    return { lines, interrupts, eof };
  };
}

/** One step of a batch: fuzzed bytes, or a marker line to wait for before a Ctrl-C would drop the lines still queued. */
type Step = { bytes: Buffer; marker?: string };

/** Builds a batch: `count` fuzzed inputs none of which acts on the app or ends the session, with markers before Ctrl-Cs. */
async function buildBatch(corpus: Corpus, batch: number, count: number): Promise<{ steps: Step[]; dropped: number; lines: number }> {
  const steps: Step[] = [];
  let feed = simulator();
  // Step counts after which the decoder and the splitter are as new: a marker came out as a line of its own, so it
  // found them in the data state with nothing pending, and left them so. A rebuild replays from the last one.
  const clean: number[] = [0];
  const rebuild = (): void => {
    while (clean[clean.length - 1] > steps.length) clean.pop();
    feed = simulator();
    for (const step of steps.slice(clean[clean.length - 1])) feed(step.bytes);
  };
  const safe = async (result: ReturnType<ReturnType<typeof simulator>>): Promise<boolean> => {
    if (result.eof) return false;
    for (const line of result.lines) if (await acts(line)) return false;
    return true;
  };
  let inputs = 0;
  let dropped = 0;
  let lines = 0;
  let markers = 0;
  while (inputs < count) {
    const bytes = Buffer.concat([corpus.input(), CRLF]);
    let result = feed(bytes);
    if (result.interrupts > 0) {
      // Wait for the monitor to catch up before this Ctrl-C, or it would drop the lines still queued.
      rebuild();
      const marker = `fuzz-marker-${batch}-${markers++}`;
      const answer = feed(Buffer.from(`${marker}\r\n`));
      if (await safe(answer)) {
        const alone = answer.lines.length === 1 && answer.lines[0] === marker && answer.interrupts === 0 && !answer.eof;
        steps.push({ bytes: Buffer.from(`${marker}\r\n`), marker: alone ? marker : undefined });
        if (alone) clean.push(steps.length);
        lines += answer.lines.length;
      } else {
        rebuild();
      }
      result = feed(bytes);
    }
    if (!(await safe(result))) {
      dropped++;
      rebuild();
      continue;
    }
    steps.push({ bytes });
    lines += result.lines.length;
    inputs++;
  }
  // The end of the batch: back to the data state, with any pending line run, unless that line would act.
  while (!(await safe(feed(RESYNC)))) {
    steps.pop();
    rebuild();
  }
  steps.push({ bytes: RESYNC });
  return { steps, dropped, lines };
}

/** Everything a socket received, with waits that wake on data rather than on a timer. */
class Recorder {
  private readonly chunks: Buffer[] = [];
  /** Bytes received so far. */
  size = 0;
  private waiter: ((chunk: Buffer | null) => void) | undefined;

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: string | Buffer) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      this.chunks.push(buffer);
      this.size += buffer.length;
      this.waiter?.(buffer);
    });
    socket.on('close', () => this.waiter?.(null));
  }

  /** The bytes received from offset `from` on. */
  private since(from: number): Buffer {
    const tail: Buffer[] = [];
    let start = this.size;
    for (let i = this.chunks.length - 1; i >= 0 && start > from; i--) {
      tail.unshift(this.chunks[i]);
      start -= this.chunks[i].length;
    }
    return Buffer.concat(tail).subarray(Math.max(0, from - start));
  }

  /** Received bytes as text, the monitor's telnet replies (IAC WONT/DONT x, the only 0xFF bytes it sends) removed. */
  text(): string {
    return Buffer.from(this.since(0).toString('latin1').replace(/\xff[\xfb-\xfe][\s\S]/g, ''), 'latin1').toString('utf8');
  }

  /** Resolves once the bytes received from offset `from` on contain `text`. */
  until(text: string, from: number): Promise<void> {
    const needle = Buffer.from(text);
    let window = this.since(from);
    return new Promise<void>((resolve, reject) => {
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        this.waiter = undefined;
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(() => finish(new Error(`timed out waiting for ${JSON.stringify(text)}; last received: ${JSON.stringify(this.since(Math.max(from, this.size - 2000)).toString('utf8'))}`)), WAIT_MS);
      const check = (chunk: Buffer | null): void => {
        if (chunk === null) return finish(new Error(`the connection closed while waiting for ${JSON.stringify(text)}`));
        window = Buffer.concat([window.subarray(Math.max(0, window.length - needle.length + 1)), chunk]);
        if (window.includes(needle)) finish();
      };
      if (window.includes(needle)) return finish();
      if (this.socket.destroyed) return finish(new Error(`the connection closed while waiting for ${JSON.stringify(text)}`));
      this.waiter = check;
    });
  }
}

function write(socket: Socket, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(chunk, (error) => (error ? reject(error) : resolve())));
}

/** Checks each answer of a session: no stack frame outside stacktrace's report, and a ✗ answer is one line. */
function checkAnswers(findings: Findings, received: string): { answers: number; errors: number; kinds: Record<string, number> } {
  const segments = received.split(PROMPT).slice(1).filter((segment) => !/^(\^C\r\n)+$/.test(segment));
  let errors = 0;
  const kinds: Record<string, number> = {};
  const patterns: [string, RegExp][] = [
    ['help', /^Commands:\r\n/], ['usage', /^Usage: /], ['ps', /^\d+ tasks? /], ['where', /^\w+ \d+: /], ['stacktrace', /^(Main thread|The event loop is idle|The main thread)/],
    ['blocks', /^(No blocks so far|\d+ blocks?, |The event loop is blocked right now)/], ['loop', /^EVENT LOOP DELAY/], ['mem', /^Process: rss /],
    ['too long', /^✗ line too long/], ['unknown command', /^✗ unknown command/], ['blank', /^$/],
  ];
  for (const segment of segments) {
    const kind = patterns.find(([, pattern]) => pattern.test(segment.replace(/^(\^C\r\n)+/, '')))?.[0] ?? 'other';
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  for (const raw of segments) {
    const segment = raw.replace(/^(\^C\r\n)+/, '');
    const lines = segment.split('\r\n');
    if (lines[lines.length - 1] === '') lines.pop();
    // stacktrace and blocks ID show the main thread's stack; nothing else may.
    const report = /^(Main thread \(pid \d+\) (running|blocked for \d+ ms), most recent call first:|block \d+: \d+ ms, started .*)$/.test(lines[0] ?? '');
    for (const line of report ? lines.slice(1) : lines) {
      // A report holds frames, and for a block without a stack a line that says why.
      if (report ? !/^( {4}at .+ \(.+:\d+:\d+\)| {2}\S.*)$/.test(line) : line.includes('    at ')) findings.add('the monitor sent a stack frame', segment, `line: ${JSON.stringify(line)}`, undefined, 'answer');
    }
    // The app is healthy: its main thread never fails, so "✗ NAME failed: ..." is the monitor's own error.
    const internal = lines.find((line) => /^✗ \S+ failed: /.test(line));
    if (internal) findings.add(`the monitor showed an internal error: ${internal.replace(/^✗ \S+ failed: /, '')}`, segment, '', undefined, 'answer');
    if (lines.some((line) => line.startsWith('✗'))) {
      errors++;
      if (lines.filter((line) => line.startsWith('✗')).length !== 1 || !lines[lines.length - 1].startsWith('✗ ')) {
        findings.add('the monitor sent a ✗ line that does not end its answer', segment, '', undefined, 'answer');
      }
    }
  }
  return { answers: segments.length, errors, kinds };
}

test(`a monitor takes ${BATCHES} batches of ${BATCH_INPUTS} fuzzed inputs and still answers help (${REPLAY})`, async (t: TestContext) => {
  const started = Date.now();
  const app = await startApp(APP);
  t.after(() => app.kill());
  await app.waitForOutput('ready');
  const help = await expectedHelp();
  assert.match(help, /^Commands:\r\n {2}help, \?, h +/);

  const rng = makeRng(SEED, 3);
  const corpus = new Corpus(rng, 0.01);
  const findings = new Findings();
  const fuzz = await connect(app.port);
  t.after(() => fuzz.socket.destroy());
  fuzz.socket.setNoDelay(true);
  const received = new Recorder(fuzz.socket);
  let socketError: Error | undefined;
  fuzz.socket.on('error', (error) => { socketError = error; });
  let totalLines = 0;
  let totalDropped = 0;

  for (let batch = 0; batch < BATCHES; batch++) {
    const { steps, dropped, lines } = await buildBatch(corpus, batch, BATCH_INPUTS);
    totalLines += lines;
    totalDropped += dropped;
    let sent = 0;
    let answered = 0; // steps before the last marker answered: all run without trouble
    try {
      for (const step of steps) {
        const mark = received.size;
        for (const chunk of chop(rng, step.bytes)) await write(fuzz.socket, chunk);
        sent++;
        if (step.marker) {
          await received.until(`✗ unknown command "${step.marker}"; type help for the list\r\n${PROMPT}`, mark);
          answered = sent;
        }
      }
      // The same connection, still open: a marker, then help.
      const mark = received.size;
      const sync = `fuzz-sync-${batch}`;
      await write(fuzz.socket, Buffer.from(`${sync}\r\n`));
      await received.until(`✗ unknown command "${sync}"; type help for the list\r\n${PROMPT}`, mark);
    } catch (error) {
      const suspects = steps.slice(answered, sent).map((step) => `    ${shorten(hex(step.bytes), 600)}`).join('\n');
      assert.fail(`the monitor stopped answering the fuzzed connection in batch ${batch}, after step ${sent} of ${steps.length} (replay with ${REPLAY}): ${(error as Error).message}\n` +
        `  socket error: ${socketError?.message ?? 'none'}; app alive: ${app.child.exitCode === null && app.child.signalCode === null}; app stderr: ${JSON.stringify(app.stderr())}\n` +
        `  the inputs sent since the monitor last answered (hex), one of which it choked on:\n${suspects}`);
    }
    assert.equal(await fuzz.command('help'), help, `help on the fuzzed connection after batch ${batch} (${REPLAY})`);

    // A fresh connection.
    const fresh = await connect(app.port);
    try {
      assert.equal(await fresh.command('help'), help, `help on a fresh connection after batch ${batch} (${REPLAY})`);
      fresh.send('exit\r\n');
      await fresh.closed;
    } finally {
      fresh.socket.destroy();
    }
    assert.equal(app.child.exitCode, null, `the app exited during batch ${batch}; stderr: ${app.stderr()}`);
    assert.equal(app.child.signalCode, null, `the app was killed during batch ${batch}; stderr: ${app.stderr()}`);
  }

  const { answers, errors, kinds } = checkAnswers(findings, received.text());
  t.diagnostic(`${BATCHES * BATCH_INPUTS} inputs (${totalLines} lines, ${totalDropped} acting inputs left out) in ${Date.now() - started} ms`);
  t.diagnostic(`${answers} answers, ${errors} of them ✗; by kind: ${JSON.stringify(kinds)}`);
  findings.assertNone(`answers of the monitor`);
  // Every line the batches held was answered (a Ctrl-C may drop some queued before it in its own packet), and many were mistakes.
  assert.ok(answers > totalLines * 0.8, `the monitor answered ${answers} times for ${totalLines} lines`);
  assert.ok(errors > 1000, `only ${errors} ✗ answers`);

  // The app lives, its main thread answers, and it printed nothing on stderr.
  const last = await connect(app.port);
  t.after(() => last.socket.destroy());
  assert.match(await last.command('ps'), /interval\s+keepAlive every 1000 ms/);
  assert.equal(app.stderr(), '', 'the app printed on stderr');
});

// ---------------------------------------------------------------------------------------------
// Server level: the token prompt, which reads its line before any session exists.

const TOKEN_TRIES = 400;

/** Sends `chunks` on a fresh connection and returns all it received until the server closed it. */
function answerBeforeClose(port: number, chunks: Buffer[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1');
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the connection was not closed in ${WAIT_MS} ms; received: ${JSON.stringify(Buffer.concat(received).toString('utf8'))}`));
    }, WAIT_MS);
    socket.on('error', () => {}); // a reset after the answer is the server's business; the answer is what counts
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(received).toString('utf8')); });
    socket.once('connect', async () => {
      for (const chunk of chunks) if (!socket.destroyed) await new Promise<void>((done) => socket.write(chunk, () => done()));
    });
  });
}

test(`the token prompt turns away ${TOKEN_TRIES} fuzzed token lines with one line, and the right token still opens (${REPLAY})`, async (t: TestContext) => {
  const token = `fuzz-token-${SEED}`;
  const app = await startApp(APP, { env: { MONITOR_TOKEN: token } });
  t.after(() => app.kill());
  await app.waitForOutput('ready');
  const first = await connect(app.port, 'token: '); // waits for the monitor to listen
  first.socket.destroy();

  const rng = makeRng(SEED, 4);
  const corpus = new Corpus(rng);
  const findings = new Findings();
  for (let i = 0; i < TOKEN_TRIES; i++) {
    // Up to 1000 bytes and a line end (past 1024 bytes the prompt stops reading). The bytes up to the first line end come
    // in random chunks, the rest with it: bytes arriving after the answer would make the server's close a reset.
    const line = Buffer.concat([corpus.input().subarray(0, 1000), Buffer.from(rng.pick(['\r\n', '\n', '\r', '\r\0']))]);
    const end = line.findIndex((byte) => byte === 10 || byte === 13);
    const chunks = chop(rng, line.subarray(0, end));
    chunks.push(line.subarray(end));
    const port = i % 2 === 0 ? app.port : app.consolePort;
    let answer: string;
    try {
      answer = await answerBeforeClose(port, chunks);
    } catch (error) {
      findings.add(`the ${port === app.port ? 'monitor' : 'console'} kept a wrong token's connection open`, line, (error as Error).message);
      continue;
    }
    if (answer !== 'token: ✗ wrong token\r\n') findings.add(`a wrong token got another answer than one ✗ line (${port === app.port ? 'monitor' : 'console'})`, line, `answer: ${JSON.stringify(answer)}`);
  }
  findings.assertNone(`of ${TOKEN_TRIES} token lines`);

  const client = await connect(app.port, 'token: ');
  t.after(() => client.socket.destroy());
  client.send(`${token}\r\n`);
  await client.until(PROMPT);
  assert.equal(await client.command('help', PROMPT), await expectedHelp());
  assert.equal(app.child.exitCode, null, `the app exited; stderr: ${app.stderr()}`);
  assert.equal(app.stderr(), '', 'the app printed on stderr');
});

