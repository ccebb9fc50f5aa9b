import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { COMMANDS } from '../src/commands';
import { runLine } from '../src/commands/dispatch';
import type { CommandContext } from '../src/commands/types';
import { createLineSplitter, MAX_LINE_BYTES, type LineItem } from '../src/protocol/lines';
import { createTelnetDecoder, toCrlf, type TelnetEvent } from '../src/protocol/telnet';
import { MainThreadBusyError, type DebuggerSection, type MainInspector, type PausedEvent } from '../src/worker/inspector';
import type { MainThread } from '../src/worker/main-thread';
import { useDeadlines } from '../src/worker/deadlines';
import type { Watchdog } from '../src/worker/watchdog';
import { DEFAULT_DEADLINES } from '../src/shared/config';
import { PROMPT } from '../src/worker/session';
import { connect, startApp, WAIT_MS } from './helpers';

// Seeded, reproducible fuzzing of everything a client's bytes go through: the telnet decoder, the line
// splitter, the command dispatcher, a real monitor and its token prompt. A failure names its seed and shows
// the input in hex; replay it with FUZZ_SEED=<seed> node --test dist/test/fuzz.test.js (after npm run build).
// The corpus is built from the command table, so a seed replays exactly for the same set of commands.

const DEFAULT_SEED = 0x6a09e667;
const SEED = readSeed(process.env.FUZZ_SEED);
const REPLAY = `FUZZ_SEED=${SEED}`;

function readSeed(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return DEFAULT_SEED;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`FUZZ_SEED must be a non-negative integer, not ${JSON.stringify(text)}`);
  return value >>> 0;
}

// ---------------------------------------------------------------------------------------------
// A tiny seeded PRNG (mulberry32); every test draws from its own stream, so tests do not depend on
// one another's order or count.

interface Rng {
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  bytes(n: number): Buffer;
}

function makeRng(seed: number, stream: number): Rng {
  let a = (seed ^ Math.imul(stream, 0x9e3779b1)) >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: (items) => items[int(items.length)],
    bytes: (n) => Buffer.from(Array.from({ length: n }, () => int(256))),
  };
}

// ---------------------------------------------------------------------------------------------
// The corpus: random bytes, and command lines made of the pieces that parsers trip on, then mutated.

const NAMES = COMMANDS.flatMap((cmd) => [cmd.name, ...cmd.aliases]);
const NEAR_NAMES = ['pss', 'hlep', 'exi', 'exitt', 'wher', 'stak', 'consol', 'signals', 'Help', 'PS', 'WHERE', 'StackTrace', 'EXIT', '??', 'h?', 'help?', 'p s', '.exit', '/help', '\\q'];
const FLAGS = [
  '--', '-', '---', '--all', '-a', '-A', '-f', '--filter', '--filter=', '--filter=x', '--filter=a=b', '--filter="a b"', '-fa', '-af', '-ff',
  '--no-all', '--no-filter', '--all=false', '--all=yes', '--help', '-h', '-H', '--HELP', '--h', '-hh', '--__proto__', '--constructor',
  '--toString', '--hasOwnProperty', '--valueOf', '--prototype', '--a.b', '--filter.x', '--_', '-_', '--=', '-=', '--=x', '-1', '--1', '-0',
  '--no-', '--no', '-\u00e9', '--\u{1f642}',
];
const ARGS = [
  '0', '1', '2', '3', '7', '42', '+1', '1.5', '1e3', '0x10', '007', '999999999999999', '1000000000000000', '9007199254740993', 'NaN',
  'Infinity', 'null', 'undefined', 'true', '[]', '{}', 'SIGTERM', 'term', 'usr2', 'SIGUSR2', '9', '15', 'sigkill', 'SIGNOPE', '64', '65',
  'sig', 'SIG', 'SIGSIGINT', 'ps', 'help', 'exit', 'console', '__proto__', 'constructor', 'toString',
];
const QUOTES = ['"', "'", '""', "''", '"a b"', "'a b'", '"unbalanced', "unbalanced'", 'a"b', "a'b", '\\', '\\"', '"\\"', '`', '"--all"', "'-f'", '"ps"', '"\'"', '\'"\''];
const UNICODE = [
  'ü', '日本語', '🙂', '👩‍👩‍👧', '\u200b', '\u202e', '\ufeff', '\u00a0', '\u2028', '\u2029', '\u3000', 'e\u0301', '\u212a', 'İ', '\ud800',
  '\udfff', '\uffff', '\u{10ffff}', '\x1b[31m', '\x7f', '\t', '\v', '\f', '\u0085', 'ﬀ', 'ß',
];
const SEPARATORS = [' ', ' ', ' ', '  ', '\t', ' \u00a0 ', '\u3000', ''];
const INTERESTING_BYTES = [0, 3, 4, 9, 10, 13, 32, 34, 39, 45, 61, 92, 127, 128, 191, 192, 193, 224, 237, 240, 244, 245, 250, 251, 253, 255];
const INVALID_UTF8 = [[0x80], [0xbf], [0xc0, 0xaf], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xfe], [0xff, 0xff], [0xef, 0xbf, 0xbe], [0xf0, 0x9f, 0x99]];
const LONG_LENGTHS = [1000, 4096, MAX_LINE_BYTES - 10, MAX_LINE_BYTES - 1, MAX_LINE_BYTES, MAX_LINE_BYTES + 1, 70_000];

