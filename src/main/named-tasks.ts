import { addLive, endLive, registry, type Cancelled, type LiveTask, type TraceLink } from './registry';
import { duration } from '../shared/text';

/** Options of `task()`. */
export interface TaskOptions {
  /** An outer signal: when it aborts, the task's own signal aborts too. */
  signal?: AbortSignal;
}

/** Options of `track()`. */
export interface TrackOptions {
  /** What ps calls it. */
  name: string;
  /** The controller whose signal the work watches: `cancel` aborts it. Without one the task cannot be cancelled. */
  controller?: AbortController;
}

// How long `cancel` waits for a task to notice its aborted signal before it answers.
const SETTLE_WAIT_MS = 200;

function abortError(message: string): Error {
  return new DOMException(message, 'AbortError');
}

// Deep enough to reach the app's code through two rounds of AbortSignal dispatch (about ten frames of Node's own).
const CANCEL_STACK_FRAMES = 30;

function stackHere(): string | undefined {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = CANCEL_STACK_FRAMES;
  Error.captureStackTrace(holder, stackHere);
  Error.stackTraceLimit = limit;
  return holder.stack?.split('\n').slice(1).join('\n');
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function checkName(name: unknown, call: string): string {
  // A line break or escape sequence in a name would let it forge lines of the monitor's output.
  if (typeof name !== 'string' || name.trim() === '' || /[\x00-\x1f\x7f]/.test(name)) {
    throw new TypeError(`${call}: name must be a non-empty string of one line without control characters, such as "sync-users"`);
  }
  return name;
}

interface Watch {
  name: string;
  controller: AbortController | undefined;
  /** Who aborted the controller, when it was not the monitor. */
  abortedBy: string;
  functions: [string, Function][];
  link: TraceLink | undefined;
}

/** Lists `promise` in ps as a named task until it settles, then records how it ended; returns a promise of its own. */
function watch<T>(promise: Promise<T>, how: Watch): Promise<T> {
  const { name, controller } = how;
  const started = Date.now();
  let cancel: { by: string; at: number; stack?: string } | undefined;
  let finished = false;
  // The first to abort is the one named: the monitor sets `cancel` before it aborts.
  const onAbort = (): void => { cancel ??= { by: how.abortedBy, at: Date.now(), stack: stackHere() }; };
  controller?.signal.addEventListener('abort', onAbort, { once: true });
  if (controller?.signal.aborted) onAbort();

  const state = (): string => (cancel ? `cancelling for ${duration(Date.now() - cancel.at)}` : 'running');
  const live: LiveTask = {
    object: promise,
    type: 'task',
    name,
    started,
    link: how.link,
    describe: () => (finished ? name : `${name} (${state()})`),
    facts: () => {
      const facts: [string, string][] = [['name', name], ['state', state()], ['running for', duration(Date.now() - started)]];
      if (cancel) facts.push(['cancelled by', cancel.by]);
      if (!controller) facts.push(['cancellable', 'no: it was tracked without an AbortController']);
      return facts;
    },
    functions: () => how.functions,
    cancel(by) {
      const what = `task ${name}`;
      if (!controller) return { ok: false, message: `${what} cannot be cancelled: it was tracked without an AbortController; pass { controller } to track()` };
      if (cancel) return { ok: false, message: `${what} is already cancelled (by ${cancel.by}); it has not stopped yet: its code does not watch its signal` };
      cancel = { by, at: Date.now() };
      controller.abort(abortError(`task ${JSON.stringify(name)} was cancelled from the monitor`));
      // Give the task a moment to notice, so that the answer can say whether it stopped.
      return new Promise<Cancelled>((resolve) => {
        const timer = setTimeout(() => resolve({ ok: true, message: `aborted the signal of ${what}; it is still running: its code does not watch its signal` }), SETTLE_WAIT_MS);
        const stopped = (): void => {
          clearTimeout(timer);
          resolve({ ok: true, message: `cancelled ${what}` });
        };
        promise.then(stopped, stopped);
      });
    },
  };
  addLive(live);
  // The app gets a promise of its own, so that one it ignores still fails as an unhandled rejection, as without the monitor.
  return promise.then(
    (value) => {
      finished = true;
      controller?.signal.removeEventListener('abort', onAbort);
      endLive(live, 'done', cancel ? { detail: `finished although cancelled by ${cancel.by}` } : {});
      return value;
    },
    (error: unknown) => {
      finished = true;
      controller?.signal.removeEventListener('abort', onAbort);
      if (cancel) endLive(live, 'cancelled', { cancelledBy: cancel.by, stack: cancel.stack, detail: describeError(error) });
      else endLive(live, 'error', { detail: describeError(error), stack: error instanceof Error ? error.stack : undefined });
      throw error;
    },
  );
}

/**
 * Runs `fn` as a named task and returns its promise. While it runs it is a row of `ps`, and `cancel ID`
 * aborts the signal it is given; when it ends it goes to `ps-terminated` with how it ended.
 * Works the same with no monitor running: it just runs.
 */
export function task<T>(name: string, fn: (signal: AbortSignal) => T | PromiseLike<T>, options: TaskOptions = {}): Promise<Awaited<T>> {
  checkName(name, 'task(name, fn)');
  if (typeof fn !== 'function') throw new TypeError(`task(${JSON.stringify(name)}, fn): fn must be a function that takes an AbortSignal`);
  const controller = new AbortController();
  const outer = options.signal;
  const onOuterAbort = (): void => controller.abort(outer!.reason);
  if (outer?.aborted) onOuterAbort();
  else outer?.addEventListener('abort', onOuterAbort, { once: true });

  const tracing = registry().tracer?.begin('task', name);
  const run = (): Promise<Awaited<T>> => new Promise<Awaited<T>>((resolve) => resolve(fn(controller.signal) as Awaited<T>));
  const promise = tracing ? tracing.run(run) : run();
  // Once the task has ended, the outer signal no longer needs to reach it (on our promise: the app's must stay unhandled).
  const forget = (): void => outer?.removeEventListener('abort', onOuterAbort);
  promise.then(forget, forget);
  return watch(promise, { name, controller, abortedBy: 'the signal passed to task()', functions: [['function', fn]], link: tracing?.link });
}

/**
 * Lists work that is already running (a promise) as a named task until it settles, as `task()` does;
 * `cancel ID` aborts `controller`, when one is given. Returns a promise of its own that settles as `promise` does.
 */
export function track<T>(promise: PromiseLike<T>, options: TrackOptions): Promise<T> {
  const name = checkName(options?.name, 'track(promise, { name })');
  if (promise === null || typeof (promise as PromiseLike<T>)?.then !== 'function') {
    throw new TypeError(`track(promise, { name: ${JSON.stringify(name)} }): promise must be a promise or another thenable`);
  }
  const { controller } = options;
  if (controller !== undefined && !(controller instanceof AbortController)) {
    throw new TypeError(`track(promise, { name: ${JSON.stringify(name)}, controller }): controller must be an AbortController`);
  }
  const link = registry().tracer?.begin('task', name).link;
  return watch(Promise.resolve(promise), { name, controller, abortedBy: 'its AbortController, aborted by the app', functions: [], link });
}
