import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MainThreadBusyError, type PausedEvent, type ScriptUrls } from './inspector';
import type { MainThread } from './main-thread';
import { withMainPaused } from './pause';
import { deadlines } from './deadlines';

/** One frame of a JavaScript stack, with 1-based line and column. */
export interface Frame {
  functionName: string;
  file: string;
  line: number;
  column: number;
}

/** What the main thread was doing when asked. */
export type StackReport =
  | { state: 'running'; stalledMs: number; frames: Frame[] }
  | { state: 'idle'; stalledMs: number }
  | { state: 'native'; stalledMs: number }
  /** Paused by a debugger (a developer's, or the app's own inspector session), which the monitor leaves alone. */
  | { state: 'debugger'; stalledMs: number }
  /** Not read, so as not to pause a process a developer's debugger can attach to (see PauseOptions). */
  | { state: 'unread'; stalledMs: number };

/** A loop that has not turned for this long is blocked, not between two callbacks. */
export const BLOCKED_AFTER_MS = 150;
/** How long an idle loop gets to run some JavaScript before it counts as idle. */
const IDLE_WAIT_MS = 250;
const OWN_CODE = path.resolve(__dirname, '..');

/** Where a script lives, as a path for files and as-is for `node:` modules. */
export function displayUrl(url: string): string {
  if (url.startsWith('file://')) {
    try { return fileURLToPath(url); } catch { return url; }
  }
  return url || '<anonymous>';
}

function toFrames(event: PausedEvent, scripts: ScriptUrls): Frame[] {
  return event.callFrames.map((frame) => ({
    functionName: frame.functionName,
    file: displayUrl(scripts.get(frame.location.scriptId) ?? frame.url),
    line: frame.location.lineNumber + 1,
    column: frame.location.columnNumber + 1,
  }));
}

/** Whether a frame is the app's own code, not Node's or the monitor's. */
export function isAppFrame(frame: Frame): boolean {
  return !frame.file.startsWith('node:') && !frame.file.startsWith(OWN_CODE);
}

/** True when no frame is the app's: the pause landed in Node's timer machinery or the monitor's heartbeat. */
function noAppCode(frames: Frame[]): boolean {
  return !frames.some(isAppFrame);
}

/**
 * Pauses the main thread through the inspector, reads its stack and resumes it at once (see pause.ts).
 * Works while the loop is stuck in JavaScript; in native code nothing can interrupt it, which is reported as such.
 */
export async function captureMainStack(main: MainThread, { spareDebuggable = false } = {}): Promise<StackReport> {
  const stalledMs = main.stalledMs();
  const blocked = stalledMs > BLOCKED_AFTER_MS;
  try {
    const capture = (waitMs: number) => withMainPaused(main.inspector, { waitMs, deadlineMs: deadlines.mainMs, spareDebuggable }, toFrames);
    let outcome = await capture(blocked ? deadlines.mainMs : IDLE_WAIT_MS);
    // An idle loop that turned out to be blocked meanwhile gets a second try, with as long a wait as a block.
    if (outcome.kind === 'missed' && !blocked && main.stalledMs() > BLOCKED_AFTER_MS) outcome = await capture(deadlines.mainMs);
    if (outcome.kind === 'held-by-debugger') return { state: 'debugger', stalledMs: main.stalledMs() };
    if (outcome.kind === 'debuggable') return { state: 'unread', stalledMs: main.stalledMs() };
    if (outcome.kind === 'missed') return { state: blocked ? 'native' : 'idle', stalledMs: main.stalledMs() };
    const frames = outcome.value;
    // Without app frames the pause landed between callbacks, not inside a blocker.
    if (noAppCode(frames)) return { state: 'idle', stalledMs: main.stalledMs() };
    return { state: 'running', stalledMs: Math.max(stalledMs, main.stalledMs()), frames };
  } catch (error) {
    if (error instanceof MainThreadBusyError) return { state: 'native', stalledMs: main.stalledMs() };
    throw error;
  }
}
