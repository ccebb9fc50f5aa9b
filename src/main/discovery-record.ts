import fs from 'node:fs';
import { createDebug } from '../shared/log';
import type { Endpoint } from '../shared/config';
import type { RecordPlan } from '../shared/contract';
import { discoveryDir, processStartTime, type MonitorRecord } from '../shared/discovery';
import { removeFileOnExit } from './exit-cleanup';
import { processWide } from './process-wide';

const debug = createDebug('aiomonitor:discovery');

/** Whether a monitor of this process (of any copy of the package) has its record already: one record per process. */
const published: { version: 1; owner: object | null } = processWide('discoveryRecord', () => ({ version: 1 as const, owner: null }));

// The main script and its arguments, as `node -e`/`-p` and the REPL have none.
function scriptAndArgs(): { script: string | null; argv: string[] } {
  const evaluated = process.execArgv.some((flag) => /^(-e|--eval|-p|--print)(=|$)/.test(flag));
  if (evaluated || process.argv.length < 2) return { script: null, argv: process.argv.slice(1) };
  return { script: process.argv[1] ?? null, argv: process.argv.slice(2) };
}

/** The record of this process, but for where the command prompt listens, which the monitor thread learns. */
export function describeThisProcess(console: Endpoint | null, tokenRequired: boolean): Omit<MonitorRecord, 'monitor'> {
  return {
    version: 1,
    pid: process.pid,
    ppid: process.ppid,
    ...scriptAndArgs(),
    cwd: process.cwd(),
    node: process.version,
    startedAt: Math.round(Date.now() - process.uptime() * 1000),
    procStart: processStartTime(process.pid),
    console,
    tokenRequired,
  };
}

/**
 * Claims the process's one record for the monitor `owner`, unless another monitor of the process has it: the
 * plan the monitor thread writes it by once it listens, or null.
 */
export function planRecord(owner: object, console: Endpoint | null, tokenRequired: boolean, env: NodeJS.ProcessEnv = process.env): RecordPlan | null {
  if (published.owner) return null;
  published.owner = owner;
  return { dir: discoveryDir(env), record: describeThisProcess(console, tokenRequired) };
}

/**
 * Takes charge of the record the monitor thread wrote (or gives the claim up when it wrote none): it is removed as
 * the process exits (on a fatal signal too when socket files already need that; otherwise a reader prunes it, since
 * a signal listener would keep a blocked app from dying of SIGTERM). Returns what removes it, for close().
 */
export function adoptRecord(owner: object, file: string | null): () => void {
  if (published.owner !== owner) return () => {};
  if (file === null) {
    published.owner = null;
    return () => {};
  }
  debug('record %s', file);
  let inode: number | null = null;
  try {
    inode = fs.lstatSync(file).ino;
  } catch {
    // Already gone: nothing to remove later.
  }
  const forget = removeFileOnExit(file, false);
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
