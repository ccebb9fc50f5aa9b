import net from 'node:net';
import { createDebug } from '../shared/log';
import { COMMANDS } from '../commands';
import { runLine } from '../commands/dispatch';
import type { CommandContext } from '../commands/types';
import { MAX_LINE_BYTES } from '../protocol/lines';
import { readInput, type Input } from '../protocol/reader';
import { toCrlf } from '../protocol/telnet';
import type { MainThread } from './main-thread';
import { ReadBudgetError } from './reads';
import type { Watchdog } from './watchdog';
import { deadlines } from './deadlines';
import { describeEndpoint, type Endpoint } from '../shared/config';
import { plural } from '../shared/text';
import { TOKEN_PROMPT } from '../protocol/admission';
import { MAX_UNSENT_OUTPUT } from '../protocol/intake';

const debug = createDebug('aiomonitor:session');

/** The prompt, as in Python aiomonitor. */
export const PROMPT = 'monitor >>> ';
const WRITTEN_WAIT_MS = 1000;
// Typed-ahead lines kept while a command runs (a pasted script); past either bound the socket is not read.
const MAX_TYPED_AHEAD_LINES = 100;
const MAX_TYPED_AHEAD_CHARS = 64 * 1024;

/** What the prompt keeps of what was typed ahead: Ctrl-C acts at once, the rest waits its turn. */
type Typed = Exclude<Input, { kind: 'interrupt' }>;

/** What every session shares. */
export interface SessionEnvironment {
  main: MainThread;
  watchdog: Watchdog;
  /** Where the console listens, or null when it is disabled. */
  console: Endpoint | null;
  /** The token the console asks for, which this session already gave. */
  token: string | null;
}

async function banner(main: MainThread): Promise<string> {
  let tasks: string;
  try {
    tasks = `${plural((await main.read('list', false)).length, 'task')} running`;
  } catch (error) {
    tasks = error instanceof ReadBudgetError ? 'tasks not counted now (the reads have used their share of the main thread)' : `main thread busy for ${main.stalledMs()} ms`;
  }
  return `aiomonitor: Node.js ${process.version}, pid ${process.pid}, ${tasks}\nType help for available commands\n`;
}

