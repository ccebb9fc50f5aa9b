import path from 'node:path';
import { once } from 'node:events';
import type { MessagePort, Worker } from 'node:worker_threads';
import { createDebug } from '../shared/log';
import { deadlinesFromEnv, describeEndpoint, resolveOptions, type Endpoint, type MonitorOptions, type ResolvedOptions } from '../shared/config';
import type { ConsoleServer } from './console-server';
import { acquireHttpTasks } from './http-tasks';
import { installDiagnosticsHook } from './diagnostics-hook';
import { removeFileOnExit } from './exit-cleanup';
import { adoptRecord, planRecord } from './discovery-record';
import { installInspectHook } from './inspect-hook';
import { keepHistory } from './registry';
import { serveCalls } from './rpc';
import type { ToWorker, WorkerSetup } from '../shared/contract';
import { ownObjects } from './own-objects';

const debug = createDebug('aiomonitor:main');

/** Where a started monitor listens. */
export interface MonitorAddress {
  /** The TCP address of the servers that use TCP, or null when both use Unix sockets. */
  host: string | null;
  /** Port of the command prompt, or null on a Unix socket. */
  port: number | null;
  /** Port of the REPL console, or null when it is disabled or on a Unix socket. */
  consolePort: number | null;
  /** Unix socket file of the command prompt, or null on TCP. */
  path: string | null;
  /** Port of the web page and `/metrics`, or null when they are off. */
  webPort: number | null;
  /** Unix socket file of the console, or null when it is disabled or on TCP. */
  consolePath: string | null;
}

function toAddress(monitor: Endpoint, console: Endpoint | null, web: Endpoint | null): MonitorAddress {
  const tcp = [monitor, console, web].find((endpoint) => endpoint && 'host' in endpoint) as { host: string } | undefined;
  return {
    host: tcp?.host ?? null,
    port: 'port' in monitor ? monitor.port : null,
    consolePort: console && 'port' in console ? console.port : null,
    path: 'path' in monitor ? monitor.path : null,
    consolePath: console && 'path' in console ? console.path : null,
    webPort: web && 'port' in web ? web.port : null,
  };
}

const WORKER_ENTRY = path.join(__dirname, '..', 'worker', 'entry.js');
// Monitors that must not hold the process even while they start: the preload's, for an app that exits at once.
const background = new WeakSet<Monitor>();
const CLOSE_GRACE_MS = 2000;
// The monitor thread's garbage is small and short-lived; left to itself V8 grows its young generation to
// tens of MiB under a churn of sessions (seen: +45 MiB RSS over 3,000 sessions, +28 MiB with this cap).
const YOUNG_GENERATION_MB = 4;
// A runaway in the monitor thread (a bug) stops there, with one line on stderr, instead of eating the app's memory.
// Room for 16 sessions at their 4 MiB output limit and a long CPU profile; a 497 MB heap snapshot streamed
// through a 64 MB cap. Idle RSS does not change (V8 reserves the space as it needs it). --max-old-space-size,
// when the app sets it, overrides this.
const OLD_GENERATION_MB = 128;

/**
 * A live monitor of this process: a command server in its own thread, answering while the app's
 * event loop is blocked, and a REPL console on the main thread. Holds nothing that keeps the process alive.
 */
export class Monitor implements AsyncDisposable {
  readonly #options: ResolvedOptions;
  #state: 'new' | 'started' | 'closed' = 'new';
  #address: MonitorAddress | undefined;
  #worker: Worker | undefined;
  #link: MessagePort | undefined;
  #console: ConsoleServer | undefined;
  #releaseLoopWatch: (() => void) | undefined;
  #releaseTracing: (() => void) | undefined;
  #releaseHttpTasks: (() => void) | undefined;
  #forgetSocketFiles: (() => void)[] = [];
  #removeRecord: (() => void) | undefined;
  // Ports the user did not choose: a default port that is taken gives way to a free one.
  readonly #freeIfTaken: { monitor: boolean; console: boolean; web: boolean };
  #closing: Promise<void> | undefined;
  #tearingDown: Promise<void> | undefined;
  readonly #ready: Promise<MonitorAddress>;
  #settle!: { resolve(address: MonitorAddress): void; reject(error: Error): void };

