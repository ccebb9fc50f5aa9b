import assert from 'node:assert/strict';
import { COMMANDS } from '../src/commands';
import { MAX_LINE_BYTES } from '../src/protocol/lines';

// Seeded, reproducible fuzzing of everything a client's bytes go through: the telnet decoder and the line
// splitter (fuzz.test.ts), the command dispatcher (fuzz-dispatch.test.ts), a real monitor and its token prompt
// (fuzz-server.test.ts); they run as separate files, in parallel. A failure names its seed and shows the input in
// hex; replay it with FUZZ_SEED=<seed> node --test dist/test/fuzz*.test.js (after npm run build).
// The corpus is built from the command table, so a seed replays exactly for the same set of commands.
// This file holds the seed, the random streams, the corpus and the failure report that the fuzz tests share.

const DEFAULT_SEED = 0x6a09e667;
export const SEED = readSeed(process.env.FUZZ_SEED);
export const REPLAY = `FUZZ_SEED=${SEED}`;

function readSeed(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return DEFAULT_SEED;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`FUZZ_SEED must be a non-negative integer, not ${JSON.stringify(text)}`);
  return value >>> 0;
}

// ---------------------------------------------------------------------------------------------
// A tiny seeded PRNG (mulberry32); every test draws from its own stream, so tests do not depend on
// one another's order or count.

export interface Rng {
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  bytes(n: number): Buffer;
}

export function makeRng(seed: number, stream: number): Rng {
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

export const NAMES = COMMANDS.flatMap((cmd) => [cmd.name, ...cmd.aliases]);
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

export class Corpus {
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
export function chop(rng: Rng, stream: Buffer): Buffer[] {
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
export function hex(bytes: Buffer | string): string {
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

export function shorten(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
}

/** Failures, one example of each kind, reported together so that one bug does not hide another. */
export class Findings {
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

