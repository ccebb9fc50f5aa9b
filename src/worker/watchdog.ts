import { HEARTBEAT_MS, sharedNow } from '../protocol/threads';
import type { MainThread } from './main-thread';
import { captureMainStack, isAppFrame, type Frame, type StackReport } from './stack';

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

/** The watchdog's view for commands. */
export interface Watchdog {
  /** The last blocks, newest first. */
  blocks(): Block[];
  /** The stall in progress, in ms, or 0. */
  stalledMs(): number;
  stop(): void;
}

const KEEP = 100;

function describeFrame(frame: Frame): string {
  return `${frame.functionName || '<anonymous>'} (${frame.file}:${frame.line}:${frame.column})`;
}

/** Where a block happened: the first app frame, else the top frame, else why there is no stack. */
function whereBlocked(report: StackReport): string {
  if (report.state === 'native') return '(native code: no JavaScript stack)';
  if (report.state === 'idle') return '(over before its stack could be read)';
  if (report.state === 'debugger') return '(paused in a debugger)';
  const frame = report.frames.find(isAppFrame) ?? report.frames[0];
  return frame ? describeFrame(frame) : '(no stack)';
}

/**
 * Watches the main thread's heartbeat from the monitor thread. A stall past `thresholdMs` is caught in
 * the act: the stack is read while the loop is still blocked, and the block is recorded when it ends.
 */
export function startWatchdog(main: MainThread, thresholdMs: number, log: (block: Block) => void): Watchdog {
  const ring: Block[] = [];
  let nextId = 1;
  let open: { beforeBeat: number; report: Promise<StackReport> } | undefined;

  const poll = setInterval(() => {
    const lastBeat = main.lastBeat();
    const stalled = sharedNow() - lastBeat;
    if (!open && stalled > thresholdMs) {
      const report = captureMainStack(main).catch((): StackReport => ({ state: 'native', stalledMs: 0 }));
      open = { beforeBeat: lastBeat, report };
    } else if (open && lastBeat !== open.beforeBeat) {
      // The block began somewhere within one heartbeat period after the last beat: count half of it.
      const durationMs = Math.max(0, Math.round(lastBeat - open.beforeBeat - HEARTBEAT_MS / 2));
      const startedAt = Math.round(open.beforeBeat + HEARTBEAT_MS / 2);
      const { report } = open;
      open = undefined;
      void report.then((caught) => {
        // A debugger's pause stops the loop on purpose: it is not a block.
        if (caught.state === 'debugger') return;
        const frames = caught.state === 'running' ? caught.frames : null;
        const block = { id: nextId++, startedAt, durationMs, frames, where: whereBlocked(caught) };
        ring.unshift(block);
        if (ring.length > KEEP) ring.pop();
        log(block);
      });
    }
    // Polling is cheap but wakes a thread: a beat's period is as fine as the heartbeat itself can tell.
  }, Math.max(5, Math.min(HEARTBEAT_MS, thresholdMs / 2)));
  poll.unref();

  return {
    blocks: () => [...ring],
    stalledMs: () => (open ? Math.round(sharedNow() - open.beforeBeat) : 0),
    stop: () => clearInterval(poll),
  };
}