class Corpus {
  /** How many inputs of each kind `input()` made, for the coverage checks. */
  readonly kinds = new Map<string, number>();

  constructor(private readonly rng: Rng, private readonly longRate = 0.03) {}

  private word(): string {
    const { rng } = this;
    switch (rng.int(8)) {
      case 0: return rng.pick(NAMES);
      case 1: case 2: return rng.pick(FLAGS);
      case 3: return rng.pick(ARGS);
      case 4: return rng.pick(QUOTES);
      case 5: return rng.pick(UNICODE);
      case 6: return Array.from({ length: 1 + rng.int(8) }, () => String.fromCharCode(33 + rng.int(94))).join('');
      default: return rng.pick(FLAGS) + (rng.chance(0.5) ? '=' : ' ') + rng.pick([...ARGS, ...QUOTES, ...UNICODE]);
    }
  }

  /** A command name (or something close to one) with random arguments. */
  commandText(): string {
    const { rng } = this;
    const name = rng.chance(0.8) ? rng.pick(NAMES) : rng.chance(0.5) ? rng.pick(NEAR_NAMES) : this.word();
    const cased = rng.chance(0.1) ? name.toUpperCase() : name;
    const parts = [cased, ...Array.from({ length: rng.int(5) }, () => this.word())];
    let text = parts.map((part, i) => (i === 0 ? part : rng.pick(SEPARATORS) + part)).join('');
    if (rng.chance(0.1)) text = rng.pick(SEPARATORS) + text;
    if (rng.chance(0.1)) text += rng.pick(SEPARATORS);
    return text;
  }

  private telnetSequence(): number[] {
    const { rng } = this;
    switch (rng.int(10)) {
      case 0: return [255, rng.int(256)];
      case 1: return [255, 251 + rng.int(4), rng.int(256)];
      case 2: return [255, 250, ...rng.bytes(rng.int(12)), 255, 240];
      case 3: return [255, 250, ...rng.bytes(rng.int(12))]; // subnegotiation cut in half
      case 4: return [255, 255];
      case 5: return [255];
      case 6: return [255, rng.pick([244, 236, 241, 246, 240, 249])];
      case 7: return [255, 250, 255, 255, 255, 240];
      case 8: return [rng.pick([3, 4])];
      default: return [255, 253, 1, 255, 251, 31, 255, 250, 31, 0, 80, 0, 24, 255, 240];
    }
  }

  private mutate(input: Buffer): Buffer {
    const { rng } = this;
    const bytes = [...input];
    for (let n = 1 + rng.int(4); n > 0; n--) {
      const at = rng.int(bytes.length + 1);
      switch (rng.int(7)) {
        case 0: if (at < bytes.length) bytes[at] ^= 1 << rng.int(8); break;
        case 1: if (at < bytes.length) bytes[at] = rng.pick(INTERESTING_BYTES); else bytes.push(rng.pick(INTERESTING_BYTES)); break;
        case 2: bytes.splice(at, 0, ...rng.bytes(1 + rng.int(4))); break;
        case 3: bytes.splice(at, 1 + rng.int(4)); break;
        case 4: bytes.splice(at, 0, ...bytes.slice(at, at + 1 + rng.int(8))); break;
        case 5: bytes.splice(at, 0, ...this.telnetSequence()); break;
        default: bytes.length = Math.min(bytes.length, at); break;
      }
    }
    return Buffer.from(bytes);
  }

  private count(kind: string): void {
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
  }

  /** One fuzzed input, as the bytes a client would type (no line ending added). */
  input(): Buffer {
    const { rng } = this;
    if (rng.chance(this.longRate)) {
      this.count('long');
      const length = rng.chance(0.5) ? rng.pick(LONG_LENGTHS) : 1 + rng.int(5000);
      const filler = rng.pick(['x', '-', '"', '9', 'é', ' ']);
      return Buffer.from(`${rng.pick(NAMES)} ${rng.pick(['', '--filter=', '-f ', '"'])}${filler.repeat(Math.ceil(length / Buffer.byteLength(filler)))}`);
    }
    const roll = rng.int(100);
    if (roll < 12) {
      this.count('bytes');
      return rng.bytes(rng.int(80));
    }
    if (roll < 42) {
      this.count('command');
      return Buffer.from(this.commandText());
    }
    if (roll < 64) {
      this.count('mutated');
      return this.mutate(Buffer.from(this.commandText()));
    }
    if (roll < 76) {
      this.count('telnet');
      const text = Buffer.from(this.commandText());
      const at = rng.int(text.length + 1);
      const parts = [text.subarray(0, at), Buffer.from(this.telnetSequence()), text.subarray(at)];
      return Buffer.concat(rng.chance(0.3) ? [...parts, Buffer.from(this.telnetSequence())] : parts);
    }
    if (roll < 86) {
      this.count('utf8');
      const text = Buffer.from(this.commandText());
      const at = rng.int(text.length + 1);
      return Buffer.concat([text.subarray(0, at), Buffer.from(rng.pick(INVALID_UTF8)), text.subarray(at)]);
    }
    if (roll < 91) {
      this.count('nul');
      const bytes = [...Buffer.from(this.commandText())];
      for (let n = 1 + rng.int(3); n > 0; n--) bytes.splice(rng.int(bytes.length + 1), 0, 0);
      return Buffer.from(bytes);
    }
    this.count('unicode');
    return Buffer.from(`${rng.pick(NAMES)}${Array.from({ length: 1 + rng.int(4) }, () => rng.pick(SEPARATORS) + rng.pick(UNICODE) + rng.pick(UNICODE)).join('')}`);
  }
}

