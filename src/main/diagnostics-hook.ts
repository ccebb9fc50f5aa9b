import type inspector from 'node:inspector';
import type { DiagnosticsHook } from '../shared/contract';
import { processWide } from './process-wide';
import { removeFileOnExit } from './exit-cleanup';

/*
 * What `profile`, `heapprofile` and `heapsnapshot` run on the main thread, called from the monitor thread through
 * Runtime.evaluate (which answers even while the app's loop is stuck in JavaScript).
 *
 * Profiles (CPU and sampled heap) are recorded by a session of the main thread itself, not by the monitor thread's:
 * a session from another thread that is still connected when the app calls process.exit() makes Node
 * print "Waiting for the debugger to disconnect...", and a profiler's state belongs to its session,
 * so the monitor thread could not disconnect while recording. A same-thread session answers synchronously.
 */

function post<T>(session: inspector.Session, method: string, params: object = {}): T {
  let outcome: { error: Error | null; result?: T } | undefined;
  session.post(method, params, (error, result) => { outcome = { error, result: result as T }; });
  if (!outcome) throw new Error(`${method} did not answer at once`);
  if (outcome.error) throw outcome.error;
  return outcome.result as T;
}

/** One kind of recording on a session of its own: at most one at a time, stopped on exit or when abandoned. */
interface Recorder {
  /** Connects a session, runs `begin` on it and keeps it until stop(); throws if one is already running or the caller gave up. */
  start(notAfter: number, maxMs: number, begin: (session: inspector.Session) => void): void;
  /** Runs `end` on the running session, if any and if `keep`, and disconnects it; null if none was running. */
  stop(keep: boolean, end: (session: inspector.Session) => string | null): string | null;
}

/** A recording the hook declines to start, for a reason the user can act on. */
class Refusal extends Error {}

/** Whether V8's sampling heap profiler, one per isolate, is already running for another session (the app's, a debugger's). */
function samplingElsewhere(session: inspector.Session): boolean {
  try {
    post(session, 'HeapProfiler.getSamplingProfile');
    return true;
  } catch {
    return false; // "V8 sampling heap profiler was not started."
  }
}

function createRecorder(what: string): Recorder {
  let running: inspector.Session | undefined;
  let safetyTimer: NodeJS.Timeout | undefined;

  function stop(keep: boolean, end: (session: inspector.Session) => string | null): string | null {
    const session = running;
    if (!session) return null;
    running = undefined;
    process.off('exit', stopOnExit);
    clearTimeout(safetyTimer);
    try {
      return keep ? end(session) : null;
    } finally {
      // Disconnecting stops and drops a recording that is still running, and disables the domain.
      session.disconnect();
    }
  }
  // Node may crash (SIGSEGV) when the process ends with a session that is still profiling.
  const stopOnExit = (): void => { stop(false, () => ''); };

  return {
    start(notAfter, maxMs, begin) {
      if (Date.now() > notAfter) throw new Error('the monitor stopped waiting for the profile to start');
      if (running) throw new Error(`a ${what} is already running`);
      // Loaded on the first profile: most apps never take one.
      const { Session } = require('node:inspector') as typeof inspector;
      const session = new Session();
      session.connect();
      try {
        begin(session);
      } catch (error) {
        session.disconnect();
        throw error;
      }
      running = session;
      process.on('exit', stopOnExit);
      safetyTimer = setTimeout(() => stop(false, () => ''), maxMs).unref();
    },
    stop,
  };
}

function createHook(): DiagnosticsHook {
  const tracked = new Map<string, () => void>();
  const cpu = createRecorder('CPU profile');
  const heap = createRecorder('heap profile');

  return {
    track(file) {
      tracked.get(file)?.();
      // Not on signals: a signal must not wait for a loop stuck in JavaScript, which is what gets profiled.
      tracked.set(file, removeFileOnExit(file, false));
    },
    untrack(file) {
      tracked.get(file)?.();
      tracked.delete(file);
    },
    startProfile(intervalUs, recompile, notAfter, maxMs) {
      cpu.start(notAfter, maxMs, (session) => {
        post(session, 'Profiler.enable');
        post(session, 'Profiler.setSamplingInterval', { interval: intervalUs });
        post(session, 'Profiler.start');
        if (recompile) {
          // V8 names only code compiled while it profiles or attached to a function when it starts: a loop already
          // running in on-stack-replaced code is missed, and its time goes to its caller. Switching precise coverage
          // on throws all optimized code away, so the loop is compiled again while the profiler watches.
          post(session, 'Profiler.startPreciseCoverage', { callCount: false, detailed: false });
          post(session, 'Profiler.stopPreciseCoverage');
        }
      });
    },
    stopProfile: (keep) => cpu.stop(keep, (session) => JSON.stringify(post<inspector.Profiler.StopReturnType>(session, 'Profiler.stop').profile)),
    startHeapProfile(intervalBytes, notAfter, maxMs) {
      try {
        heap.start(notAfter, maxMs, (session) => {
          post(session, 'HeapProfiler.enable');
          // V8 would ignore our start, and our stop would take the other session's samples and end its profile.
          if (samplingElsewhere(session)) {
            throw new Refusal("V8's sampling heap profiler is already running in this process (the app or a debugger started it), and taking a heap profile would stop it; try again once it is stopped");
          }
          post(session, 'HeapProfiler.startSampling', { samplingInterval: intervalBytes });
        });
        return null;
      } catch (error) {
        if (error instanceof Refusal) return error.message;
        throw error;
      }
    },
    stopHeapProfile: (keep) => heap.stop(keep, (session) => {
      let stopped: inspector.HeapProfiler.StopSamplingReturnType;
      try {
        stopped = post(session, 'HeapProfiler.stopSampling');
      } catch {
        // "not started": another session stopped the isolate's one sampling profiler meanwhile, and took the samples.
        return null;
      }
      return JSON.stringify(stopped.profile);
    }),
  };
}

/** Makes the hook reachable from the monitor thread; once per process. */
export function installDiagnosticsHook(): void {
  processWide('diagnosticsHook', createHook);
}
