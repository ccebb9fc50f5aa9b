import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isatty } from 'node:tty';
import { createDebug } from '../shared/log';

const debug = createDebug('aiomonitor:wrapper');

/** Everything needed to start the monitored script; `execPath` is swappable so spawn failures can be tested. */
export interface RunRequest {
  script: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  registerPath: string;
  execPath?: string;
  cwd?: string;
}

/** Signals a supervisor or terminal may send the wrapper that the script has to see as well. */
export const RELAYED_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];

/** Reads the version from package.json at run time, because tsc does not copy it into dist. */
export function packageVersion(): string {
  const file = path.join(__dirname, '..', '..', '..', 'package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

/** Checks the script exists the way `node script` would find it, so a typo fails with one clear line. */
export function resolveScript(script: string, cwd = process.cwd()): string | undefined {
  try {
    return require.resolve(path.resolve(cwd, script));
  } catch {
    return undefined;
  }
}

/** The node arguments: preload the monitor, then the script and its arguments exactly as given. */
export function nodeArgs(registerPath: string, script: string, args: readonly string[]): string[] {
  return ['--require', registerPath, script, ...args];
}

/**
 * Whether a signal received by the wrapper must be forwarded to the script.
 * A Ctrl-C typed in a terminal is sent to the whole foreground process group, which
 * includes the script, so when our stdin is a TTY the script already has its SIGINT;
 * relaying it would deliver a second one, and many apps take a second Ctrl-C as
 * "force quit" and skip their graceful shutdown. SIGINT from `kill` (no TTY) is relayed.
 */
export function shouldRelay(signal: NodeJS.Signals, stdinIsTTY: boolean): boolean {
  return !(signal === 'SIGINT' && stdinIsTTY);
}

/** The shell's convention for "killed by a signal", used when the wrapper cannot die by that signal itself. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (os.constants.signals[signal] ?? 0);
}

/**
 * Ends the wrapper the way the script ended, so shells and supervisors see the real outcome:
 * the same exit code, or death by the same signal (exit status 128 + n as a fallback).
 */
export function exitLikeChild(code: number | null, signal: NodeJS.Signals | null, handlers: Map<NodeJS.Signals, () => void>): void {
  if (signal === null) {
    process.exit(code ?? 1);
  }
  // Our own handler would swallow the signal; without it the default action (terminate) applies.
  for (const [sig, handler] of handlers) process.off(sig, handler);
  process.exitCode = signalExitCode(signal);
  // Node turns SIGUSR1 into "start the inspector" instead of dying, so only the fallback fits.
  if (signal !== 'SIGUSR1') process.kill(process.pid, signal);
  // Still alive (Node ignores SIGPIPE): exitCode applies once the loop is idle; the unref'd
  // timer only matters if something unexpected keeps the loop busy.
  setTimeout(() => process.exit(), 1000).unref();
}

function relaySignals(child: ChildProcess): Map<NodeJS.Signals, () => void> {
  const stdinIsTTY = isatty(0);
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const signal of RELAYED_SIGNALS) {
    // Installed even when not relaying, so a terminal Ctrl-C leaves the wrapper waiting for the script's exit status.
    const handler = (): void => {
      debug('received %s, relay=%s', signal, shouldRelay(signal, stdinIsTTY));
      if (shouldRelay(signal, stdinIsTTY)) child.kill(signal);
    };
    process.on(signal, handler);
    handlers.set(signal, handler);
  }
  return handlers;
}

/** Starts the script under the monitor's preload and mirrors its exit; never returns control to the caller's exit path. */
export function runScript(request: RunRequest): void {
  const cwd = request.cwd ?? process.cwd();
  if (resolveScript(request.script, cwd) === undefined) {
    const where = path.resolve(cwd, request.script);
    process.stderr.write(`aiomon-run: cannot find script ${JSON.stringify(request.script)} (looked for ${where}); check the path\n`);
    process.exit(1);
  }
  const execPath = request.execPath ?? process.execPath;
  const argv = nodeArgs(request.registerPath, request.script, request.args);
  debug('spawning %s %o', execPath, argv);
  const child = spawn(execPath, argv, { stdio: 'inherit', env: request.env, cwd });
  const handlers = relaySignals(child);

  child.on('error', (err: NodeJS.ErrnoException) => {
    if (child.pid !== undefined) {
      debug('child error after start: %s', err.message);
      return;
    }
    process.stderr.write(`aiomon-run: cannot start ${execPath}: ${err.message}; check that Node.js is installed there\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    debug('script ended: code=%s signal=%s', code, signal);
    exitLikeChild(code, signal, handlers);
  });
}
