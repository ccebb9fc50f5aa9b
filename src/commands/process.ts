import os from 'node:os';
import { BLOCKED_AFTER_MS, captureMainStack } from '../worker/stack';
import { printable } from './format';
import { command, UsageError } from './types';

/** The canonical name of a signal typed as `SIGTERM`, `term` or `15`. */
export function signalName(text: string): NodeJS.Signals | undefined {
  const signals = os.constants.signals as Record<string, number>;
  if (/^\d+$/.test(text)) return Object.keys(signals).find((name) => signals[name] === Number(text)) as NodeJS.Signals | undefined;
  const upper = text.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  return name in signals ? (name as NodeJS.Signals) : undefined;
}

/** `signal NAME`: sends a signal to this process. */
export const signal = command({
  name: 'signal',
  description: 'Send a signal to this process, e.g. signal SIGUSR2',
  args: ['NAME'],
  run(ctx, { args: [text] }) {
    const name = signalName(text);
    if (!name) throw new UsageError(`unknown signal ${JSON.stringify(text)}; use a name such as SIGTERM, SIGINT or SIGUSR2`);
    process.kill(process.pid, name);
    ctx.print(`✓ sent ${name} to process ${process.pid}`);
  },
});

/** `stacktrace`: the main thread's JavaScript stack, above all while the loop is blocked. */
export const stacktrace = command({
  name: 'stacktrace',
  aliases: ['st', 'stack'],
  description: "Print the main thread's current JavaScript stack, even while the event loop is blocked",
  async run(ctx) {
    const report = await captureMainStack(ctx.main);
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
        ctx.print(printable(`    at ${frame.functionName || '<anonymous>'} (${frame.file}:${frame.line}:${frame.column})`));
      }
    }
  },
});
