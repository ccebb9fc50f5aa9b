import { createDebug } from '../shared/log';
import type { DebuggerSection, MainInspector, PausedEvent, ScriptUrls } from './inspector';

const debug = createDebug('aiomonitor:pause');

/** How a pause of the main thread went. */
export type PauseOutcome<T> =
  | { kind: 'read'; value: T }
  /** Another debugger (a developer's, or the app's own session) holds the thread paused: it was left alone. */
  | { kind: 'held-by-debugger' }
  /** The pause did not land in time (native code, or an idle loop): it was withdrawn. */
  | { kind: 'missed' }
  /** Not paused on purpose: the main thread has an inspector server open, so a developer's debugger may be attached. */
  | { kind: 'debuggable' };

/** Whether the main thread has an inspector server open (--inspect, inspector.open(), SIGUSR1). */
const INSPECTOR_OPEN = "Boolean(process.getBuiltinModule?.('node:inspector')?.url())";

/**
 * The one place that pauses the main thread. `read` runs on the paused frames, and the thread is resumed
 * right after. Nothing is paused while another debugger holds the thread paused, and a pause that has not
 * landed when the wait ends is withdrawn: the section's Debugger.disable (answered before any other request
 * of the monitor runs on the main thread) cancels V8's pending "break on next call", and a pause that lands
 * before it is resumed at once.
 *
 * Why the section is exclusive: V8 delivers a pause wherever JavaScript runs next, including inside a
 * request the main thread is dispatching for the inspector (a Runtime.evaluate). Node's pause loop then
 * waits for further requests without dispatching those already queued, so the thread spins paused for
 * good. While a pause is pending the monitor sends nothing else, and its evaluations disable breaks.
 */
export function withMainPaused<T>(inspector: MainInspector, options: PauseOptions, read: (event: PausedEvent, scripts: ScriptUrls) => T): Promise<PauseOutcome<T>> {
  return inspector.withDebugger(async (section) => {
    const outcome = await pauseIn(section, options, read);
    debug('pause: %s', outcome.kind);
    return outcome;
  }, { timeoutMs: options.deadlineMs, exclusive: true });
}

/** How long to wait for the pause to land, the deadline of each request, and whether to spare a process a debugger can attach to. */
export interface PauseOptions {
  waitMs: number;
  deadlineMs: number;
  /**
   * Do not pause while an inspector server is open: a developer who clicks pause during the monitor's
   * few milliseconds of pause would see it swallowed (V8 ignores a pause request while paused).
   */
  spareDebuggable?: boolean;
}

async function pauseIn<T>(section: DebuggerSection, { waitMs, deadlineMs, spareDebuggable = false }: PauseOptions, read: (event: PausedEvent, scripts: ScriptUrls) => T): Promise<PauseOutcome<T>> {
  if (section.pausedBefore) return { kind: 'held-by-debugger' };
  if (spareDebuggable) {
    const open = await section.post('Runtime.evaluate', { expression: INSPECTOR_OPEN, returnByValue: true, silent: true }, deadlineMs);
    if (open.result?.value === true) return { kind: 'debuggable' };
  }
  let state: 'asking' | 'waiting' | 'caught' | 'gave-up' = 'asking';
  let foreign = false;
  let settle: (event: PausedEvent | null) => void = () => {};
  const landed = new Promise<PausedEvent | null>((resolve) => { settle = resolve; });
  const giveUp = (): void => {
    if (state !== 'waiting' && state !== 'asking') return;
    state = 'gave-up';
    settle(null);
  };
  section.onPause((event) => {
    // V8 may tell a newly enabled session of a pause that is already on after its answer to Debugger.enable;
    // one reported before the answer to the request after it is someone else's.
    if (state === 'asking') {
      foreign = true;
    } else if (state === 'waiting') {
      state = 'caught';
      settle(event);
    } else if (state === 'gave-up') {
      // Ours, landing after the wait: resume it before the withdrawal is even answered.
      section.post('Debugger.resume', {}, deadlineMs).catch(() => {});
    }
  });
  const timer = setTimeout(giveUp, waitMs);
  try {
    await section.post('Runtime.evaluate', { expression: '0', silent: true, disableBreaks: true }, deadlineMs);
    if (foreign) {
      debug('a pause was reported before ours was asked for: another debugger holds the main thread');
      return { kind: 'held-by-debugger' };
    }
    if (state === 'asking') state = 'waiting';
    await section.post('Debugger.pause', {}, deadlineMs);
    const event = await landed;
    if (!event) return { kind: 'missed' };
    try {
      return { kind: 'read', value: read(event, section.scripts) };
    } finally {
      await section.post('Debugger.resume', {}, deadlineMs);
    }
  } finally {
    clearTimeout(timer);
    giveUp();
  }
}

/** Whether another debugger holds the main thread paused right now; nothing is paused to find out. */
export function heldByDebugger(inspector: MainInspector, deadlineMs: number): Promise<boolean> {
  return inspector.withDebugger(async (section) => section.pausedBefore !== null, { timeoutMs: deadlineMs });
}
