import type { Block, CurrentStall } from '../worker/watchdog';
import { sharedNow } from '../shared/contract';
import { duration, printable } from '../shared/text';
import { isoTime, JSON_OPTION, printJson } from './json';
import { command } from './types';
import type { StatusReport } from '../shared/rows';

/** The loop counts as busy when at least this many blocks ended within the last BUSY_WINDOW_MS. */
const BUSY_BLOCKS = 2;
const BUSY_WINDOW_MS = 1000;

/** The state from the watchdog's view alone: nothing here waits for the main thread. */
export function statusReport(stall: CurrentStall | null, stalledMs: number, blocks: Block[], now: number, facts: { pid: number; uptimeMs: number }): StatusReport {
  const common = { stalledMs, ...facts, blocks: blocks.length };
  if (stall?.debugger) return { state: 'debugger', ...common };
  if (stall) {
    return { state: 'blocked', ...common, blockedForMs: Math.max(0, now - stall.startedAt), blockedSince: isoTime(stall.startedAt), ...(stall.where ? { where: stall.where } : {}) };
  }
  const recent = blocks.filter((block) => block.startedAt + block.durationMs > now - BUSY_WINDOW_MS).length;
  return { state: recent >= BUSY_BLOCKS ? 'busy' : 'idle', ...common };
}

/** The one line `status` prints for a report. */
export function statusLine(report: StatusReport, now: number): string {
  switch (report.state) {
    case 'debugger':
      return `paused in a debugger: the event loop last turned ${duration(report.stalledMs)} ago`;
    case 'blocked': {
      const forMs = report.blockedForMs ?? report.stalledMs;
      const clock = (report.blockedSince ?? new Date(now - forMs).toISOString()).slice(11, 19);
      return `blocked for ${duration(forMs)} (since ${clock})${report.where ? `, in ${printable(report.where)}` : ''}`;
    }
    case 'busy':
      return `busy: the event loop was blocked ${BUSY_BLOCKS} or more times in the last second; it turned ${duration(report.stalledMs)} ago`;
    default:
      return `idle: the event loop turned ${duration(report.stalledMs)} ago`;
  }
}

/** `status`: idle, busy, blocked or paused, answered by the monitor thread without asking the main thread. */
export const status = command({
  name: 'status',
  description: 'Say in one line whether the main thread is idle, busy, blocked (since when, where) or paused in a debugger',
  options: { json: JSON_OPTION },
  run(ctx, { flags }) {
    // The watchdog's clock: blocks start on it.
    const now = sharedNow();
    const report = statusReport(ctx.watchdog.current(), ctx.main.stalledMs(), ctx.watchdog.blocks(), now, { pid: process.pid, uptimeMs: Math.round(process.uptime() * 1000) });
    if (flags.json) return printJson(ctx, 'status', { ...report });
    ctx.print(statusLine(report, now));
  },
});