/** Serves one client of the command prompt until it leaves or the monitor closes. */
export function serveSession(socket: net.Socket, env: SessionEnvironment, first: Buffer = Buffer.alloc(0)): void {
  // What was typed ahead of the line running, with the length of its lines: past the bounds the socket is not read.
  const queue: Typed[] = [];
  let queuedChars = 0;
  let running = true; // until the banner is out
  let ending = false;
  let inputEnded = false;
  let upstream: net.Socket | undefined;
  // A command waiting for the user to type something (loop --watch waits for Enter).
  let inputWaiter: (() => void) | undefined;
  let interrupt = new AbortController();

  const write = (text: string): void => {
    if (socket.destroyed || !socket.writable) return;
    if (socket.writableLength > MAX_UNSENT_OUTPUT) {
      debug('closing a session that does not read: %d bytes of output unsent', socket.writableLength);
      socket.destroy();
      return;
    }
    socket.write(toCrlf(text));
  };
  const enqueue = (typed: Typed): void => {
    queue.push(typed);
    if (typed.kind === 'line') queuedChars += typed.text.length;
  };
  const dequeue = (): Typed | undefined => {
    const typed = queue.shift();
    if (typed !== undefined) {
      if (typed.kind === 'line') queuedChars -= typed.text.length;
      reader.resume();
    }
    return typed;
  };
  const clearQueue = (): void => {
    queue.length = 0;
    queuedChars = 0;
  };
  const ctx: CommandContext = {
    main: env.main,
    watchdog: env.watchdog,
    commands: COMMANDS,
    peer: `monitor session ${socket.remoteAddress ? `from ${describeEndpoint({ host: socket.remoteAddress, port: socket.remotePort ?? 0 })}` : 'on a Unix socket'}`,
    print: (text = '') => write(`${text}\n`),
    // Bounded: a client that stops reading must not hold up the command.
    written: () => new Promise<void>((resolve) => {
      if (socket.destroyed || !socket.writable) return resolve();
      const timer = setTimeout(resolve, WRITTEN_WAIT_MS);
      socket.write('', () => { clearTimeout(timer); resolve(); });
    }),
    exit: () => { ending = true; },
    waitForInput: (ms) => new Promise<boolean>((resolve) => {
      if (queue.length > 0 || socket.destroyed) {
        dequeue();
        resolve(true);
        return;
      }
      const timer = setTimeout(() => { inputWaiter = undefined; resolve(false); }, ms);
      inputWaiter = () => { clearTimeout(timer); inputWaiter = undefined; resolve(true); };
    }),
    openConsole: () => openConsole(),
    get interrupted() { return interrupt.signal; },
  };

  socket.setNoDelay(true);
  socket.on('error', (error) => debug('client error: %s', error.message));
  socket.on('close', () => { upstream?.destroy(); inputWaiter?.(); interrupt.abort(); });
  // A client that has sent all it had (`printf 'console\n1+1\n' | nc -N`) ends its console's input too, so that the console answers and closes.
  socket.on('end', () => { inputEnded = true; upstream?.end(); void pump(); });
  let pumpDue = false;
  const onInput = (input: Input): void => {
    if (input.kind === 'interrupt') {
      // Ctrl-C drops what was typed before it and not yet run, as in a shell.
      clearQueue();
      if (!running) write(`^C\n${PROMPT}`);
      inputWaiter?.();
      interrupt.abort();
    } else {
      enqueue(input);
    }
    if (inputWaiter && queue.length > 0) {
      dequeue();
      inputWaiter();
    }
    // Run once what came with this input is read: a Ctrl-C pasted after a line drops it rather than stops it.
    if (!pumpDue) {
      pumpDue = true;
      queueMicrotask(() => { pumpDue = false; void pump(); });
    }
  };
  // Read on while a command runs, so that Ctrl-C reaches it, but queue only a bounded number of typed-ahead lines.
  const canTake = (): boolean => (upstream ? !upstream.writableNeedDrain : queue.length < MAX_TYPED_AHEAD_LINES && queuedChars < MAX_TYPED_AHEAD_CHARS);
  const reader = readInput(socket, { first, ready: canTake, interrupts: true, onInput });
  if (socket.readableEnded) inputEnded = true; // the client sent all it had with its token

  void banner(env.main).then((text) => {
    write(`${text}\n${PROMPT}`);
    running = false;
    void pump();
  });

  // Resolves once the output written so far is down to the socket's high-water mark, or the socket is gone.
  const drained = (): Promise<void> => new Promise((resolve) => {
    if (!socket.writableNeedDrain || socket.destroyed) return resolve();
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });

  async function pump(): Promise<void> {
    if (running) return;
    running = true;
    while (queue.length > 0 && !ending && !socket.destroyed) {
      const typed = dequeue()!;
      if (typed.kind === 'eof') { ending = true; break; }
      if (typed.kind === 'too-long') ctx.print(`✗ line too long (over ${MAX_LINE_BYTES / 1024} KiB); it was ignored`);
      else {
        interrupt = new AbortController();
        await runLine(typed.text, ctx);
      }
      // The next line runs once this answer is out: a client that does not read gets no more answers to buffer.
      await drained();
      if (!ending) write(PROMPT);
    }
    running = false;
    // Close fully once the output is out: a half-open socket would swallow what the client types next.
    if (ending || (inputEnded && queue.length === 0)) socket.end(() => socket.destroy());
  }

  function openConsole(): Promise<void> {
    const target = env.console;
    if (!target) {
      ctx.print('✗ the console is disabled in this process (CONSOLE_ENABLED=0 or consoleEnabled: false)');
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const link = 'path' in target ? net.connect(target.path) : net.connect(target.port, target.host);
      let answered = false;
      // The user gave the token to this session already: answer the console's prompt for them, and hide it.
      let hidePrompt = env.token !== null;
      if (env.token !== null) link.write(`${env.token}\n`);
      const silence = setTimeout(() => {
        ctx.print(`✗ the console did not answer: the main thread has been busy for ${env.main.stalledMs()} ms; stacktrace shows what it is doing`);
        link.destroy();
      }, deadlines.consoleStartMs);
      link.on('data', (chunk: Buffer) => {
        answered = true;
        clearTimeout(silence);
        if (hidePrompt && chunk.subarray(0, TOKEN_PROMPT.length).toString() === TOKEN_PROMPT) chunk = chunk.subarray(TOKEN_PROMPT.length);
        hidePrompt = false;
        // The console answers only as fast as the client reads.
        if (!socket.destroyed && !socket.write(chunk)) {
          link.pause();
          socket.once('drain', () => link.resume());
        }
      });
      link.on('drain', () => reader.resume());
      link.on('error', (error) => { if (!answered) ctx.print(`✗ cannot reach the console at ${describeEndpoint(target)}: ${error.message}`); });
      link.on('close', () => {
        clearTimeout(silence);
        upstream = undefined;
        reader.divert(null);
        if (answered) write('\n');
        resolve();
      });
      upstream = link;
      // Lines typed ahead of the console belong to it, Ctrl-D included.
      for (const typed of queue.splice(0)) {
        if (typed.kind === 'eof') link.write(Buffer.from([4]));
        else if (typed.kind === 'line') link.write(`${typed.text}\n`);
      }
      queuedChars = 0;
      // From now on the client's bytes go to the console as they are; it reads them itself.
      reader.divert((bytes) => link.write(bytes));
      if (inputEnded) link.end();
    });
  }
}
