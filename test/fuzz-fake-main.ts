import { COMMANDS } from '../src/commands';
import type { CommandContext } from '../src/commands/types';
import { createLineSplitter } from '../src/protocol/lines';
import { createTelnetDecoder } from '../src/protocol/telnet';
import { MainThreadBusyError, type DebuggerSection, type MainInspector, type PausedEvent } from '../src/worker/inspector';
import type { Chain } from '../src/shared/rows';
import type { Vitals } from '../src/shared/vitals';
import type { MainThread } from '../src/worker/main-thread';
import type { Watchdog } from '../src/worker/watchdog';
import { NAMES, type Corpus, type Rng } from './fuzz-corpus';

// The command dispatcher's surroundings for the fuzz tests: a fake main thread, watchdog and session that answer
// from canned data or fail as a seeded stream decides, and the lines a session would hand to the dispatcher.

// ---------------------------------------------------------------------------------------------
// Unit level: the command dispatcher with a fake main thread.

const FAKE_SCRIPT = 'file:///fake/app.js';
/** The only frames a command may print: stacktrace's, from the fake main thread's pause. */
export const FAKE_FRAME = /^ {4}at \S+ \(\/fake\/app\.js:\d+:\d+\)$/;
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
const CANNED_CHAIN: Chain = { root: null, omitted: 0, links: [{ type: 'task', name: 'sync-users', created: Date.now() - 2100, frames: ['at main (/fake/app.js:30:1)'] }] };

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
export interface Effects {
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

export const noEffects = (): Effects => ({ exit: false, console: false, calls: 0, waits: 0, stubbed: 0, writes: 0, failures: 0, misses: 0 });
/** Whether a line acted beyond printing: on the app, on the session, or outside the fake. */
export const acted = (effects: Effects): boolean => effects.exit || effects.console || effects.calls + effects.waits + effects.stubbed + effects.writes > 0;

/** Commands whose run goes only through CommandContext (and process.kill), which the fake makes harmless. */
const FAKEABLE = new Set(['help', 'ps', 'where', 'cancel', 'ps-terminated', 'where-terminated', 'trace', 'signal', 'stacktrace', 'blocks', 'loop', 'mem', 'metrics', 'status', 'console', 'exit']);
/** Inspector requests that only read. */
const READING = new Set(['Runtime.evaluate', 'Runtime.getProperties', 'Runtime.releaseObjectGroup', 'Debugger.enable', 'Debugger.disable', 'Debugger.pause', 'Debugger.resume']);

const cannedStats = (rng: Rng): { p50: number; p90: number; p99: number; max: number; samples: number } =>
  ({ p50: rng.int(20) / 10, p90: rng.int(100) / 10, p99: rng.int(1000) / 10, max: rng.int(5000) / 10, samples: rng.int(10_000) });

/** Canned answers of the hook's queries: list(), inspect(), ended(), endedTask(), tracing(), loop(), mem(); anything else fails. */
/** What the main thread publishes for metrics, as published at `at`, with a label value that needs escaping. */
function cannedVitals(at: number): Vitals {
  const buckets = (n: number): { counts: number[]; sum: number } => ({ counts: Array.from({ length: n }, (_, i) => i % 3), sum: 12.5 });
  return {
    at,
    delay: { lastSecond: { min: 0.1, max: 9, mean: 1, stddev: 2, p50: 0.2, p90: 1, p99: 9, samples: 20 }, sinceStart: { p50: 0.2, p90: 1, p99: 9, max: 3000, samples: 900 }, buckets: buckets(13) },
    utilization: 0.25,
    memory: { rss: 5e7, heapTotal: 8e6, heapUsed: 6e6, external: 1e6, arrayBuffers: 1e4 },
    heapSpaces: [{ name: 'old_space', size: 4e6, used: 3e6, available: 1e8 }],
    gc: { since: Date.now() - 1000, kinds: { minor: buckets(7) } },
    tasks: { interval: 2, 'odd "type"\\\n': 1, 'http-in': 1 },
    finished: { 'http-in': { done: 10, error: 1 } },
  };
}

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
export function fakeContext(rng: Rng, out: string[], effects: Effects): CommandContext {
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
    read: ((method: string) => {
      // The app defines no custom commands, and says so every time, so that help prints the same each time.
      if (method === 'commands') return Promise.resolve([]);
      const canned = cannedQuery(rng, `${method}(`);
      return canned === undefined ? fail() : answer(() => canned);
    }) as MainThread['read'],
    budgeted: (work) => work(),
    adoptTimers: () => (rng.chance(0.2) ? fail() : answer(() => true)),
    vitals: {
      want: () => {},
      // Published long ago, a moment ago, or never: metrics must answer whichever it finds.
      latest: () => rng.pick([null, cannedVitals(performance.timeOrigin + performance.now() - rng.pick([100, 5000]))]),
      next: () => Promise.resolve(rng.chance(0.3) ? null : cannedVitals(performance.timeOrigin + performance.now())),
    },
    call: (() => {
      effects.calls++;
      return answer(() => rng.pick([
        { id: 1, ok: true, message: 'cleared interval 1 (pollQueue every 5000 ms)', task: { type: 'interval', description: 'pollQueue every 5000 ms' } },
        { id: 17, ok: false, message: 'request 17 cannot be cancelled: Node offers no way to abort a pending GetAddrInfoReqWrap', task: { type: 'request', description: 'GetAddrInfoReqWrap' } },
      ]));
    }) as MainThread['call'],
    callUntil: (() => main.call('trace', true)) as MainThread['callUntil'],
  };
  const frames = [{ functionName: 'busyLoop', file: '/fake/app.js', line: 11, column: 5 }];
  const watchdog: Watchdog = {
    blocks: () => [3, 2, 1].filter(() => rng.chance(0.5)).map((id) => ({
      id, startedAt: Date.now() - id * 1000, durationMs: 100 + rng.int(5000),
      frames: rng.chance(0.5) ? frames : null, where: rng.pick(['busyLoop (/fake/app.js:11:5)', '(native code: no JavaScript stack)']),
    })),
    stalledMs: () => rng.pick([0, 0, 0, 300]),
    totals: () => ({ counts: [rng.int(3), 0, 1, 0, 0, 0, 0, 0, 0, 0], sum: 900 }),
    current: () => rng.pick([null, null, { startedAt: Date.now() - 300, stalledMs: 300, where: 'busyLoop (/fake/app.js:11:5)', debugger: false }, { startedAt: Date.now() - 900, stalledMs: 900, where: null, debugger: true }]),
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
export function mistake(rng: Rng, corpus: Corpus): { line: string; kind: string } {
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
export function wellFormed(rng: Rng): string {
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
export function sessionLines(input: Buffer): string[] {
  const decode = createTelnetDecoder();
  let split = createLineSplitter();
  const lines: string[] = [];
  for (const part of decode(Buffer.concat([input, Buffer.from('\r\n')])).parts) {
    if (part === 'interrupt') split = createLineSplitter();
    else if (Buffer.isBuffer(part)) for (const item of split(part)) if ('line' in item) lines.push(item.line);
  }
  return lines;
}

export async function settles(promise: Promise<unknown>, ms: number): Promise<'ok' | 'timeout' | { error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), ms); });
  try {
    return await Promise.race([promise.then(() => 'ok' as const, (error: unknown) => ({ error })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

