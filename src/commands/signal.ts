import fs from 'node:fs';
import os from 'node:os';
import { MainThreadBusyError } from '../worker/inspector';
import { command, UsageError } from './types';

// signal(7)'s default actions: these stop the process, these do nothing, every other one ends it.
const STOPPING = new Set(['SIGTSTP', 'SIGTTIN', 'SIGTTOU']);
const HARMLESS = new Set(['SIGCHLD', 'SIGCLD', 'SIGCONT', 'SIGURG', 'SIGWINCH']);

/** The canonical name of a signal typed as `SIGTERM`, `term` or `15`. */
export function signalName(text: string): NodeJS.Signals | undefined {
  const signals = os.constants.signals as Record<string, number>;
  if (/^\d+$/.test(text)) return Object.keys(signals).find((name) => signals[name] === Number(text)) as NodeJS.Signals | undefined;
  const upper = text.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  return name in signals ? (name as NodeJS.Signals) : undefined;
}

/**
 * Whether the process's signal mask `field` of /proc/self/status (SigIgn: ignored, SigCgt: caught by some
 * handler, Node's own included) has `name`; false where there is no /proc.
 */
function inMask(field: 'SigIgn' | 'SigCgt', name: NodeJS.Signals): boolean {
  try {
    const mask = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
    const number = (os.constants.signals as Record<string, number>)[name];
    return mask !== undefined && ((BigInt(`0x${mask}`) >> BigInt(number - 1)) & 1n) === 1n;
  } catch {
    return false;
  }
}

/** What sending `name` will do, as the end of the ✓ line, or a reason to want --force. */
async function foresee(name: NodeJS.Signals, countListeners: () => Promise<number>): Promise<{ outcome: string; refusal?: string }> {
  if (name === 'SIGKILL') return { refusal: 'SIGKILL ends the process at once, without any cleanup; add --force to send it', outcome: ': the process ends at once' };
  if (HARMLESS.has(name)) return { outcome: '' };
  if (inMask('SigIgn', name)) return { outcome: ': the process ignores it' };
  // Node opens its inspector on SIGUSR1, unless started with --disable-sigusr1: a door without a token.
  if (name === 'SIGUSR1' && inMask('SigCgt', name)) {
    return {
      refusal: 'SIGUSR1 makes Node open its inspector (127.0.0.1:9229 unless --inspect-port says otherwise), where any local user can run code in the app without a token; add --force to send it',
      outcome: ': Node opens its inspector on it (127.0.0.1:9229 unless --inspect-port says otherwise)',
    };
  }
  let listeners: number | undefined;
  try {
    listeners = await countListeners();
  } catch (error) {
    if (!(error instanceof MainThreadBusyError)) throw error;
  }
  if (listeners !== undefined && listeners > 0) return { outcome: '' };
  const stops = STOPPING.has(name);
  const effect = stops ? 'stop the whole process, this monitor with it' : 'end the app';
  if (listeners === undefined) {
    return { refusal: `not sending ${name}: the main thread is not answering, so whether the app handles it is unknown, and without a handler it would ${effect}; add --force to send it anyway`, outcome: '' };
  }
  return {
    refusal: `not sending ${name}: the app has no handler for it, so it would ${effect}; add --force to send it anyway`,
    outcome: stops ? ': without a handler for it, the process stops until it gets SIGCONT' : ': without a handler for it, the app ends',
  };
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
    const { pid } = process;
    if (name === 'SIGSTOP') {
      throw new UsageError(`SIGSTOP would freeze the whole process, this monitor with it, and nothing here could resume it; from a shell: kill -STOP ${pid}, then kill -CONT ${pid}`);
    }
    const { outcome, refusal } = await foresee(name, () => ctx.main.read('signalListeners', name));
    if (refusal && !flags.force) throw new UsageError(refusal);
    ctx.print(`✓ sent ${name} to process ${pid}${outcome}`);
    // A signal that ends the process must not cut off the line that says it was sent.
    await ctx.written();
    process.kill(pid, name);
  },
});
