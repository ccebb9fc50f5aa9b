import type net from 'node:net';
import { paceInput } from './intake';
import { createLineSplitter } from './lines';
import { createTelnetDecoder } from './telnet';

/** One thing a client typed: a line, a line too long to keep, Ctrl-C, or Ctrl-D. */
export type Input = { kind: 'line'; text: string } | { kind: 'too-long'; bytes: number } | { kind: 'interrupt' } | { kind: 'eof' };

/** How a server reads its client. */
export interface ReadOptions {
  /** What the client sent before (with its token line), read first. */
  first?: Buffer;
  /** Whether the server can take more now; until it can, input waits (see paceInput). Always, if left out. */
  ready?: () => boolean;
  /** Whether a Ctrl-C is looked for in input that waits, so that it stops a command that never ends. */
  interrupts?: boolean;
  /** Called for every input, in the order typed. */
  onInput(input: Input): void;
}

/** A client's input, being read. */
export interface Reader {
  /** Reads on, if the server can take more again. */
  resume(): void;
  /** Hands the client's bytes, undecoded, to `sink` instead (a session that became another's client), or back with null. */
  divert(sink: ((bytes: Buffer) => void) | null): void;
}

/**
 * Reads `socket` as a telnet or plain client: answers the client's telnet negotiation with refusals, and
 * delivers lines (LF, CR LF or a lone CR; a line over MAX_LINE_BYTES as too-long), Ctrl-C and Ctrl-D, as raw
 * bytes or telnet commands, no faster than `ready()` allows. A Ctrl-C drops the part of a line typed before it.
 */
export function readInput(socket: net.Socket, options: ReadOptions): Reader {
  const { first = Buffer.alloc(0), ready = () => true, interrupts = false, onInput } = options;
  const decode = createTelnetDecoder();
  let split = createLineSplitter();
  let sink: ((bytes: Buffer) => void) | null = null;
  const take = (chunk: Buffer): void => {
    if (sink) return sink(chunk);
    const { parts, reply } = decode(chunk);
    if (reply.length > 0 && socket.writable) socket.write(reply);
    for (const part of parts) {
      if (part === 'interrupt') {
        split = createLineSplitter();
        onInput({ kind: 'interrupt' });
      } else if (part === 'eof') {
        onInput({ kind: 'eof' });
      } else {
        for (const item of split(part)) onInput('line' in item ? { kind: 'line', text: item.line } : { kind: 'too-long', bytes: item.tooLong });
      }
    }
  };
  const intake = paceInput(socket, ready, take, first, interrupts);
  return {
    resume: () => intake.resume(),
    divert(to) {
      sink = to;
      intake.resume();
    },
  };
}

/** What a client sent as its first line: the line (telnet commands left out) and the bytes after it, or too-long. */
export type FirstLine = { kind: 'line'; text: string; rest: Buffer } | { kind: 'too-long' };

/**
 * Reads the line a client sends first (its token), for a server that has not let it in yet: the line ends at
 * the first CR or LF byte as sent, whatever telnet state the bytes before it leave, so that no sequence can
 * hold it open, and it is cut off as soon as it passes `maxBytes`. Telnet commands in it are dropped, not
 * answered: the server that lets the client in answers what comes after. Returns what stops the reading.
 */
export function readFirstLine(socket: net.Socket, maxBytes: number, done: (line: FirstLine) => void): () => void {
  let pending = Buffer.alloc(0);
  const stop = (): void => {
    socket.off('data', onData);
  };
  const onData = (chunk: Buffer): void => {
    pending = Buffer.concat([pending, chunk]);
    const end = pending.findIndex((byte) => byte === 10 || byte === 13);
    if (end < 0) {
      if (pending.length > maxBytes) {
        stop();
        done({ kind: 'too-long' });
      }
      return;
    }
    stop();
    const text = Buffer.concat(createTelnetDecoder()(pending.subarray(0, end)).parts.filter((part): part is Buffer => Buffer.isBuffer(part)));
    let rest = pending.subarray(end + 1);
    // The rest of a CR LF or CR NUL line ending belongs to the line.
    if (pending[end] === 13 && (rest[0] === 10 || rest[0] === 0)) rest = rest.subarray(1);
    done({ kind: 'line', text: text.toString('utf8'), rest });
  };
  socket.on('data', onData);
  return stop;
}
