import inspector from 'node:inspector';
import createDebug from 'debug';

const debug = createDebug('aiomonitor:inspector');

/** The main thread did not answer in time: it is stuck in native code, where no interrupt runs. */
export class MainThreadBusyError extends Error {
  override name = 'MainThreadBusyError';
}

/** A script's URL by its inspector ID. */
export type ScriptUrls = Map<string, string>;

/** An inspector session on the main thread, driven from the monitor thread. */
export interface MainInspector {
  /** Sends one protocol command; rejects with MainThreadBusyError past the deadline. */
  post<T = any>(method: string, params?: object, timeoutMs?: number): Promise<T>;
  /** Runs `work` with the Debugger domain enabled and the URLs of all scripts, one caller at a time. */
  withDebugger<T>(work: (scripts: ScriptUrls) => Promise<T>, timeoutMs: number): Promise<T>;
  /** Resolves with the next `Debugger.paused` event's params, or null after `timeoutMs`. */
  nextPause(timeoutMs: number): Promise<PausedEvent | null>;
  /** Disconnects the session. */
  close(): void;
}

/** The part of `Debugger.paused` the monitor reads. */
export interface PausedEvent {
  callFrames: { functionName: string; url: string; location: { scriptId: string; lineNumber: number; columnNumber: number } }[];
}

/** The default deadline for any request to the main thread. */
export const MAIN_DEADLINE_MS = 2000;

/** Connects to the main thread's inspector. */
export function connectMainInspector(): MainInspector {
  const session = new inspector.Session();
  session.connectToMainThread();
  let queue: Promise<unknown> = Promise.resolve();

  // A pause that arrives when nobody waits for it (a capture that gave up while the main thread sat in
  // native code) must never leave the app frozen.
  session.on('Debugger.paused', () => {
    if (!waitingForPause) post('Debugger.resume').catch(() => {});
  });
  let waitingForPause = false;

  function post<T>(method: string, params: object = {}, timeoutMs = MAIN_DEADLINE_MS): Promise<T> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const timer = setTimeout(() => {
        reject(new MainThreadBusyError(`the main thread has not answered for ${Date.now() - started} ms`));
      }, timeoutMs);
      session.post(method, params, (error, result) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(result as T);
      });
    });
  }

  async function runWithDebugger<T>(work: (scripts: ScriptUrls) => Promise<T>, timeoutMs: number): Promise<T> {
    const scripts: ScriptUrls = new Map();
    const onScript = (message: { params: { scriptId: string; url: string } }): void => {
      scripts.set(message.params.scriptId, message.params.url);
    };
    session.on('Debugger.scriptParsed', onScript);
    try {
      await post('Debugger.enable', {}, timeoutMs);
      return await work(scripts);
    } finally {
      session.off('Debugger.scriptParsed', onScript);
      // Left enabled, the Debugger domain makes Node print "Waiting for the debugger to disconnect" at exit.
      post('Debugger.disable', {}, timeoutMs).catch((error) => debug('Debugger.disable: %s', error.message));
    }
  }

  return {
    post,
    withDebugger(work, timeoutMs) {
      const result = queue.then(() => runWithDebugger(work, timeoutMs));
      queue = result.catch(() => {});
      return result;
    },
    nextPause(timeoutMs) {
      waitingForPause = true;
      return new Promise((resolve) => {
        const done = (event: PausedEvent | null): void => {
          clearTimeout(timer);
          session.off('Debugger.paused', onPause);
          waitingForPause = false;
          resolve(event);
        };
        const onPause = (message: { params: PausedEvent }): void => done(message.params);
        const timer = setTimeout(() => done(null), timeoutMs);
        session.on('Debugger.paused', onPause);
      });
    },
    close() {
      session.disconnect();
    },
  };
}
