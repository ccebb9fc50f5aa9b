import { BLOCKED_AFTER_MS, captureMainStack, type StackReport } from '../worker/stack';
import { frame as describeFrame, printable } from '../shared/text';
import { JSON_OPTION, printJson } from './json';
import { command } from './types';

// Debugger.enable (which lists every script), one pause and resume, Debugger.disable.
const CAPTURE_COST_MS = 5;

/** The one line `stacktrace` says first, and the state `--json` names: running, blocked, or why there is no stack. */
function describeStack(report: StackReport): { state: string; message: string } {
  if (report.state === 'idle' && report.stalledMs <= BLOCKED_AFTER_MS) {
    return { state: 'idle', message: `The event loop is idle, waiting for events (last turn ${report.stalledMs} ms ago).` };
  }
  if (report.state === 'idle') {
    return { state: 'idle', message: `The main thread is running no JavaScript, but its event loop last turned ${report.stalledMs} ms ago: it was probably in native code that has just returned.` };
  }
  if (report.state === 'debugger') {
    return { state: 'debugger', message: `The main thread is paused in a debugger (its event loop last turned ${report.stalledMs} ms ago); the monitor leaves it paused: resume it from the debugger.` };
  }
  if (report.state === 'native') {
    return { state: 'native', message: `The main thread has been busy for ${report.stalledMs} ms inside native code (a synchronous fs, crypto, zlib or child_process call, or an addon), where no JavaScript stack can be read; try again when it returns.` };
  }
  if (report.state === 'unread') return { state: 'unread', message: 'The main thread was not paused: a debugger can attach to this process.' };
  const blocked = report.stalledMs > BLOCKED_AFTER_MS;
  return { state: blocked ? 'blocked' : 'running', message: `Main thread (pid ${process.pid}) ${blocked ? `blocked for ${report.stalledMs} ms` : 'running'}, most recent call first:` };
}

/** `stacktrace`: the main thread's JavaScript stack, above all while the loop is blocked. */
export const stacktrace = command({
  name: 'stacktrace',
  aliases: ['st', 'stack'],
  description: "Print the main thread's current JavaScript stack, even while the event loop is blocked",
  options: { json: JSON_OPTION },
  async run(ctx, { flags }) {
    // Charged a fixed estimate: most of a capture's time is spent waiting for the pause, not by the main thread.
    const report = await ctx.main.budgeted(() => captureMainStack(ctx.main), CAPTURE_COST_MS);
    const { state, message } = describeStack(report);
    const frames = report.state === 'running' ? report.frames : [];
    if (flags.json) return printJson(ctx, 'stacktrace', { state, stalledMs: report.stalledMs, message, frames });
    ctx.print(message);
    for (const frame of frames) ctx.print(printable(`    at ${describeFrame(frame)}`));
  },
});
