import fs from 'node:fs';
import os from 'node:os';
import { MainThreadBusyError } from '../worker/inspector';
import { command, UsageError } from './types';

/** What a signal does to a Node process that has no listener for it. */
type Default = 'ends' | 'stops' | 'nothing';

// signal(7)'s default actions, as Node leaves them: it ignores SIGPIPE and opens its inspector on SIGUSR1.
const STOPPING = new Set(['SIGTSTP', 'SIGTTIN', 'SIGTTOU']);
const HARMLESS = new Set(['SIGCHLD', 'SIGCLD', 'SIGCONT', 'SIGURG', 'SIGWINCH', 'SIGPIPE', 'SIGUSR1']);

function defaultAction(name: NodeJS.Signals): Default {
  if (STOPPING.has(name)) return 'stops';
  return HARMLESS.has(name) ? 'nothing' : 'ends';
}

/** The canonical name of a signal typed as `SIGTERM`, `term` or `15`. */
export function signalName(text: string): NodeJS.Signals | undefined {
  const signals = os.constants.signals as Record<string, number>;
  if (/^\d+$/.test(text)) return Object.keys(signals).find((name) => signals[name] === Number(text)) as NodeJS.Signals | undefined;
  const upper = text.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  return name in signals ? (name as NodeJS.Signals) : undefined;
}

/** Whether the kernel is told to ignore `name` for this process (inherited SIG_IGN, as under nohup); false where /proc is missing. */
function ignored(name: NodeJS.Signals): boolean {
  try {
    const mask = /^SigIgn:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
    const number = (os.constants.signals as Record<string, number>)[name];
    return mask !== undefined && ((BigInt(`0x${mask}`) >> BigInt(number - 1)) & 1n) === 1n;
  } catch {
    return false;
  }
}

/** `signal NAME`: sends a signal to this process, after saying what it will do to the app. */
export const signal = command({
  name: 'signal',
  description: 'Send a signal to this process, e.g. signal SIGHUP; one the app does not handle needs --force',
  args: ['NAME'],
  options: { force: { type: 'boolean', alias: 'f', description: 'send it even when it would end or stop the app' } },
  async run(ctx, { args: [text], flags }) {
    const name = signalName(text);
    if (!name) throw new UsageError(`unknown signal ${JSON.stringify(text)}; use a name such as SIGTERM, SIGINT or SIGUSR2`);
    const pid = process.pid;
    if (name === 'SIGSTOP') {
      throw new UsageError(`SIGSTOP would freeze the whole process, this monitor with it, and nothing here could resume it; from a shell: kill -STOP ${pid}, then kill -CONT ${pid}`);
    }
    if (name === 'SIGKILL' && !flags.force) throw new UsageError('SIGKILL ends the process at once, without any cleanup; add --force to send it');
    let outcome = name === 'SIGKILL' ? ': the process ends at once' : '';
    const action = defaultAction(name);
    if (name !== 'SIGKILL' && action !== 'nothing' && ignored(name)) {
      outcome = ': the process ignores it (it was started with the signal ignored, as under nohup)';
    } else if (name !== 'SIGKILL' && action !== 'nothing') {
      let listeners: number | undefined;
      try {
        listeners = await ctx.main.query<number>(`signalListeners(${JSON.stringify(name)})`);
      } catch (error) {
        if (!(error instanceof MainThreadBusyError)) throw error;
      }
      if (listeners === 0 || listeners === undefined) {
        const what = action === 'ends' ? 'end the app' : 'stop the whole process, this monitor with it';
        const why = listeners === 0 ? `the app has no handler for it, so it would ${what}` : `the main thread is not answering, so whether the app handles it is unknown; without a handler it would ${what}`;
        if (!flags.force) throw new UsageError(`not sending ${name}: ${why}; add --force to send it anyway`);
        outcome = action === 'ends' ? ': without a handler for it, the app ends' : ': without a handler for it, the process stops until it gets SIGCONT';
      }
    }
    ctx.print(`✓ sent ${name} to process ${pid}${outcome}`);
    // A signal that ends the process must not cut off the line that says it was sent.
    await ctx.written();
    process.kill(pid, name);
  },
});
