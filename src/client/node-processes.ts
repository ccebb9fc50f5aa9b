import fs from 'node:fs';
import path from 'node:path';
import { discoveryDir, readRecord, type MonitorRecord } from '../shared/discovery';

/** What /proc tells about one process of this user. */
export interface ProcProcess {
  pid: number;
  ppid: number;
  /** The command line, argv[0] first. */
  argv: string[];
  /** The executable's path, or null when /proc does not say. */
  exe: string | null;
  /** When the process started, in ms since the epoch, or null when unknown. */
  startedAt: number | null;
  /** The kernel's start time (clock ticks since boot), as MonitorRecord's procStart. */
  procStart: number | null;
}

/** Fields of /proc/PID/stat that matter here: the parent and the start time in clock ticks since boot. */
export function parseStat(text: string): { ppid: number; startTicks: number } | null {
  // The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text.slice(close + 2).trim().split(/\s+/);
  const ppid = Number(fields[1]);
  const startTicks = Number(fields[19]);
  return Number.isInteger(ppid) && Number.isFinite(startTicks) && fields.length >= 20 ? { ppid, startTicks } : null;
}

/** The arguments of /proc/PID/cmdline (NUL-separated, usually NUL-terminated). */
export function parseCmdline(text: string): string[] {
  const parts = text.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

/** The boot time, in seconds since the epoch, from /proc/stat's `btime` line; null if missing. */
export function parseBootTime(text: string): number | null {
  const match = /^btime\s+(\d+)$/m.exec(text);
  return match ? Number(match[1]) : null;
}

/** Whether an executable's path or argv[0] names Node: `node`, `nodejs`, `node22`... */
export function isNodeCommand(exe: string | null, argv0: string | undefined): boolean {
  const isNode = (file: string): boolean => /^node(js)?([-.]?\d+(\.\d+)*)?$/.test(path.basename(file.replace(/ \(deleted\)$/, '')));
  return (exe !== null && isNode(exe)) || (argv0 !== undefined && isNode(argv0));
}

/** The uid that owns process `pid`, or null where /proc does not tell. */
export function processOwner(pid: number, procDir = '/proc'): number | null {
  try {
    return fs.statSync(path.join(procDir, String(pid))).uid;
  } catch {
    return null;
  }
}

/** Whether process `pid` runs Node, from its executable or else its argv[0] in /proc. */
export function isNodeProcess(pid: number, procDir = '/proc'): boolean {
  let exe: string | null = null;
  try {
    exe = fs.readlinkSync(path.join(procDir, String(pid), 'exe'));
  } catch {
    // Another user's process, or one that just ended: argv[0] may still tell.
  }
  let argv: string[] = [];
  try {
    argv = parseCmdline(fs.readFileSync(path.join(procDir, String(pid), 'cmdline'), 'utf8'));
  } catch {
    // Gone.
  }
  return isNodeCommand(exe, argv[0]);
}

// Flags of node that take the next argument as their value, to find where the script begins.
const NODE_VALUE_FLAGS = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '--inspect-port', '--title', '--env-file', '--input-type', '-C', '--conditions', '--max-old-space-size', '--stack-size']);

/**
 * What a Node command line runs: the script and its arguments, without node and its own flags. A process that set
 * `process.title` (npm does) has its title in argv[0] and blanks after it: the title says what it runs.
 */
export function scriptOf(argv: string[]): string[] {
  if (argv.length > 1 && argv.slice(1).every((arg) => arg === '')) return argv[0]!.split(' ').filter(Boolean);
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-e' || arg === '--eval' || arg === '-p' || arg === '--print') return ['-e', ...argv.slice(i + 2)];
    if (arg === '--') return argv.slice(i + 1);
    if (!arg.startsWith('-')) return argv.slice(i);
    if (NODE_VALUE_FLAGS.has(arg)) i++;
  }
  return [];
}

const CLOCK_TICKS_PER_SECOND = 100;

function read(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/**
 * The Node processes of this user, from /proc (none where there is no /proc), other than `exceptPid`.
 * Another user's processes are skipped: their files are not ours to read, and no monitor of theirs is ours to reach.
 */
export function nodeProcesses(exceptPid: number = process.pid, procDir = '/proc'): ProcProcess[] {
  let names: string[];
  try {
    names = fs.readdirSync(procDir);
  } catch {
    return [];
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  const bootTime = parseBootTime(read(path.join(procDir, 'stat')) ?? '');
  const found: ProcProcess[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name) || Number(name) === exceptPid) continue;
    const dir = path.join(procDir, name);
    try {
      if (uid !== null && fs.statSync(dir).uid !== uid) continue;
    } catch {
      continue;
    }
    const argv = parseCmdline(read(path.join(dir, 'cmdline')) ?? '');
    let exe: string | null = null;
    try {
      exe = fs.readlinkSync(path.join(dir, 'exe'));
    } catch {
      // A kernel thread, or a process that just ended.
    }
    if (argv.length === 0 || !isNodeCommand(exe, argv[0])) continue;
    const stat = parseStat(read(path.join(dir, 'stat')) ?? '');
    found.push({
      pid: Number(name),
      ppid: stat?.ppid ?? 0,
      argv,
      exe,
      startedAt: stat && bootTime !== null ? Math.round((bootTime + stat.startTicks / CLOCK_TICKS_PER_SECOND) * 1000) : null,
      procStart: stat?.startTicks ?? null,
    });
  }
  return found.sort((a, b) => a.pid - b.pid);
}

/** A process's environment from the text of /proc/PID/environ. */
export function parseEnviron(text: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const entry of text.split('\0')) {
    const equals = entry.indexOf('=');
    if (equals > 0) env[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return env;
}

/**
 * The live record of `pid`: in this user's discovery directory, or else in the one the process's own environment
 * names (a service started without XDG_RUNTIME_DIR, or with a TMPDIR of its own, keeps it elsewhere). Null if none.
 */
export function findRecord(pid: number, env: NodeJS.ProcessEnv = process.env, procDir = '/proc'): MonitorRecord | null {
  const ownDir = discoveryDir(env);
  const record = readRecord(pid, ownDir);
  if (record) return record;
  const environ = read(path.join(procDir, String(pid), 'environ'));
  if (environ === null) return null;
  const itsDir = discoveryDir(parseEnviron(environ));
  return itsDir === ownDir ? null : readRecord(pid, itsDir);
}
