import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './helpers';

export { ROOT };

/** The compiled wrapper under test. */
export const BIN = path.join(ROOT, 'dist', 'bin', 'aiomon-run.js');

/** How a spawned process ended and what it printed. */
export interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const started: ChildProcess[] = [];

/** Environment that keeps the wrapper tests independent of the monitor's ports and console. */
export function testEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CONSOLE_ENABLED: '0', MONITOR_PORT: '0', MONITOR_WEB_PORT: '0', ...extra };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

/** Spawns in its own process group so a failed test can kill the wrapper and the script together. */
export function start(command: string, args: string[], cwd: string, env = testEnv()): { child: ChildProcess; done: Promise<Outcome> } {
  const child = spawn(command, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  started.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<Outcome>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Kills whatever a timed-out test left behind, so the test file can still exit and report. */
export function killAll(): void {
  for (const child of started) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Resolves with the first stdout line matching `pattern`; rejects if output ends first. */
export function lineMatching(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: string): void => {
      seen += chunk;
      const line = seen.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) {
        child.stdout!.off('data', onData);
        resolve(line);
      }
    };
    child.stdout!.on('data', onData);
    child.stdout!.on('end', () => reject(new Error(`no line matching ${pattern}; stdout was:\n${seen}`)));
  });
}
