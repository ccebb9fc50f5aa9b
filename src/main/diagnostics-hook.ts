import type inspector from 'node:inspector';
import type { DiagnosticsHook } from '../shared/contract';
import { processWide } from './process-wide';
import { removeFileOnExit } from './exit-cleanup';

/*
 * What `profile` and `heapsnapshot` run on the main thread, called from the monitor thread through
 * Runtime.evaluate (which answers even while the app's loop is stuck in JavaScript).
 *
 * The CPU profile is recorded by a session of the main thread itself, not by the monitor thread's:
 * a session from another thread that is still connected when the app calls process.exit() makes Node
 * print "Waiting for the debugger to disconnect...", and the profiler's state belongs to its session,
 * so the monitor thread could not disconnect while recording. A same-thread session answers synchronously.
 */

function post<T>(session: inspector.Session, method: string, params: object = {}): T {
  let outcome: { error: Error | null; result?: T } | undefined;
  session.post(method, params, (error, result) => { outcome = { error, result: result as T }; });
  if (!outcome) throw new Error(`${method} did not answer at once`);
  if (outcome.error) throw outcome.error;
  return outcome.result as T;
}

function createHook(): DiagnosticsHook {
  const tracked = new Map<string, () => void>();
  let profiling: inspector.Session | undefined;
  let safetyTimer: NodeJS.Timeout | undefined;

  // Node may crash (SIGSEGV) when the process ends with a session that is still profiling.
  const stopOnExit = (): void => { stopProfile(false); };

  function stopProfile(keep: boolean): string | null {
    const session = profiling;
    if (!session) return null;
    profiling = undefined;
    process.off('exit', stopOnExit);
    clearTimeout(safetyTimer);
    try {
      if (!keep) return null;
      return JSON.stringify(post<inspector.Profiler.StopReturnType>(session, 'Profiler.stop').profile);
    } finally {
      // Disconnecting stops and drops a profile that is still running, and disables the domain.
      session.disconnect();
    }
  }

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
      if (Date.now() > notAfter) throw new Error('the monitor stopped waiting for the profile to start');
      if (profiling) throw new Error('a CPU profile is already running');
      // Loaded on the first profile: most apps never take one.
      const { Session } = require('node:inspector') as typeof inspector;
      const session = new Session();
      session.connect();
      try {
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
      } catch (error) {
        session.disconnect();
        throw error;
      }
      profiling = session;
      process.on('exit', stopOnExit);
      safetyTimer = setTimeout(() => stopProfile(false), maxMs).unref();
    },
    stopProfile,
  };
}

/** Makes the hook reachable from the monitor thread; once per process. */
export function installDiagnosticsHook(): void {
  processWide('diagnosticsHook', createHook);
}
