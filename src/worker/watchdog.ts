import { HEARTBEAT_MS, sharedNow } from '../shared/contract';
import type { MainThread } from './main-thread';
import { heldByDebugger } from './pause';
import { captureMainStack, isAppFrame, type Frame, type StackReport } from './stack';
import { deadlines } from './deadlines';
import { frame as describeFrame } from '../shared/text';
import { BLOCK_BUCKETS_MS, countInto, emptyBuckets, type BucketCounts } from '../shared/buckets';

/** One stall of the main thread's event loop, as the watchdog saw it. */
export interface Block {
  id: number;
  /** When it started, in ms since the epoch. */
  startedAt: number;
  durationMs: number;
  /** The main thread's stack, caught while it was blocked; null when it could not be read. */
  frames: Frame[] | null;
  /** The first frame in the app's own code, as `fn (file:line:col)`. */
  where: string;
}

/** A stall of the event loop that has not ended yet. */
export interface CurrentStall {
  /** When it started, in ms since the epoch. */
  startedAt: number;
  stalledMs: number;
  /** Where the stack was caught, as in Block, or null while it is being read. */
  where: string | null;
  /** A debugger holds the thread paused: not a block. */
  debugger: boolean;
}

/** The watchdog's view for commands. */
export interface Watchdog {
  /** The last blocks, newest first. */
  blocks(): Block[];
  /** The stall in progress, in ms, or 0 (also while a debugger holds the thread paused). */
  stalledMs(): number;
  /** The stall in progress past the threshold, or null: since when, where it was caught (once known), and whether a debugger holds it. */
  current(): CurrentStall | null;
  /** Every block since the monitor started (not only the ones kept), its durations counted into BLOCK_BUCKETS_MS. */
  totals(): BucketCounts;
  stop(): void;
}

const KEEP = 100;
/** How often a long stall is checked again for a debugger's pause, which may have begun during it. */
const RECHECK_MS = 500;

interface Stall {
  beforeBeat: number;
  report: Promise<StackReport>;
  debuggerPause: boolean;
  /** When it was last checked for a debugger's pause, or Infinity while a check runs. */
  checkedAt: number;
  /** Where its stack was caught, once read. */
  where: string | null;
}

/** Where a block happened: the first app frame, else the top frame, else why there is no stack. */
function whereBlocked(report: StackReport): string {
  if (report.state === 'native') return '(native code: no JavaScript stack)';
  if (report.state === 'idle') return '(over before its stack could be read)';
  if (report.state === 'debugger') return '(paused in a debugger)';
  if (report.state === 'unread') return '(stack not read: a debugger can attach to this process; stacktrace reads it on demand)';
  const frame = report.frames.find(isAppFrame) ?? report.frames[0];
  return frame ? describeFrame(frame) : '(no stack)';
}

/**
 * Watches the main thread's heartbeat from the monitor thread. A stall past `thresholdMs` is caught in
 * the act: the stack is read while the loop is still blocked, and the block is recorded when it ends.
 */
export function startWatchdog(main: MainThread, thresholdMs: number, log: (block: Block) => void): Watchdog {
  const ring: Block[] = [];
  const totals = emptyBuckets(BLOCK_BUCKETS_MS);
  let nextId = 1;
  let open: Stall | undefined;

  const poll = setInterval(() => {
    const lastBeat = main.lastBeat();
    const stalled = sharedNow() - lastBeat;
    if (!open && stalled > thresholdMs) {
      const report = captureMainStack(main, { spareDebuggable: true }).catch((): StackReport => ({ state: 'native', stalledMs: 0 }));
      const stall: Stall = { beforeBeat: lastBeat, report, debuggerPause: false, checkedAt: Infinity, where: null };
      void report.then((caught) => {
        stall.debuggerPause = caught.state === 'debugger';
        stall.where = whereBlocked(caught);
        stall.checkedAt = sharedNow();
      });
      open = stall;
    } else if (open && lastBeat !== open.beforeBeat) {
      // The block began somewhere within one heartbeat period after the last beat: count half of it.
      const durationMs = Math.max(0, Math.round(lastBeat - open.beforeBeat - HEARTBEAT_MS / 2));
      const startedAt = Math.round(open.beforeBeat + HEARTBEAT_MS / 2);
      const stall = open;
      const { report } = stall;
      open = undefined;
      void report.then((caught) => {
        // A debugger's pause stops the loop on purpose: it is not a block.
        if (stall.debuggerPause) return;
        const frames = caught.state === 'running' ? caught.frames : null;
        const block = { id: nextId++, startedAt, durationMs, frames, where: whereBlocked(caught) };
        ring.unshift(block);
        if (ring.length > KEEP) ring.pop();
        countInto(totals, BLOCK_BUCKETS_MS, durationMs);
        log(block);
      });
    } else if (open && !open.debuggerPause && sharedNow() - open.checkedAt > RECHECK_MS) {
      const stall = open;
      stall.checkedAt = Infinity;
      void heldByDebugger(main.inspector, deadlines.mainMs).catch(() => false).then((held) => {
        stall.debuggerPause ||= held;
        stall.checkedAt = sharedNow();
      });
    }
    // Polling is cheap but wakes a thread: a beat's period is as fine as the heartbeat itself can tell.
  }, Math.max(5, Math.min(HEARTBEAT_MS, thresholdMs / 2)));
  poll.unref();

  return {
    blocks: () => [...ring],
    stalledMs: () => (open && !open.debuggerPause ? Math.round(sharedNow() - open.beforeBeat) : 0),
    current: () => open ? {
      startedAt: Math.round(open.beforeBeat + HEARTBEAT_MS / 2),
      stalledMs: Math.round(sharedNow() - open.beforeBeat),
      where: open.where,
      debugger: open.debuggerPause,
    } : null,
    totals: () => structuredClone(totals),
    stop: () => clearInterval(poll),
  };
}
