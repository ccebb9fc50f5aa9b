import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLineSplitter, MAX_LINE_BYTES, type LineItem } from '../src/protocol/lines';
import { createTelnetDecoder, type TelnetEvent } from '../src/protocol/telnet';
import { chop, Corpus, Findings, hex, makeRng, REPLAY, SEED, shorten } from './fuzz-corpus';

// Seeded, reproducible fuzzing of everything a client's bytes go through: the telnet decoder and the line
// splitter (fuzz.test.ts), the command dispatcher (fuzz-dispatch.test.ts), a real monitor and its token prompt
// (fuzz-server.test.ts); they run as separate files, in parallel. A failure names its seed and shows the input in
// hex; replay it with FUZZ_SEED=<seed> node --test dist/test/fuzz*.test.js (after npm run build).
// The corpus is built from the command table, so a seed replays exactly for the same set of commands.

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

