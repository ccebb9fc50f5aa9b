import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Endpoint } from './config';

/**
 * What a started monitor tells `aiomon` about itself, as one JSON file per process in the user's
 * discovery directory. It never holds the token, only whether one is needed.
 */
export interface MonitorRecord {
  /** The record's format; a reader skips a record of another version. */
  version: 1;
  pid: number;
  ppid: number;
  /** The main script as Node resolved it (`process.argv[1]`), or null for `node -e` and the REPL. */
  script: string | null;
  /** The arguments after the script. */
  argv: string[];
  cwd: string;
  /** `process.version`. */
  node: string;
  /** When the process started, in ms since the epoch (`Date.now() - process.uptime()`). */
  startedAt: number;
  /** The process's start time as the kernel counts it (field 22 of /proc/PID/stat), or null where there is none; tells a reused pid. */
  procStart: number | null;
  /** Where the command prompt listens. */
  monitor: Endpoint;
  /** Where the console listens, or null when it is off. */
  console: Endpoint | null;
  /** Where the web page and `/metrics` listen, or null when they are off (absent in records of older monitors). */
  web?: Endpoint | null;
  /** Whether a session must send a token first. */
  tokenRequired: boolean;
}

/**
 * The per-user directory of records: `$XDG_RUNTIME_DIR/aiomonitor` when that is set, else a folder under the
 * system's temporary directory named for the user's uid. Created with mode 0700 by the first monitor.
 */
export function discoveryDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_RUNTIME_DIR) return path.join(env.XDG_RUNTIME_DIR, 'aiomonitor');
  const uid = typeof process.getuid === 'function' ? process.getuid() : os.userInfo().username;
  // os.tmpdir() as `env` would make it, so that a reader finds the directory of a process with another environment.
  const tmp = process.platform === 'win32' ? os.tmpdir() : (env.TMPDIR || env.TMP || env.TEMP || '/tmp').replace(/(.)\/$/, '$1');
  return path.join(tmp, `aiomonitor-${uid}`);
}

/** The record file of `pid` in `dir`. */
export function recordPath(dir: string, pid: number): string {
  return path.join(dir, `${pid}.json`);
}

/** The kernel's start time of `pid` (clock ticks since boot), or null where /proc does not tell it. */
export function processStartTime(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : null;
  } catch {
    return null;
  }
}

/** Whether a process with this pid exists (also when it is another user's). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `record` still describes a live process: its pid exists and, where /proc tells, it started when the record says. */
export function recordIsLive(record: MonitorRecord): boolean {
  if (!pidAlive(record.pid)) return false;
  if (record.procStart === null) return true;
  return processStartTime(record.pid) === record.procStart;
}

function isRecord(value: unknown): value is MonitorRecord {
  const record = value as MonitorRecord;
  return typeof record === 'object' && record !== null && record.version === 1 && Number.isInteger(record.pid) && typeof record.monitor === 'object' && record.monitor !== null;
}

/** Parses one record file's text; null when it is not a record of this version. */
export function parseRecord(text: string): MonitorRecord | null {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * The records of live monitors in `dir`, oldest process first. A record whose process is gone, or whose pid
 * now belongs to another process, is removed as it is found; an unreadable file is skipped.
 */
export function readRecords(dir: string = discoveryDir()): MonitorRecord[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const records: MonitorRecord[] = [];
  for (const name of names) {
    if (!/^\d+\.json$/.test(name)) continue;
    const file = path.join(dir, name);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const record = parseRecord(text);
    if (!record || `${record.pid}.json` !== name) continue;
    if (recordIsLive(record)) records.push(record);
    else fs.rmSync(file, { force: true });
  }
  return records.sort((a, b) => a.startedAt - b.startedAt || a.pid - b.pid);
}

/** The live record of `pid`, or null. */
export function readRecord(pid: number, dir: string = discoveryDir()): MonitorRecord | null {
  return readRecords(dir).find((record) => record.pid === pid) ?? null;
}

/**
 * Writes `record` into `dir` (created 0700 if missing; refused if it is not the user's own private
 * directory), through a temporary file and a rename, so that a reader never sees half a record.
 */
export function writeRecord(record: MonitorRecord, dir: string = discoveryDir()): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = fs.lstatSync(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : stat.uid;
  if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o077) !== 0) {
    throw new Error(`${dir} is not a private directory of this user (mode 0700); remove it or set XDG_RUNTIME_DIR`);
  }
  const file = recordPath(dir, record.pid);
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(record), { mode: 0o600 });
  fs.renameSync(temporary, file);
  return file;
}
