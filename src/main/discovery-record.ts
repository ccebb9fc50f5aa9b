import fs from 'node:fs';
import { createDebug } from '../shared/log';
import type { Endpoint } from '../shared/config';
import { discoveryDir, processStartTime, writeRecord, type MonitorRecord } from '../shared/discovery';
import { removeFileOnExit } from './exit-cleanup';
import { processWide } from './process-wide';
import { printable } from '../shared/text';

const debug = createDebug('aiomonitor:discovery');

/** Whether a monitor of this process (of any copy of the package) has its record already: one record per process. */
const published: { version: 1; owner: object | null } = processWide('discoveryRecord', () => ({ version: 1 as const, owner: null }));

// The main script and its arguments, as `node -e`/`-p` and the REPL have none.
function scriptAndArgs(): { script: string | null; argv: string[] } {
  const evaluated = process.execArgv.some((flag) => /^(-e|--eval|-p|--print)(=|$)/.test(flag));
  if (evaluated || process.argv.length < 2) return { script: null, argv: process.argv.slice(1) };
  return { script: process.argv[1] ?? null, argv: process.argv.slice(2) };
}

/** The record of this process's monitor, listening on `monitor` and `console`. */
export function describeThisProcess(monitor: Endpoint, console: Endpoint | null, tokenRequired: boolean): MonitorRecord {
  return {
    version: 1,
    pid: process.pid,
    ppid: process.ppid,
    ...scriptAndArgs(),
    cwd: process.cwd(),
    node: process.version,
    startedAt: Math.round(Date.now() - process.uptime() * 1000),
    procStart: processStartTime(process.pid),
    monitor,
    console,
    tokenRequired,
  };
}

/**
 * Writes this process's record for `aiomon`, unless another monitor of the process has one, and removes it as the
 * process exits (on a fatal signal too when socket files already need that; otherwise a reader prunes it, since a
 * signal listener would keep a blocked app from dying of SIGTERM). Never throws: a failure is one line on stderr,
 * and the monitor runs on. Returns what removes the record again, for close().
 */
export function publishRecord(owner: object, monitor: Endpoint, console: Endpoint | null, tokenRequired: boolean, env: NodeJS.ProcessEnv = process.env): () => void {
  if (published.owner) return () => {};
  let file: string;
  try {
    file = writeRecord(describeThisProcess(monitor, console, tokenRequired), discoveryDir(env));
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0] ?? String(error);
    process.stderr.write(`aiomonitor: cannot write the record aiomon finds monitors by (${printable(reason)}); the monitor runs on, but aiomon ls will not list it\n`);
    return () => {};
  }
  published.owner = owner;
  debug('record %s', file);
  const forget = removeFileOnExit(file, false);
  let inode: number | null = null;
  try {
    inode = fs.lstatSync(file).ino;
  } catch {
    // Already gone: nothing to remove later.
  }
  return () => {
    if (published.owner !== owner) return;
    published.owner = null;
    forget();
    try {
      if (inode !== null && fs.lstatSync(file).ino === inode) fs.unlinkSync(file);
    } catch (error) {
      debug('remove %s: %s', file, (error as Error).message);
    }
  };
}
