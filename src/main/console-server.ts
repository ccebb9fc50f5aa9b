import net from 'node:net';
import type vm from 'node:vm';
import { Readable, Writable } from 'node:stream';
import { createDebug } from '../shared/log';
import { toCrlf } from '../protocol/telnet';
import type { Endpoint } from '../shared/config';
import { openDoor, type AdmissionRules } from '../protocol/admission';
import { MAX_UNSENT_OUTPUT } from '../protocol/intake';
import { listen } from '../protocol/listen';
import { readInput, type Input, type Reader } from '../protocol/reader';

const debug = createDebug('aiomonitor:console');

/** A running console server. */
export interface ConsoleServer {
  /** Where it listens (port resolved when 0 was asked). */
  endpoint: Endpoint;
  /** Stops listening and ends every open session; resolves when the port is free. */
  close(): Promise<void>;
}

/** What listenConsole needs. */
export interface ConsoleOptions { endpoint: Endpoint; rules: AdmissionRules; locals: Record<string, unknown>; monitor: unknown; freeIfTaken?: boolean }

// Names every fresh vm context already has; the app's versions of these must not replace the context's own.
let builtins: Set<string> | undefined;

// How long a session whose input ended waits for a pending await before it hangs up anyway.
const EXIT_GRACE_MS = 10_000;
// What `.save` can still write out of a long session.
const SAVED_LINES = 1000;


/** Starts the REPL server; rejects with a one-line Error if it cannot listen. */
export async function listenConsole(options: ConsoleOptions): Promise<ConsoleServer> {
  const sessions = new Set<() => void>();
  const door = openDoor(options.rules);
  // Half-open, so `printf '1+1\n' | nc -N` still gets its answers after the client stops sending.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    // Not even a client sitting at the token prompt may keep the app alive.
    socket.unref();
    door.admit(socket, (first) => {
      try {
        sessions.add(startSession(socket, options, sessions, first));
      } catch (err) {
        // e.g. the app set its own uncaught-exception capture callback, which the REPL's `domain` refuses to share
        debug('cannot start a console session: %O', err);
        socket.end(toCrlf(`cannot start a console session: ${String(err).split('\n')[0]}\n`));
      }
    });
  });
  server.unref();
  const endpoint = await listen(server, 'the console', options.endpoint, { freeIfTaken: options.freeIfTaken });
  server.on('error', (err) => debug('console server error: %O', err));
  let closing: Promise<void> | undefined;
  return {
    endpoint,
    close: () => closing ??= new Promise<void>((done) => {
      server.close(() => done());
      for (const end of [...sessions]) end();
      door.destroyAll();
    }),
  };
}

