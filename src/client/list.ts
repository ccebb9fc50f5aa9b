import os from 'node:os';
import { describeEndpoint, type Endpoint } from '../shared/config';
import type { StatusReport } from '../shared/rows';
import { discoveryDir, readRecords, type MonitorRecord } from '../shared/discovery';
import { duration, table } from '../shared/text';
import { openPrompt, TokenRequiredError } from './connection';
import { findRecord, nodeProcesses, scriptOf, type ProcProcess } from './node-processes';

/** How long `aiomon ls` waits for each monitor's status, in ms. */
export const PROBE_TIMEOUT_MS = 1500;
const RUNS_WIDTH = 48;

/** What a probe of a monitor found: its status, or why there is none. */
export type Probe = { status: StatusReport } | { failure: 'token needed' | 'wrong token' | 'no answer' | 'unreachable' };

/** One Node process of the user, as `aiomon ls --json` gives it. */
export interface ListEntry {
  pid: number;
  ppid: number;
  /** The script and its arguments (the command line after node's own flags). */
  runs: string[];
  cwd: string | null;
  node: string | null;
  /** The command prompt's address (`host:port` or a socket path), or null without a monitor. */
  monitor: string | null;
  console: string | null;
  /** The web page's URL (`http://127.0.0.1:50103/`), or null without one. */
  web: string | null;
  uptimeMs: number | null;
  /** idle, busy, blocked, debugger; or token needed, wrong token, no answer, unreachable; or no monitor. */
  state: string;
  /** The monitor's `status --json`, when it answered. */
  status: StatusReport | null;
  /** What attaches a monitor to a process that has none: `aiomon attach PID`. */
  attach: string | null;
}

/** Asks one monitor for `status --json`, within `timeoutMs` for all of it. */
export async function probe(endpoint: Endpoint, token: string | undefined, timeoutMs = PROBE_TIMEOUT_MS): Promise<Probe> {
  const started = Date.now();
  let prompt: Awaited<ReturnType<typeof openPrompt>> | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    prompt = await openPrompt(endpoint, { token, timeoutMs });
    const open = prompt;
    const timeout = new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), Math.max(1, timeoutMs - (Date.now() - started))); });
    const answer = await Promise.race([open.run('status --json'), timeout]);
    if (answer === null) return { failure: 'no answer' };
    const line = answer.split('\n').find((text) => text.startsWith('{'));
    const status = line ? (JSON.parse(line) as StatusReport & { command?: string }) : null;
    return status && status.command === 'status' ? { status } : { failure: 'no answer' };
  } catch (error) {
    if (error instanceof TokenRequiredError) return { failure: 'token needed' };
    const message = (error as Error).message;
    if (/did not answer/.test(message)) return { failure: 'no answer' };
    if (token !== undefined && /closed the session/.test(message)) return { failure: 'wrong token' };
    return { failure: 'unreachable' };
  } finally {
    clearTimeout(timer);
    prompt?.close();
  }
}

/** The table cell of a state: `blocked 3.2 s` says for how long. */
export function stateCell(entry: ListEntry): string {
  if (entry.attach) return `no monitor (${entry.attach})`;
  const status = entry.status;
  if (status?.state === 'blocked') return `blocked ${duration(status.blockedForMs ?? status.stalledMs)}`;
  return entry.state;
}

/** A command line shortened to `width` characters, the home directory as `~`. */
export function shorten(words: string[], width = RUNS_WIDTH, home = os.homedir()): string {
  const text = words.map((word) => (home && word.startsWith(`${home}/`) ? `~${word.slice(home.length)}` : word))
    .map((word) => (/[\s'"]/.test(word) || word === '' ? JSON.stringify(word) : word)).join(' ');
  return text.length <= width ? text || '-' : `${text.slice(0, width - 1)}…`;
}

/** The table `aiomon ls` prints. */
export function formatList(entries: ListEntry[]): string {
  if (entries.length === 0) return 'No Node processes of this user are running.';
  return table(['PID', 'RUNS', 'MONITOR', 'UPTIME', 'STATE'], entries.map((entry) => [
    String(entry.pid),
    shorten(entry.runs),
    entry.monitor ?? '-',
    entry.uptimeMs === null ? '-' : duration(entry.uptimeMs),
    stateCell(entry),
  ]));
}

/** A monitored process's entry, from its record and what its monitor said. */
export function monitoredEntry(record: MonitorRecord, found: Probe, now: number): ListEntry {
  const status = 'status' in found ? found.status : null;
  return {
    pid: record.pid,
    ppid: record.ppid,
    runs: record.script === null ? ['-e', ...record.argv] : [record.script, ...record.argv],
    cwd: record.cwd,
    node: record.node,
    monitor: describeEndpoint(record.monitor),
    console: record.console ? describeEndpoint(record.console) : null,
    web: record.web ? `http://${describeEndpoint(record.web)}/` : null,
    uptimeMs: Math.max(0, now - record.startedAt),
    state: status ? status.state : (found as { failure: string }).failure,
    status,
    attach: null,
  };
}

/** A process without a monitor, from /proc. */
export function unmonitoredEntry(proc: ProcProcess, now: number): ListEntry {
  return {
    pid: proc.pid,
    ppid: proc.ppid,
    runs: scriptOf(proc.argv),
    cwd: null,
    node: null,
    monitor: null,
    console: null,
    web: null,
    uptimeMs: proc.startedAt === null ? null : Math.max(0, now - proc.startedAt),
    state: 'no monitor',
    status: null,
    attach: `aiomon attach ${proc.pid}`,
  };
}

/** Every Node process of the user: the monitored ones (probed at once, all together) and the others. */
export async function listEntries(env: NodeJS.ProcessEnv, token: string | undefined, timeoutMs = PROBE_TIMEOUT_MS): Promise<ListEntry[]> {
  const procs = nodeProcesses(process.pid);
  const here = readRecords(discoveryDir(env)).filter((record) => record.pid !== process.pid);
  const found = new Set(here.map((record) => record.pid));
  // A process whose environment puts its record elsewhere is found there.
  const elsewhere = procs.filter((proc) => !found.has(proc.pid)).map((proc) => findRecord(proc.pid, env)).filter((record) => record !== null);
  const records = [...here, ...elsewhere];
  // A monitor that needs a token nobody gave is not even asked: its answer is known.
  const probes = await Promise.all(records.map((record) => (record.tokenRequired && token === undefined
    ? { failure: 'token needed' as const }
    : probe(record.monitor, token, timeoutMs))));
  const now = Date.now();
  const monitored = new Set(records.map((record) => record.pid));
  const entries = [
    ...records.map((record, i) => monitoredEntry(record, probes[i]!, now)),
    ...procs.filter((proc) => !monitored.has(proc.pid)).map((proc) => unmonitoredEntry(proc, now)),
  ];
  return entries.sort((a, b) => a.pid - b.pid);
}

/** `aiomon ls [--json]`: prints the user's Node processes with their monitors and states; returns the exit code. */
export async function runList(options: { json: boolean; token?: string }, out: NodeJS.WritableStream): Promise<number> {
  const token = options.token ?? (process.env.MONITOR_TOKEN || undefined);
  const entries = await listEntries(process.env, token);
  out.write(options.json ? `${JSON.stringify(entries)}\n` : `${formatList(entries)}\n`);
  return 0;
}
