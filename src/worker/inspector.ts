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
  /** Keeps one session connected while `work` runs, so that object IDs and event subscriptions hold from one request to the next. */
  hold<T>(work: (subscribe: Subscribe) => Promise<T>): Promise<T>;
  /** Runs `work` with the Debugger domain enabled and the URLs of all scripts, one caller at a time. */
  withDebugger<T>(work: (scripts: ScriptUrls) => Promise<T>, timeoutMs: number): Promise<T>;
  /** Resolves with the next `Debugger.paused` event's params, or null after `timeoutMs`. */
  nextPause(timeoutMs: number): Promise<PausedEvent | null>;
  /** Disconnects the session. */
  close(): void;
}

/** Listens to one protocol event of the held session, until the hold ends. */
export type Subscribe = (event: string, listener: (message: { params: any }) => void) => void;

/** The part of `Debugger.paused` the monitor reads. */
export interface PausedEvent {
  callFrames: { functionName: string; url: string; location: { scriptId: string; lineNumber: number; columnNumber: number } }[];
}

/** The default deadline for any request to the main thread. */
export const MAIN_DEADLINE_MS = 2000;

/**
 * Reaches the main thread's inspector. The session is connected only while a request is in flight:
 * a session left connected makes `process.exit()` print "Waiting for the debugger to disconnect...".
 */
export function connectMainInspector(): MainInspector {
  let session: inspector.Session | undefined;
  let users = 0;
  let queue: Promise<unknown> = Promise.resolve();
  let waitingForPause = false;

  function acquire(): inspector.Session {
    users++;
    if (!session) {
      session = new inspector.Session();
      session.connectToMainThread();
      // A pause nobody waits for must never leave the app frozen.
      session.on('Debugger.paused', () => {
        if (!waitingForPause) post('Debugger.resume').catch(() => {});
      });
    }
    return session;
  }

  function release(): void {
    if (--users === 0) {
      session?.disconnect();
      session = undefined;
    }
  }

  async function hold<T>(work: (current: inspector.Session) => Promise<T>): Promise<T> {
    const current = acquire();
    try {
      return await work(current);
    } finally {
      release();
    }
  }

  function post<T>(method: string, params: object = {}, timeoutMs = MAIN_DEADLINE_MS): Promise<T> {
    return hold((current) => new Promise<T>((resolve, reject) => {
      const started = Date.now();
      const timer = setTimeout(() => {
        reject(new MainThreadBusyError(`the main thread has not answered for ${Date.now() - started} ms`));
      }, timeoutMs);
      current.post(method, params, (error, result) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(result as T);
      });
    }));
  }

  function runWithDebugger<T>(work: (scripts: ScriptUrls) => Promise<T>, timeoutMs: number): Promise<T> {
    return hold(async (current) => {
      const scripts: ScriptUrls = new Map();
      const onScript = (message: { params: { scriptId: string; url: string } }): void => {
        scripts.set(message.params.scriptId, message.params.url);
      };
      current.on('Debugger.scriptParsed', onScript);
      try {
        await post('Debugger.enable', {}, timeoutMs);
        return await work(scripts);
      } finally {
        current.off('Debugger.scriptParsed', onScript);
        post('Debugger.disable', {}, timeoutMs).catch((error) => debug('Debugger.disable: %s', error.message));
      }
    });
  }

  return {
    post,
    hold: (work) => hold(async (current) => {
      const subscriptions: [string, (message: { params: any }) => void][] = [];
      try {
        return await work((event, listener) => {
          current.on(event, listener);
          subscriptions.push([event, listener]);
        });
      } finally {
        for (const [event, listener] of subscriptions) current.off(event, listener);
      }
    }),
    withDebugger(work, timeoutMs) {
      const result = queue.then(() => runWithDebugger(work, timeoutMs));
      queue = result.catch(() => {});
      return result;
    },
    nextPause(timeoutMs) {
      const current = acquire();
      waitingForPause = true;
      return new Promise((resolve) => {
        const done = (event: PausedEvent | null): void => {
          clearTimeout(timer);
          current.off('Debugger.paused', onPause);
          waitingForPause = false;
          release();
          resolve(event);
        };
        const onPause = (message: { params: PausedEvent }): void => done(message.params);
        const timer = setTimeout(() => done(null), timeoutMs);
        current.on('Debugger.paused', onPause);
      });
    },
    close() {
      session?.disconnect();
      session = undefined;
    },
  };
}