function startSession(socket: net.Socket, options: ConsoleOptions, sessions: Set<() => void>, first: Buffer): () => void {
  socket.setNoDelay(true);
  // Loaded on first use: requiring `repl` loads `domain`, which takes over the process's
  // uncaught-exception capture callback, so apps that never open a console should not pay for it.
  const repl = require('node:repl') as typeof import('node:repl');
  let reader: Reader | undefined;
  // A plain Readable rather than a PassThrough: an exception thrown from the REPL's line handler would leave a Transform stuck for good.
  // The REPL asks for more input by reading: then the client's next bytes may come in.
  const input = new Readable({ read() { reader?.resume(); } });
  // Ending the input lets the REPL finish the lines already given to it before it closes.
  let inputEnded = false;
  const feed = (text: string | null): void => {
    if (!inputEnded) input.push(text);
    inputEnded ||= text === null;
  };
  const output = new Writable({
    decodeStrings: false,
    write(chunk: Buffer | string, _encoding, callback) {
      if (socket.writableLength > MAX_UNSENT_OUTPUT) {
        // This runs on the app's thread: a client that does not read must not make the app buffer for it.
        debug('closing a console session that does not read: %d bytes of output unsent', socket.writableLength);
        socket.destroy();
      } else if (socket.writable) {
        socket.write(toCrlf(String(chunk)));
      }
      callback();
    },
  });
  const names = new Set(['monitor', ...Object.keys(options.locals)]);
  output.write(`Node.js ${process.version} console in process ${process.pid} (main thread). ` +
    `Top-level await works. Names: ${[...names].join(', ')}. Leave with .exit or Ctrl-D.\n`);
  const server = repl.start({ input, output, terminal: false, useColors: false, useGlobal: false, prompt: '> ', writer: showValue });
  let shared: Shared = new Map();
  const prepare = (context: vm.Context): void => {
    shared = new Map();
    for (const [name, value] of Object.entries({ ...options.locals, monitor: options.monitor })) {
      Object.defineProperty(context, name, { value, writable: true, configurable: true, enumerable: true });
    }
    shareGlobals(context, shared);
  };
  prepare(server.context);
  server.on('reset', prepare); // `.clear` builds a new context
  // The REPL copies globals once, at session start; refresh before every line so the app's later changes show.
  // Thrown from here an error would escape the REPL's domain and crash the app, hence the catch.
  server.prependListener('line', () => {
    try { shareGlobals(server.context, shared); } catch (err) { debug('cannot share the app globals: %O', err); }
    // The REPL keeps every line it ran, for `.save`: a client that pipes in a million lines must not grow the app's heap.
    const { lines } = server as unknown as { lines?: string[] };
    if (lines && lines.length > SAVED_LINES) lines.splice(0, lines.length - SAVED_LINES);
  });

  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    sessions.delete(end);
    server.close();
    feed(null);
    // Give the goodbye output a moment to drain, but never wait on a client that stopped reading.
    const timer = setTimeout(() => socket.destroy(), 1000).unref();
    socket.once('close', () => clearTimeout(timer));
    socket.end(() => socket.destroy());
  };
  // The REPL delays 'exit' until a pending top-level await settles, so piped input (`echo 'await f()' | nc -N`)
  // gets its answer; but that may be never, so `.exit` ends at once and end of input waits only a while.
  server.on('exit', end);
  server.on('close', () => (inputEnded ? setTimeout(end, EXIT_GRACE_MS).unref() : end()));
  socket.on('close', end);
  socket.on('end', () => feed(null));
  socket.on('error', (err) => { debug('console client error: %O', err); end(); });
  const onInput = (typed: Input): void => {
    if (ended) return;
    switch (typed.kind) {
      case 'interrupt':
        // Ctrl-C drops the expression typed so far, as in a terminal's REPL.
        server.clearBufferedCommand();
        output.write('\n');
        server.displayPrompt();
        break;
      case 'eof':
        feed(null);
        break;
      case 'line':
        feed(`${typed.text}\n`);
        break;
      case 'too-long':
        output.write(`input line too long (${typed.bytes} bytes), ignored\n`);
        break;
    }
  };
  // The REPL runs each line as it is given, so input waits while its answers are still going out to the client
  // (or while the REPL has not taken what it was given).
  const canTake = (): boolean => !socket.writableNeedDrain && input.readableLength < input.readableHighWaterMark;
  reader = readInput(socket, { first, ready: canTake, onInput });
  socket.on('drain', () => reader?.resume());
  if (socket.readableEnded) feed(null); // the client sent all it had with its token
  return end;
}

// The default writer lets an exception from inspecting a value (a throwing getter) escape the REPL's line handler.
function showValue(value: unknown): string {
  try {
    return (require('node:util') as typeof import('node:util')).inspect(value, { showProxy: true, colors: false });
  } catch (err) {
    let why = 'inspecting it threw';
    try { why = String(err); } catch { /* nor can the error be shown */ }
    return `[value cannot be shown: ${why}]`;
  }
}

// Per context: the app globals made live, each with its getter, to recognise the ones still ours.
type Shared = Map<string, () => unknown>;

/** Makes the app's own globals live in a console context: reads follow the app, writes stay in the console. */
function shareGlobals(context: vm.Context, shared: Shared): void {
  builtins ??= new Set((require('node:vm') as typeof vm).runInNewContext('Object.getOwnPropertyNames(globalThis)') as string[]);
  const app = globalThis as Record<string, unknown>;
  for (const [name, get] of shared) {
    if (Object.prototype.hasOwnProperty.call(app, name)) continue;
    shared.delete(name);
    if (Object.getOwnPropertyDescriptor(context, name)?.get === get) delete context[name];
  }
  for (const name of Object.getOwnPropertyNames(app)) {
    if (builtins.has(name) || shared.has(name)) continue;
    const mine = Object.getOwnPropertyDescriptor(context, name);
    const theirs = Object.getOwnPropertyDescriptor(app, name)!;
    // Names the REPL set up itself (console, global, locals...) differ from the app's and are left alone;
    // data the REPL copied by value would go stale when the app reassigns it, so it becomes live too.
    if (mine && !(mine.configurable && 'value' in mine && 'value' in theirs && mine.value === theirs.value)) continue;
    const get = (): unknown => app[name];
    shared.set(name, get);
    Object.defineProperty(context, name, {
      configurable: true,
      enumerable: theirs.enumerable,
      get,
      set(value: unknown) {
        shared.delete(name);
        Object.defineProperty(context, name, { value, writable: true, configurable: true, enumerable: true });
      },
    });
  }
}