  /** Checks the options (throwing a ConfigError on a bad one) without starting anything. */
  constructor(options: MonitorOptions = {}) {
    this.#options = resolveOptions(options);
    this.#freeIfTaken = { monitor: options.port === undefined, console: options.consolePort === undefined, web: options.webPort === undefined };
    this.#ready = new Promise((resolve, reject) => { this.#settle = { resolve, reject }; });
    // An app that never awaits `ready` must not die of an unhandled rejection because a port was taken.
    this.#ready.catch(() => {});
  }

  /** Settles when both servers listen, with their addresses; rejects with a one-line error if they cannot. */
  get ready(): Promise<MonitorAddress> {
    return this.#ready;
  }

  /** Where the monitor listens, once `ready` has settled. */
  get address(): MonitorAddress | undefined {
    return this.#address;
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** Starts listening; returns at once (await `ready` to know it worked). Starting twice is a no-op. */
  start(): this {
    if (this.#state === 'closed') throw new Error('this monitor is closed and cannot start again; create a new one with startMonitor()');
    if (this.#state === 'new') {
      this.#state = 'started';
      // An app awaiting `ready` with nothing else to do must not exit before the answer comes.
      const hold = background.has(this) ? undefined : setInterval(() => {}, 60_000);
      this.#launch().finally(() => clearInterval(hold)).then(
        (address) => { this.#address = address; this.#settle.resolve(address); },
        (error: Error) => { void this.#teardown(); this.#settle.reject(error); },
      );
    }
    return this;
  }

  /** Stops both servers, ends every session and frees the ports. Safe to call more than once. */
  close(): Promise<void> {
    if (this.#state === 'new') this.#settle.reject(new Error('the monitor was closed before it started'));
    this.#state = 'closed';
    this.#closing ??= this.#ready.then(() => {}, () => {}).then(() => this.#teardown());
    return this.#closing;
  }

  /** `await using monitor = startMonitor()` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #launch(): Promise<MonitorAddress> {
    const { monitor, console: consoleWanted, token, maxSessions, idleTimeoutMs, blockThresholdMs, blockLog, locals, maxTerminationHistory } = this.#options;
    const rules = { token, maxSessions, idleTimeoutMs };
    const hook = installInspectHook();
    installDiagnosticsHook();
    keepHistory(maxTerminationHistory);
    if (this.#options.trace) this.#releaseTracing = (require('./trace') as typeof import('./trace')).holdTracing();
    this.#releaseHttpTasks = acquireHttpTasks();
    // What watches the app is on before the app's first line; its servers wait for the first turn of its loop
    // (they could not listen sooner anyway), so that a script that has ended by then never pays for them.
    if (background.has(this)) await firstTurnOfTheLoop();
    // The heartbeat starts with them: it could not beat before the loop turns.
    const { buffer: heartbeat, vitals, release } = (require('./loop-watch') as typeof import('./loop-watch')).acquireLoopWatch();
    this.#releaseLoopWatch = release;
    const { listenConsole } = require('./console-server') as typeof import('./console-server');
    const { MessageChannel, Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
    if (consoleWanted) this.#console = await listenConsole({ endpoint: consoleWanted, rules, locals, monitor: this, freeIfTaken: this.#freeIfTaken.console });
    if (this.#state === 'closed') throw new Error('the monitor was closed while starting');
    // Our own channel, not the Worker's built-in port: it can be unref'd and hidden from ps.
    const { port1: link, port2: workerEnd } = new MessageChannel();
    const consoleEndpoint = this.#console?.endpoint ?? null;
    const watchdog = { thresholdMs: blockThresholdMs, log: blockLog };
    const record = planRecord(this, consoleEndpoint, token !== null);
    const web = this.#options.web && { endpoint: this.#options.web, freeIfTaken: this.#freeIfTaken.web };
    const title = process.argv[1] ? path.basename(process.argv[1]) : 'node';
    const setup: WorkerSetup = { monitor, freeIfTaken: this.#freeIfTaken.monitor, consoleWanted, title, web, record, console: consoleEndpoint, rules, watchdog, heartbeat, vitals, deadlines: deadlinesFromEnv(), link: workerEnd };
    // execArgv: [] keeps `-r aiomonitor/register` (and any other preload) out of the monitor's own thread.
    const worker = new Worker(WORKER_ENTRY, { workerData: setup, transferList: [workerEnd], execArgv: [], name: 'aiomonitor', resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB, maxOldGenerationSizeMb: OLD_GENERATION_MB } });
    this.#worker = worker;
    ownObjects.add(worker);
    this.#link = link;
    worker.unref();
    let failure: Error | undefined;
    worker.on('error', (error) => {
      failure = error;
      debug('monitor thread failed: %O', error);
    });
    const started = new Promise<{ endpoint: Endpoint; web: Endpoint | null; record: string | null }>((resolve, reject) => {
      serveCalls(link, hook, (message) => (message.type === 'listening' ? resolve(message) : reject(new Error(message.message))));
      worker.once('exit', (code) => {
        reject(new Error('the monitor thread stopped while starting; run with DEBUG=aiomonitor:* to see why'));
        // Once running, the thread stops only when close() asks it to: anything else (its heap limit, a bug) is said, once.
        if (this.#address && !this.#tearingDown) this.#lost(failure, code);
      });
    });
    link.unref();
    ownObjects.add(link);
    const { endpoint: listening, web: webListening, record: recordFile } = await started;
    // The process may end without closing the monitor: its socket files must not outlive it.
    for (const endpoint of [listening, consoleEndpoint]) {
      if (endpoint && 'path' in endpoint) this.#forgetSocketFiles.push(removeFileOnExit(endpoint.path, true));
    }
    debug('monitor on %s, console on %s', describeEndpoint(listening), consoleEndpoint ? describeEndpoint(consoleEndpoint) : 'none');
    this.#removeRecord = adoptRecord(this, recordFile);
    return toAddress(listening, consoleEndpoint, webListening);
  }

  // The app keeps running; so does the console, which lives on the app's thread and does not need the monitor thread.
  #lost(failure: Error | undefined, code: number): void {
    const reason = failure ? (failure.message.split('\n')[0] || failure.name) : `it exited with code ${code}`;
    process.stderr.write(`aiomonitor: the monitor thread stopped (${reason}); the app runs on without the command prompt (the console still answers); restart the app to get it back\n`);
    this.#worker = undefined;
  }

  // Once only: a failed start tears down at once, and a later close() must not wait for a thread long gone.
  #teardown(): Promise<void> {
    this.#tearingDown ??= (async () => {
      this.#releaseLoopWatch?.();
      this.#releaseTracing?.();
      this.#releaseHttpTasks?.();
      const worker = this.#worker;
      const stopped = worker ? this.#stopWorker(worker) : undefined;
      await Promise.all([stopped, this.#console?.close()]);
      for (const forget of this.#forgetSocketFiles) forget();
      // A start that failed gives up its claim to the record, so that another monitor of the process may have it.
      (this.#removeRecord ?? adoptRecord(this, null))();
    })();
    return this.#tearingDown;
  }

  async #stopWorker(worker: Worker): Promise<void> {
    const exited = once(worker, 'exit');
    this.#link?.postMessage({ type: 'close' } satisfies ToWorker);
    const timer = setTimeout(() => void worker.terminate(), CLOSE_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
}

/** Resolves on the first turn of the event loop, without keeping the process alive until then. */
function firstTurnOfTheLoop(): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 0);
    timer.unref();
    ownObjects.add(timer);
  });
}

/**
 * Starts a monitor that never delays the process's exit, not even while it starts (for the preload); its servers
 * and thread start on the first turn of the app's loop.
 */
export function startInBackground(options: MonitorOptions): Monitor {
  const monitor = new Monitor(options);
  background.add(monitor);
  return monitor.start();
}

/** Creates a monitor and starts it; await `monitor.ready` to know both servers listen. */
export function startMonitor(options: MonitorOptions = {}): Monitor {
  return new Monitor(options).start();
}
