import inspector from 'node:inspector';
import { createDebug } from '../shared/log';
import { deadlines } from './deadlines';

const debug = createDebug('aiomonitor:inspector');

/** The main thread did not answer in time: it is stuck in native code, where no interrupt runs. */
export class MainThreadBusyError extends Error {
  override name = 'MainThreadBusyError';
}

/** A script's URL by its inspector ID. */
export type ScriptUrls = Map<string, string>;

/** The part of `Debugger.paused` the monitor reads. */
export interface PausedEvent {
  callFrames: { functionName: string; url: string; location: { scriptId: string; lineNumber: number; columnNumber: number } }[];
}

/** What a section with the Debugger domain enabled sees. */
export interface DebuggerSection {
  /** The URLs of all scripts. */
  scripts: ScriptUrls;
  /**
   * Set when the main thread was already paused as the section began: V8 tells a session that enables the
   * Debugger domain during someone else's pause with a `Debugger.paused` event before the answer.
   */
  pausedBefore: PausedEvent | null;
  /** Calls `listener` on every `Debugger.paused` event until the section ends. */
  onPause(listener: (event: PausedEvent) => void): void;
  /** Sends a request from inside an exclusive section, past the gate that holds everyone else's. */
  post<T = any>(method: string, params?: object, timeoutMs?: number): Promise<T>;
}

/** An inspector session on the main thread, driven from the monitor thread. */
export interface MainInspector {
  /** Sends one protocol command; rejects with MainThreadBusyError past the deadline. */
  post<T = any>(method: string, params?: object, timeoutMs?: number): Promise<T>;
  /** Keeps one session connected while `work` runs, so that object IDs and event subscriptions hold from one request to the next. */
  hold<T>(work: (subscribe: Subscribe) => Promise<T>): Promise<T>;
  /**
   * Runs `work` with the Debugger domain enabled, one section at a time. An exclusive section sends
   * nothing but its own requests meanwhile, and keeps the gate closed until its `Debugger.disable` has
   * been answered: that is what withdraws a `Debugger.pause` which did not land (see pause.ts).
   */
  withDebugger<T>(work: (section: DebuggerSection) => Promise<T>, options: { timeoutMs: number; exclusive?: boolean }): Promise<T>;
  /** Disconnects the session. */
  close(): void;
}

/** Listens to one protocol event of the held session, until the hold ends. */
export type Subscribe = (event: string, listener: (message: { params: any }) => void) => void;

/**
 * Reaches the main thread's inspector. The session is connected only while a request is in flight:
 * a session left connected makes `process.exit()` print "Waiting for the debugger to disconnect...".
 */
export function connectMainInspector(): MainInspector {
  let session: inspector.Session | undefined;
  let users = 0;
  let sections: Promise<unknown> = Promise.resolve();
  let withdrawn: Promise<void> = Promise.resolve();
  // Closed while an exclusive section runs: requests that would run JavaScript on the main thread wait behind it.
  let gate: Promise<void> | undefined;

  function acquire(): inspector.Session {
    users++;
    if (!session) {
      session = new inspector.Session();
      session.connectToMainThread();
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

  function send<T>(method: string, params: object, timeoutMs: number, passGate: boolean): Promise<T> {
    // Our own evaluations never stop at a pause, a breakpoint or a `debugger` statement: a pause that lands
    // inside a request the main thread is dispatching can leave it spinning in its pause loop for good.
    const sent = method === 'Runtime.evaluate' ? { disableBreaks: true, ...params } : params;
    return hold((current) => new Promise<T>((resolve, reject) => {
      const started = Date.now();
      let expired = false;
      const timer = setTimeout(() => {
        expired = true;
        reject(new MainThreadBusyError(`the main thread has not answered for ${Date.now() - started} ms`));
      }, timeoutMs);
      const go = (): void => {
        if (expired) return; // withdrawn while it waited at the gate: never sent
        try {
          current.post(method, sent, (error, result) => {
            clearTimeout(timer);
            if (error) reject(error);
            else resolve(result as T);
          });
        } catch (error) {
          clearTimeout(timer); // the session was closed meanwhile
          reject(error as Error);
        }
      };
      if (gate && !passGate) void gate.then(go);
      else go();
    }));
  }

  const post = <T>(method: string, params: object = {}, timeoutMs = deadlines.mainMs): Promise<T> => send<T>(method, params, timeoutMs, false);

  function runSection<T>(work: (section: DebuggerSection) => Promise<T>, timeoutMs: number, exclusive: boolean): Promise<T> {
    return hold(async (current) => {
      let openGate = (): void => {};
      if (exclusive) gate = new Promise<void>((resolve) => { openGate = () => { gate = undefined; resolve(); }; });
      const scripts: ScriptUrls = new Map();
      const pauseListeners: ((event: PausedEvent) => void)[] = [];
      let enabled = false;
      let pausedBefore: PausedEvent | null = null;
      const onScript = (message: { params: { scriptId: string; url: string } }): void => {
        scripts.set(message.params.scriptId, message.params.url);
      };
      const onPaused = (message: { params: PausedEvent }): void => {
        if (!enabled) pausedBefore = message.params;
        else for (const listener of pauseListeners) listener(message.params);
      };
      current.on('Debugger.scriptParsed', onScript);
      current.on('Debugger.paused', onPaused);
      const sectionPost = <R>(method: string, params: object = {}, ms = deadlines.mainMs): Promise<R> => send<R>(method, params, ms, exclusive);
      const detach = (): void => {
        current.off('Debugger.scriptParsed', onScript);
        current.off('Debugger.paused', onPaused);
      };
      try {
        await sectionPost('Debugger.enable', {}, timeoutMs);
        enabled = true;
        return await work({ scripts, pausedBefore, onPause: (listener) => pauseListeners.push(listener), post: sectionPost });
      } finally {
        // Until the main thread answers, the session stays connected (a late pause still meets its
        // listeners), the gate stays closed and no other section starts.
        const disabled = new Promise<void>((resolve) => {
          const done = (error: Error | null): void => {
            if (error) debug('Debugger.disable: %s', error.message);
            detach();
            openGate();
            resolve();
          };
          try {
            current.post('Debugger.disable', done);
          } catch (error) {
            done(error as Error); // closed: a disconnect withdraws everything anyway
          }
        });
        acquire();
        withdrawn = disabled.finally(release);
      }
    });
  }

  /** Resolves once the last section's Debugger.disable has been answered; rejects as busy past `timeoutMs`. */
  function lastSectionWithdrawn(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new MainThreadBusyError(`the main thread has not answered for ${timeoutMs} ms`)), timeoutMs);
      void withdrawn.then(() => {
        clearTimeout(timer);
        resolve();
      });
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
    withDebugger(work, { timeoutMs, exclusive = false }) {
      const result = sections.then(() => lastSectionWithdrawn(timeoutMs)).then(() => runSection(work, timeoutMs, exclusive));
      sections = result.catch(() => {});
      return result;
    },
    close() {
      session?.disconnect();
      session = undefined;
    },
  };
}
