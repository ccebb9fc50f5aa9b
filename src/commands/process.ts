import { BLOCKED_AFTER_MS, captureMainStack } from '../worker/stack';
import { frame as describeFrame, printable } from '../shared/text';
import { command } from './types';

// Debugger.enable (which lists every script), one pause and resume, Debugger.disable.
const CAPTURE_COST_MS = 5;

/** `stacktrace`: the main thread's JavaScript stack, above all while the loop is blocked. */
export const stacktrace = command({
  name: 'stacktrace',
  aliases: ['st', 'stack'],
  description: "Print the main thread's current JavaScript stack, even while the event loop is blocked",
  async run(ctx) {
    // Charged a fixed estimate: most of a capture's time is spent waiting for the pause, not by the main thread.
    const report = await ctx.main.budgeted(() => captureMainStack(ctx.main), CAPTURE_COST_MS);
    if (report.state === 'idle' && report.stalledMs <= BLOCKED_AFTER_MS) {
      ctx.print(`The event loop is idle, waiting for events (last turn ${report.stalledMs} ms ago).`);
    } else if (report.state === 'idle') {
      ctx.print(`The main thread is running no JavaScript, but its event loop last turned ${report.stalledMs} ms ago: it was probably in native code that has just returned.`);
    } else if (report.state === 'debugger') {
      ctx.print(`The main thread is paused in a debugger (its event loop last turned ${report.stalledMs} ms ago); the monitor leaves it paused: resume it from the debugger.`);
    } else if (report.state === 'native') {
      ctx.print(`The main thread has been busy for ${report.stalledMs} ms inside native code (a synchronous fs, crypto, zlib or child_process call, or an addon), where no JavaScript stack can be read; try again when it returns.`);
    } else if (report.state === 'unread') {
      ctx.print('The main thread was not paused: a debugger can attach to this process.');
    } else {
      const blocked = report.stalledMs > BLOCKED_AFTER_MS ? `blocked for ${report.stalledMs} ms` : 'running';
      ctx.print(`Main thread (pid ${process.pid}) ${blocked}, most recent call first:`);
      for (const frame of report.frames) {
        ctx.print(printable(`    at ${describeFrame(frame)}`));
      }
    }
  },
});
