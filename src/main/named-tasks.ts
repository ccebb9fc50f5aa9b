import { addLive, endLive, registry, type LiveTask } from './registry';
import { duration } from '../commands/format';

/** Options of `task()`. */
export interface TaskOptions {
  /** An outer signal: when it aborts, the task's own signal aborts too. */
  signal?: AbortSignal;
}

// How long `cancel` waits for a task to notice its aborted signal before it answers.
const SETTLE_WAIT_MS = 200;

function abortError(message: string): Error {
  return new DOMException(message, 'AbortError');
}

function stackHere(): string | undefined {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, stackHere);
  return holder.stack?.split('\n').slice(1).join('\n');
}

/**
 * Runs `fn` as a named task and returns its promise. While it runs it is a row of `ps`, and `cancel ID`
 * aborts the signal it is given; when it ends it goes to `ps-terminated` with how it ended.
 * Works the same with no monitor running: it just runs.
 */
export function task<T>(name: string, fn: (signal: AbortSignal) => T | PromiseLike<T>, options: TaskOptions = {}): Promise<Awaited<T>> {
  if (typeof name !== 'string' || name.trim() === '') throw new TypeError('task(name, fn): name must be a non-empty string, such as "sync-users"');
  if (typeof fn !== 'function') throw new TypeError(`task(${JSON.stringify(name)}, fn): fn must be a function that takes an AbortSignal`);
  const controller = new AbortController();
  const started = Date.now();
  let cancel: { by: string; at: number; stack?: string } | undefined;
  let finished = false;
  const outer = options.signal;
  const onOuterAbort = (): void => {
    cancel ??= { by: 'the signal passed to task()', at: Date.now(), stack: stackHere() };
    controller.abort(outer!.reason);
  };
  if (outer?.aborted) onOuterAbort();
  else outer?.addEventListener('abort', onOuterAbort, { once: true });

  const state = (): string => {
    if (!cancel) return 'running';
    return `cancelling for ${duration(Date.now() - cancel.at)}`;
  };
  const handle: { promise?: Promise<Awaited<T>> } = {};
  const live: LiveTask = {
    object: handle,
    type: 'task',
    name,
    started,
    describe: () => (finished ? name : `${name} (${state()})`),
    facts: () => {
      const facts: [string, string][] = [['name', name], ['state', state()], ['running for', duration(Date.now() - started)]];
      if (cancel) facts.push(['cancelled by', cancel.by]);
      return facts;
    },
    functions: () => [['function', fn]],
    cancel(by) {
      const what = `task ${name}`;
      if (cancel) return `✗ ${what} is already cancelled (by ${cancel.by}); it has not stopped yet: its code does not watch its signal`;
      cancel = { by, at: Date.now() };
      controller.abort(abortError(`task ${JSON.stringify(name)} was cancelled from the monitor`));
      // Give the task a moment to notice, so that the answer can say whether it stopped.
      return new Promise<string>((resolve) => {
        const timer = setTimeout(() => resolve(`✓ aborted the signal of ${what}; it is still running: its code does not watch its signal`), SETTLE_WAIT_MS);
        handle.promise!.then(finished, finished);
        function finished(): void {
          clearTimeout(timer);
          resolve(`✓ cancelled ${what}`);
        }
      });
    },
  };
  const tracing = registry().tracer?.begin('task', name);
  if (tracing) live.link = tracing.link;
  addLive(live);

  const run = (): Promise<Awaited<T>> => new Promise<Awaited<T>>((resolve) => resolve(fn(controller.signal) as Awaited<T>));
  const promise = tracing ? tracing.run(run) : run();
  handle.promise = promise;
  // The app gets a promise of its own, so that one it ignores still fails as an unhandled rejection, as without the monitor.
  return promise.then(
    (value) => {
      finished = true;
      outer?.removeEventListener('abort', onOuterAbort);
      endLive(live, 'done', cancel ? { detail: `finished although cancelled by ${cancel.by}` } : {});
      return value;
    },
    (error: unknown) => {
      finished = true;
      outer?.removeEventListener('abort', onOuterAbort);
      if (cancel) endLive(live, 'cancelled', { cancelledBy: cancel.by, stack: cancel.stack, detail: describeError(error) });
      else endLive(live, 'error', { detail: describeError(error), stack: error instanceof Error ? error.stack : undefined });
      throw error;
    },
  );
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