/** Cuts `stream` into random pieces, often right after an IAC, so that sequences straddle chunks. */
function chop(rng: Rng, stream: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < stream.length; i++) {
    const cut = (stream[i] === 255 && rng.chance(0.5)) || rng.chance(1 / 24);
    if (cut) {
      chunks.push(stream.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < stream.length || chunks.length === 0) chunks.push(stream.subarray(start));
  return chunks;
}

/** Hex of `bytes`, with long runs of one byte written as `xx*count`, for failure reports. */
function hex(bytes: Buffer | string): string {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const out: string[] = [];
  for (let i = 0; i < buffer.length;) {
    let j = i;
    while (j < buffer.length && buffer[j] === buffer[i]) j++;
    const byte = buffer[i].toString(16).padStart(2, '0');
    if (j - i >= 8) out.push(`${byte}*${j - i}`);
    else for (let k = i; k < j; k++) out.push(byte);
    i = j;
  }
  return out.join(' ');
}

function shorten(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
}

/** Failures, one example of each kind, reported together so that one bug does not hide another. */
class Findings {
  private readonly examples = new Map<string, { count: number; commands: Set<string>; example: string }>();
  total = 0;

  /** `command`, when given, is the command the input named; the report lists them for each kind. */
  add(kind: string, input: Buffer | string, detail: string, command?: string, label = 'input'): void {
    this.total++;
    const known = this.examples.get(kind);
    if (known) {
      known.count++;
      if (command) known.commands.add(command);
      return;
    }
    const text = typeof input === 'string' ? input : input.toString('latin1');
    this.examples.set(kind, { count: 1, commands: new Set(command ? [command] : []), example: `${label} (hex): ${shorten(hex(input), 600)}\n    ${label} (JSON): ${shorten(JSON.stringify(text))}\n    ${detail}` });
  }

  assertNone(what: string): void {
    const report = [...this.examples].map(([kind, { count, commands, example }]) =>
      `• ${kind}: ${count} times${commands.size ? ` (with ${[...commands].join(', ')})` : ''}, e.g.\n    ${example}`);
    assert.equal(this.total, 0, `${this.total} ${what} failed (replay with ${REPLAY}); one example of each kind:\n${report.join('\n')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Unit level: the telnet decoder and the line splitter.

type Part = Buffer | TelnetEvent;

/** Decodes `chunks` with one decoder; adjacent data parts merged, so that chunking does not show. */
function decodeAll(chunks: Buffer[]): { parts: Part[]; reply: Buffer } {
  const decode = createTelnetDecoder();
  const parts: Part[] = [];
  const replies: Buffer[] = [];
  for (const chunk of chunks) {
    const decoded = decode(chunk);
    replies.push(decoded.reply);
    for (const part of decoded.parts) {
      const last = parts[parts.length - 1];
      if (Buffer.isBuffer(part) && part.length === 0) continue;
      if (Buffer.isBuffer(part) && Buffer.isBuffer(last)) parts[parts.length - 1] = Buffer.concat([last, part]);
      else parts.push(part);
    }
  }
  return { parts, reply: Buffer.concat(replies) };
}

function describeParts(parts: Part[]): string {
  return JSON.stringify(parts.map((part) => (Buffer.isBuffer(part) ? hex(part) : part)));
}

/** What a line splitter must produce for a whole stream: lines ended by CRLF, LF or a lone CR; the unended tail stays pending. */
function referenceLines(stream: Buffer, maxBytes: number): LineItem[] {
  const items: LineItem[] = [];
  let start = 0;
  for (let i = 0; i < stream.length; i++) {
    if (stream[i] !== 10 && stream[i] !== 13) continue;
    if (stream[i] === 10 && i > 0 && stream[i - 1] === 13) { start = i + 1; continue; }
    const line = stream.subarray(start, i);
    items.push(line.length > maxBytes ? { tooLong: line.length } : { line: line.toString('utf8') });
    start = i + 1;
  }
  return items;
}

test(`the telnet decoder and the line splitter take 10,000 fuzzed inputs in any chunking (${REPLAY})`, () => {
  const rng = makeRng(SEED, 1);
  const corpus = new Corpus(rng);
  const findings = new Findings();
  let inputs = 0;
  let streams = 0;
  let tooLong = 0;
  let events = 0;
  while (inputs < 10_000) {
    const count = 1 + rng.int(8);
    inputs += count;
    streams++;
    const stream = Buffer.concat(Array.from({ length: count }, () => [corpus.input(), Buffer.from(rng.pick(['\r\n', '\r\n', '\n', '\r', '\r\0', '', '\n\r']))]).flat());
    let whole: ReturnType<typeof decodeAll>;
    let chunked: ReturnType<typeof decodeAll>;
    try {
      whole = decodeAll([stream]);
      chunked = decodeAll(chop(rng, stream));
    } catch (error) {
      findings.add('the telnet decoder threw', stream, String((error as Error).stack));
      continue;
    }
    if (describeParts(whole.parts) !== describeParts(chunked.parts)) {
      findings.add('chunking changed what the telnet decoder saw', stream, `whole: ${shorten(describeParts(whole.parts))}\n    chunked: ${shorten(describeParts(chunked.parts))}`);
    }
    if (!whole.reply.equals(chunked.reply)) findings.add('chunking changed the telnet reply', stream, `whole: ${hex(whole.reply)}; chunked: ${hex(chunked.reply)}`);
    for (let i = 0; i < whole.reply.length; i += 3) {
      const [iac, verb] = [whole.reply[i], whole.reply[i + 1]];
      if (iac !== 255 || (verb !== 252 && verb !== 254) || i + 2 >= whole.reply.length) {
        findings.add('the telnet reply is not a list of WONT/DONT', stream, `reply: ${hex(whole.reply)}`);
        break;
      }
    }
    const data = Buffer.concat(whole.parts.filter((part): part is Buffer => Buffer.isBuffer(part)));
    events += whole.parts.length - whole.parts.filter((part) => Buffer.isBuffer(part)).length;
    if (data.some((byte) => byte === 0 || byte === 3 || byte === 4)) findings.add('NUL, Ctrl-C or Ctrl-D left in the data', stream, `data: ${shorten(hex(data))}`);
    if (!stream.some((byte) => byte === 0 || byte === 3 || byte === 4 || byte === 255) && (!data.equals(stream) || whole.reply.length > 0)) {
      findings.add('plain bytes were changed by the telnet decoder', stream, `data: ${shorten(hex(data))}`);
    }

    // The splitter: the decoded data in random chunks against the reference, with the real limit or a tiny one.
    const maxBytes = rng.chance(0.5) ? MAX_LINE_BYTES : 1 + rng.int(64);
    const expected = referenceLines(data, maxBytes);
    const split = createLineSplitter(maxBytes);
    const got: LineItem[] = [];
    try {
      for (const chunk of chop(rng, data)) got.push(...split(chunk));
    } catch (error) {
      findings.add('the line splitter threw', stream, String((error as Error).stack));
      continue;
    }
    tooLong += got.filter((item) => 'tooLong' in item).length;
    try {
      assert.deepEqual(got, expected);
    } catch {
      findings.add(`the line splitter (max ${maxBytes === MAX_LINE_BYTES ? 'default' : 'tiny'}) differs from the reference`, stream, `got: ${shorten(JSON.stringify(got))}\n    expected: ${shorten(JSON.stringify(expected))}`);
    }
    if (got.some((item) => 'line' in item && /[\r\n]/.test(item.line))) findings.add('a line holds CR or LF', stream, shorten(JSON.stringify(got)));
  }
  findings.assertNone(`of ${inputs} inputs in ${streams} streams`);
  // The corpus really reached the interesting paths.
  assert.ok(tooLong > 50, `only ${tooLong} too-long lines`);
  assert.ok(events > 200, `only ${events} Ctrl-C/Ctrl-D events`);
  for (const kind of ['bytes', 'command', 'mutated', 'telnet', 'utf8', 'nul', 'unicode', 'long']) {
    assert.ok((corpus.kinds.get(kind) ?? 0) > 50, `only ${corpus.kinds.get(kind) ?? 0} inputs of kind ${kind}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Unit level: the command dispatcher with a fake main thread.

const FAKE_SCRIPT = 'file:///fake/app.js';
/** The only frames a command may print: stacktrace's, from the fake main thread's pause. */
const FAKE_FRAME = /^ {4}at \S+ \(\/fake\/app\.js:\d+:\d+\)$/;
const CANNED_ROWS = [
  { id: 1, type: 'interval', ref: true, summary: 'pollQueue every 5000 ms' },
  { id: 2, type: 'timeout', ref: false, summary: 'flushCache after 600000 ms' },
  { id: 3, type: 'server', ref: true, summary: '127.0.0.1:8080, 0 connections' },
  { id: 4, type: 'socket', ref: true, summary: '127.0.0.1:50000 -> 127.0.0.1:8080' },
  { id: 5, type: 'child', ref: true, summary: 'pid 42: sleep 600' },
  { id: 17, type: 'request', ref: true, summary: 'GetAddrInfoReqWrap example.com' },
  { id: 18, type: 'task', ref: true, summary: 'sync-users (running)', name: 'sync-users', age: 2500 },
  { id: 19, type: 'http-in', ref: true, summary: 'GET /slow from 127.0.0.1:41748', name: 'GET /slow', age: 900 },
];
const CANNED_ENDED = [
  { id: 6, type: 'task', name: 'import-report', summary: 'import-report', started: Date.now() - 9000, ended: Date.now() - 7500, outcome: 'error', detail: 'Error: report.csv: unexpected end of file' },
  { id: 7, type: 'task', name: 'sync-users', summary: 'sync-users', started: Date.now() - 5000, ended: Date.now() - 10, outcome: 'cancelled', cancelledBy: 'monitor session from 127.0.0.1:1' },
  { id: 8, type: 'timeout', name: '', summary: 'retryLater after 300 ms', started: Date.now() - 3000, ended: Date.now() - 2000, outcome: 'ended' },
];
const CANNED_CHAIN = 'Created (most recent call last):\n  task sync-users, 2.1 s ago\n    at main (/fake/app.js:30:1)';

/** What the real main thread fails with: a busy deadline, an exception from evaluate (its description carries a stack), an inspector error. */
function mainFailure(rng: Rng): Error {
  switch (rng.int(4)) {
    case 0: return new MainThreadBusyError('the main thread has not answered for 2000 ms (its event loop last turned 2400 ms ago)');
    case 1: return new Error("TypeError: Cannot read properties of undefined (reading 'list')\n    at <anonymous>:1:43\n    at evaluate (node:internal/x:1:1)");
    case 2: return Object.assign(new Error('Inspector error -32000: Cannot find context with specified id'), { code: 'ERR_INSPECTOR_COMMAND' });
    default: return new Error('');
  }
}

/** What a line made the fake do: the effects a real monitor would have on the app or the session. */
interface Effects {
  exit: boolean;
  console: boolean;
  /** Calls that change the app (cancel). */
  calls: number;
  /** Waits for the user's input (loop --watch). */
  waits: number;
  /** Runs of commands the fake cannot run safely in this process (they write files, take seconds...). */
  stubbed: number;
  /** Inspector requests beyond reading (Profiler.*, HeapProfiler.*). */
  writes: number;
  /** Failures the fake main thread produced. */
  failures: number;
  /** Debugger sections whose pause never lands, as in native code. */
  misses: number;
}

const noEffects = (): Effects => ({ exit: false, console: false, calls: 0, waits: 0, stubbed: 0, writes: 0, failures: 0, misses: 0 });
/** Whether a line acted beyond printing: on the app, on the session, or outside the fake. */
const acted = (effects: Effects): boolean => effects.exit || effects.console || effects.calls + effects.waits + effects.stubbed + effects.writes > 0;

/** Commands whose run goes only through CommandContext (and process.kill), which the fake makes harmless. */
const FAKEABLE = new Set(['help', 'ps', 'where', 'cancel', 'ps-terminated', 'where-terminated', 'trace', 'signal', 'stacktrace', 'blocks', 'loop', 'mem', 'console', 'exit']);
/** Inspector requests that only read. */
const READING = new Set(['Runtime.evaluate', 'Runtime.getProperties', 'Runtime.releaseObjectGroup', 'Debugger.enable', 'Debugger.disable', 'Debugger.pause', 'Debugger.resume']);

const cannedStats = (rng: Rng): { p50: number; p90: number; p99: number; max: number; samples: number } =>
  ({ p50: rng.int(20) / 10, p90: rng.int(100) / 10, p99: rng.int(1000) / 10, max: rng.int(5000) / 10, samples: rng.int(10_000) });

/** Canned answers of the hook's queries: list(), inspect(), ended(), endedTask(), tracing(), loop(), mem(); anything else fails. */
function cannedQuery(rng: Rng, call: string): unknown {
  if (call.startsWith('list(')) return CANNED_ROWS.filter(() => rng.chance(0.6));
  if (call.startsWith('inspect(')) {
    if (rng.chance(0.5)) return null;
    const row = rng.pick(CANNED_ROWS);
    return { detail: { ...row, facts: [['created', 'app.js:3']] }, labels: rng.chance(0.5) ? ['callback'] : [], chain: rng.chance(0.5) ? null : CANNED_CHAIN };
  }
  if (call.startsWith('ended(')) return { tasks: CANNED_ENDED.filter(() => rng.chance(0.6)), doneCounts: rng.chance(0.5) ? {} : { 'http-in': 1 + rng.int(1000) } };
  if (call.startsWith('endedTask(')) {
    if (rng.chance(0.4)) return null;
    const stack = rng.chance(0.5) ? null : 'Error: boom\n    at importReport (/fake/app.js:21:9)';
    return { ...rng.pick(CANNED_ENDED), stack, frames: stack ? ['at importReport (/fake/app.js:21:9)'] : [], chain: rng.chance(0.5) ? null : CANNED_CHAIN };
  }
  if (call.startsWith('signalListeners(')) return rng.int(2);
  if (call.startsWith('tracing(')) return { on: rng.chance(0.5), since: Date.now() - 1000 };
  if (call.startsWith('loop(')) {
    if (rng.chance(0.1)) return null;
    return {
      sinceStart: cannedStats(rng), lastMinute: cannedStats(rng),
      utilization: { sinceStart: rng.next(), lastMinute: rng.next() },
      resources: rng.chance(0.2) ? {} : { Timeout: 1 + rng.int(3), TCPServerWrap: 1, TCPSocketWrap: rng.int(4) },
    };
  }
  if (call.startsWith('mem(')) {
    return {
      memory: { rss: 60e6, heapTotal: 8e6, heapUsed: 5e6, external: 2e6, arrayBuffers: 1e5 },
      heapSpaces: [{ name: 'new_space', size: 1e6, used: 5e5, available: 5e5 }, { name: 'old_space', size: 5e6, used: 4e6, available: 1e6 }],
      gc: rng.chance(0.3) ? null : { since: Date.now() - 5000, kinds: { 'minor (scavenge)': { count: 12, totalMs: 3.5 }, 'major (mark-compact)': { count: 1, totalMs: 4.25 } } },
    };
  }
  return undefined;
}

/** A CommandContext whose main thread answers with canned data or fails, as `rng` decides. */
function fakeContext(rng: Rng, out: string[], effects: Effects): CommandContext {
  const fail = (): Promise<never> => { effects.failures++; return Promise.reject(mainFailure(rng)); };
  const answer = <T>(value: () => T): Promise<T> => (rng.chance(0.35) ? fail() : Promise.resolve(value()));
  const inspector: MainInspector = {
    post: (method) => {
      if (!READING.has(method)) {
        effects.writes++;
        return fail();
      }
      return answer(() => {
        if (method === 'Runtime.evaluate') return { result: { objectId: 'functions' } };
        if (method === 'Runtime.getProperties') {
          return {
            result: [{ name: '0', value: { objectId: 'fn' } }, { name: 'length', value: {} }],
            internalProperties: rng.chance(0.5) ? [{ name: '[[FunctionLocation]]', value: { value: { scriptId: '7', lineNumber: 3, columnNumber: 9 } } }] : [],
          };
        }
        return {};
      }) as Promise<any>;
    },
    hold: (work) => work(() => {}),
    withDebugger: (work) => {
      if (rng.chance(0.2)) return fail();
      // A pause that never lands (native code) costs a real wait of the capture's timer: taken often enough to count, not half the time.
      const pause = rng.chance(0.15) ? null : {
        callFrames: [
          { functionName: 'busyLoop', url: FAKE_SCRIPT, location: { scriptId: '7', lineNumber: 10, columnNumber: 4 } },
          { functionName: '', url: FAKE_SCRIPT, location: { scriptId: '7', lineNumber: 20, columnNumber: 0 } },
        ],
      } satisfies PausedEvent;
      if (!pause) effects.misses++;
      // The main thread may be paused by someone else already, or pause when asked.
      const pausedBefore = pause && rng.chance(0.2) ? pause : null;
      const section: DebuggerSection = {
        scripts: new Map([['7', FAKE_SCRIPT]]),
        pausedBefore,
        onPause: (listener) => { if (pause && !pausedBefore) setImmediate(listener, pause); },
        post: inspector.post,
      };
      return work(section);
    },
    close: () => {},
  };
  const stalled = rng.pick([0, 20, 149, 151, 2500]);
  const main: MainThread = {
    inspector,
    stalledMs: () => stalled,
    lastBeat: () => performance.timeOrigin + performance.now() - stalled,
    query: <T>(call: string) => {
      // The app defines no custom commands, and says so every time, so that help prints the same each time.
      if (call.startsWith('commands')) return Promise.resolve([] as T);
      const canned = cannedQuery(rng, call);
      return canned === undefined ? fail() : answer(() => canned as T);
    },
    budgeted: (work) => work(),
    call: <T>(): Promise<T> => {
      effects.calls++;
      return answer(() => rng.pick(['✓ cleared interval 1 (pollQueue every 5000 ms)', '✗ request 17 cannot be cancelled: Node offers no way to abort a pending GetAddrInfoReqWrap']) as T);
    },
    callUntil: <T>() => main.call<T>('command'),
  };
  const frames = [{ functionName: 'busyLoop', file: '/fake/app.js', line: 11, column: 5 }];
  const watchdog: Watchdog = {
    blocks: () => [3, 2, 1].filter(() => rng.chance(0.5)).map((id) => ({
      id, startedAt: Date.now() - id * 1000, durationMs: 100 + rng.int(5000),
      frames: rng.chance(0.5) ? frames : null, where: rng.pick(['busyLoop (/fake/app.js:11:5)', '(native code: no JavaScript stack)']),
    })),
    stalledMs: () => rng.pick([0, 0, 0, 300]),
    stop: () => {},
  };
  // Commands the fake cannot make harmless keep their name, options and parsing, and only record that they ran.
  const commands = COMMANDS.map((cmd) => (FAKEABLE.has(cmd.name) ? cmd : {
    ...cmd,
    run: (ctx: CommandContext) => { effects.stubbed++; ctx.print(`(${cmd.name} ran)`); },
  }));
  return {
    main,
    watchdog,
    commands,
    peer: 'monitor session from 127.0.0.1:1',
    print: (text = '') => { out.push(text); },
    written: () => Promise.resolve(),
    exit: () => { effects.exit = true; },
    // Enter comes at once or after a few redraws, so that loop --watch ends.
    waitForInput: () => Promise.resolve(++effects.waits >= 3 || rng.chance(0.5)),
    openConsole: () => { effects.console = true; return Promise.resolve(); },
    interrupted: new AbortController().signal,
  };
}

/** Lines that are mistakes by construction, each with the kind of mistake. */
function mistake(rng: Rng, corpus: Corpus): { line: string; kind: string } {
  const word = (): string => Array.from({ length: 1 + rng.int(10) }, () => rng.pick([...'abcdefghijklmnopqrstuvwxyzXYZ_', 'é', '日', '🙂'])).join('');
  const known = new Set(NAMES);
  const withArgs = COMMANDS.filter((cmd) => cmd.args.some((arg) => !arg.startsWith('[')));
  switch (rng.int(9)) {
    case 0: {
      let name = word();
      while (known.has(name.toLowerCase())) name += 'z';
      return { line: `${name} ${corpus.commandText()}`, kind: 'unknown command' };
    }
    case 1: return { line: `${rng.pick(NAMES)} --zq${word()}`, kind: 'unknown option' };
    case 2: return { line: `${rng.pick(NAMES)} --${rng.pick(['toString', 'constructor', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__proto__'])}`, kind: 'unknown option inherited from Object.prototype' };
    case 8: return { line: `${rng.pick(NAMES)} ${rng.pick(['--_', '-_', '--_=1', '--no-_'])}${rng.chance(0.5) ? ` ${word()}` : ''}`, kind: 'unknown option _ (the parser\'s own key)' };
    case 3: return { line: `${rng.pick(withArgs).name} 1 2 ${word()}`, kind: 'too many arguments' };
    case 4: return { line: rng.pick(withArgs).name, kind: 'missing argument' };
    case 5: return { line: `${rng.pick(['where', 'w', 'cancel', 'ca'])} ${rng.pick(['0', '1234567890123456', '1.5', '1e3', word()])}`, kind: 'not a task ID' };
    case 6: return { line: `signal ${rng.pick(['SIGNOPE', 'sig', '65', '999', word()])}`, kind: 'unknown signal' };
    default: return { line: `${rng.pick(['help', '?', 'h'])} ${word()}zz`, kind: 'help for no command' };
  }
}

/** Well-formed command lines, in random case and spacing. */
function wellFormed(rng: Rng): string {
  // Separators as a shell knows them; around the line, any whitespace (it is trimmed).
  const space = (): string => rng.pick([' ', ' ', '  ', '\t']);
  const edge = (): string => (rng.chance(0.1) ? rng.pick([' ', '\t', '\u00a0', '\u3000']) : '');
  const name = (...names: string[]): string => {
    const picked = rng.pick(names);
    return rng.chance(0.2) ? picked.toUpperCase() : picked;
  };
  const id = String(rng.pick([1, 2, 3, 4, 5, 17, 1 + rng.int(999_999)]));
  const parts = rng.pick([
    [name('ps', 'p')], [name('ps', 'p'), rng.pick(['-a', '--all', '--filter=timeout', '-a -f x', '--no-all', '-A'.toLowerCase()])],
    [name('ps', 'p'), '-f', rng.pick(['timeout', 'sock', '"a b"', 'ü', 'x'])], [name('where', 'w'), id], [name('where', 'w'), '--', id],
    [name('cancel', 'ca'), id], [name('signal'), rng.pick(['usr2', 'SIGUSR2', 'term', '15', 'SIGHUP', 'winch'])],
    [name('stacktrace', 'st', 'stack')], [name('help', '?', 'h')], [name('help', '?', 'h'), rng.pick(NAMES)],
    [name('blocks', 'b')], [name('blocks', 'b'), rng.pick(['-t', '--top', String(1 + rng.int(4))])], [name('loop')], [name('loop'), rng.pick(['-w', '--watch'])], [name('mem')],
    [rng.pick(NAMES), rng.pick(['--help', '-h'])], [name('console')], [name('exit', 'q', 'quit')],
  ]);
  return edge() + parts.map((part, i) => (i === 0 ? part : space() + part)).join('') + edge();
}

/** The lines that reach runLine in a session for `input`: through the decoder and the splitter, as session.ts does. */
function sessionLines(input: Buffer): string[] {
  const decode = createTelnetDecoder();
  let split = createLineSplitter();
  const lines: string[] = [];
  for (const part of decode(Buffer.concat([input, Buffer.from('\r\n')])).parts) {
    if (part === 'interrupt') split = createLineSplitter();
    else if (Buffer.isBuffer(part)) for (const item of split(part)) if ('line' in item) lines.push(item.line);
  }
  return lines;
}

async function settles(promise: Promise<unknown>, ms: number): Promise<'ok' | 'timeout' | { error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), ms); });
  try {
    return await Promise.race([promise.then(() => 'ok' as const, (error: unknown) => ({ error })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

test(`runLine answers 10,000 fuzzed lines without a throw or a stack trace (${REPLAY})`, async (t) => {
  const kill = t.mock.method(process, 'kill', () => true);
  // The fake main thread answers at once or never; what the commands wait for a pause that never lands is the
  // monitor thread's deadline, shortened here as AIOMONITOR_TEST_DEADLINE_MS shortens it in a real monitor.
  useDeadlines({ mainMs: 100, refusalGraceMs: 50, consoleStartMs: 150 });
  t.after(() => useDeadlines(DEFAULT_DEADLINES));
  const rng = makeRng(SEED, 2);
  const corpus = new Corpus(rng);
  const findings = new Findings();
  const seen = { lines: 0, errors: 0, mistakes: 0, exits: 0, consoles: 0, calls: 0, waits: 0, stubbed: 0, frames: 0, misses: 0, ok: 0 };
  while (seen.lines < 10_000) {
    // Lines as a session cuts them from fuzzed bytes, command texts, mistakes by construction and well-formed commands.
    const roll = rng.int(4);
    const batch: { line: string; kind?: string; valid?: true }[] = roll === 0
      ? sessionLines(corpus.input()).map((line) => ({ line }))
      : roll === 1 ? [{ line: corpus.commandText() }] : roll === 2 ? [mistake(rng, corpus)] : [{ line: wellFormed(rng), valid: true }];
    for (const { line, kind, valid } of batch) {
      seen.lines++;
      const out: string[] = [];
      const effects: Effects = noEffects();
      const outcome = await settles(runLine(line, fakeContext(rng, out, effects)), 5000);
      if (outcome === 'timeout') { findings.add('runLine did not settle in 5 s', line, ''); continue; }
      if (outcome !== 'ok') { findings.add('runLine rejected', line, String((outcome.error as Error)?.stack ?? outcome.error)); continue; }
      const printed = out.join('\n').split('\n');
      const name = line.trim().split(/\s+/, 1)[0].toLowerCase();
      const cmd = NAMES.includes(name) ? name : '<other>';
      if (effects.exit) seen.exits++;
      if (effects.console) seen.consoles++;
      seen.calls += effects.calls;
      seen.waits += effects.waits;
      seen.stubbed += effects.stubbed;
      seen.misses += effects.misses;
      if (line.trim() === '') {
        if (out.length > 0) findings.add('a blank line printed something', line, `output: ${shorten(JSON.stringify(out))}`);
        continue;
      }
      if (out.length === 0 && !effects.exit && !effects.console) findings.add('a command printed nothing', line, '', cmd);
      for (const text of printed) {
        if (FAKE_FRAME.test(text)) seen.frames++;
        else if (text.includes('    at ')) findings.add('a command printed a stack frame', line, `output: ${shorten(JSON.stringify(out), 800)}`, cmd);
      }
      if (out.join('\n').includes('[object ')) findings.add('a command printed [object ...]', line, `output: ${shorten(JSON.stringify(out))}`, cmd);
      // "✗ NAME failed: ..." passes on a failure of the main thread; with none, it is the monitor's own error shown to the user.
      const internal = printed.find((text) => /^✗ \S+ failed: /.test(text));
      if (effects.failures === 0 && internal) {
        findings.add(`a command showed its own error, the main thread did not fail: ${internal.replace(/^✗ \S+ failed: /, '')}`, line, `output: ${shorten(JSON.stringify(out), 800)}`, cmd);
      }
      const failed = printed.some((text) => text.startsWith('✗'));
      if (failed) seen.errors++;
      else seen.ok++;
      // A failure ends the answer: one ✗ line, the last; what the command printed before it failed may precede it.
      if (failed && (printed.filter((text) => text.startsWith('✗')).length !== 1 || !printed[printed.length - 1].startsWith('✗ '))) {
        findings.add('a command printed a ✗ line that does not end its answer', line, `output: ${shorten(JSON.stringify(out), 800)}`, cmd);
      }
      // A well-formed command fails only when the main thread does, or when the fake's answer says there is no such thing.
      if (valid && failed && effects.failures === 0 && !/^✗ (no task \d+|no block \d+|not sending SIG\w+: |request \d+ cannot be cancelled|the monitor has stopped measuring)/.test(printed[printed.length - 1])) {
        findings.add('a well-formed command was answered with ✗', line, `output: ${shorten(JSON.stringify(out), 800)}`, cmd);
      }
      if (kind !== undefined) {
        seen.mistakes++;
        if (!(printed.length === 1 && printed[0].startsWith('✗ ')) || acted(effects)) {
          findings.add(`mistake "${kind}" not answered with one ✗ line`, line, `output: ${shorten(JSON.stringify(out), 800)}; effects: ${JSON.stringify(effects)}`, cmd);
        }
      }
    }
  }
  t.diagnostic(`paths taken: ${JSON.stringify(seen)}`);
  findings.assertNone(`of ${seen.lines} lines`);
  // Not vacuous: every path was taken many times.
  assert.ok(seen.ok > 1000 && seen.errors > 1000 && seen.mistakes > 1000, `too few successes or mistakes: ${JSON.stringify(seen)}`);
  assert.ok(seen.exits > 20 && seen.consoles > 20 && seen.calls > 20 && seen.waits > 20 && seen.frames > 20 && seen.misses > 20, `a command path was hardly reached: ${JSON.stringify(seen)}`);
  assert.ok(kill.mock.callCount() > 20, `signal sent only ${kill.mock.callCount()} signals`);
  assert.ok(kill.mock.calls.every((call) => call.arguments[0] === process.pid), 'signal went to another process');
});

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
  const rebuild = (): void => {
    feed = simulator();
    for (const step of steps) feed(step.bytes);
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
        steps.push({ bytes: Buffer.from(`${marker}\r\n`), marker: answer.lines.length === 1 && answer.lines[0] === marker ? marker : undefined });
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
