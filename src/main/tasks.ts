import net from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { describeClusterWorker } from './cluster';
import { describeEndpoint } from '../shared/config';
import { duration, plural } from '../shared/text';
import type { TaskDetail, TaskRow } from '../shared/rows';
import { appWorkers } from './app-workers';
import { ownObjects } from './own-objects';
import { forgetIdsExcept, idOf, liveCounts, liveTasks, objectById, type LiveTask } from './registry';
import { loopStalledMs } from './loop-watch';
import { countTimers, describeTimer, isTimer, listTimers, runningTimer, runningTimerRow, timerRow, type TimerInternals } from './timers';
import { linkOf } from './trace';

/** A live object with what ps says about it. */
export interface Found {
  object: object;
  row: Omit<TaskRow, 'id'>;
  /** Set for named tasks and requests, which the registry tracks. */
  live?: LiveTask;
}

type Listening = { listeners(event: string): Function[] };
type AnyHandle = Record<string, any>;

function address(host: string | undefined, port: number | undefined): string {
  return host ? describeEndpoint({ host, port: port ?? 0 }) : '?';
}

// Loaded when ps first runs, not when the monitor starts: most apps never ask.
const isChildProcess = (handle: unknown): handle is ChildProcess =>
  handle instanceof (require('node:child_process') as typeof import('node:child_process')).ChildProcess;
const isUdpSocket = (handle: unknown): handle is import('node:dgram').Socket =>
  handle instanceof (require('node:dgram') as typeof import('node:dgram')).Socket;

/** Names the pipes of child processes ("stdout of child pid 12"), which Node lists as anonymous sockets. */
function childPipes(handles: AnyHandle[]): Map<object, string> {
  const names = new Map<object, string>();
  for (const handle of handles) {
    if (!isChildProcess(handle)) continue;
    handle.stdio.forEach((stream, fd) => {
      if (stream) names.set(stream, `${['stdin', 'stdout', 'stderr'][fd] ?? `fd ${fd}`} of child pid ${handle.pid}`);
    });
  }
  return names;
}

type HandleKind = 'server' | 'stdio' | 'socket' | 'udp' | 'child';

/** Which of the handles ps describes this is, or null for any other (typed by its class's name). */
function handleKind(handle: AnyHandle): HandleKind | null {
  if (handle instanceof net.Server) return 'server';
  // Node marks its stdout/stderr and gives its stdin fd 0; reading process.stdin instead would create that stream.
  if ((handle._isStdio === true || handle.fd === 0) && handle instanceof net.Socket) return 'stdio';
  if (handle instanceof net.Socket) return 'socket';
  if (isUdpSocket(handle)) return 'udp';
  if (isChildProcess(handle)) return 'child';
  return null;
}

/** The class name of a handle ps knows nothing more about. */
function className(handle: AnyHandle): string {
  return handle?.constructor?.name ?? typeof handle;
}

function describeHandle(handle: AnyHandle, pipes: Map<object, string>): Omit<TaskRow, 'id'> {
  const kind = handleKind(handle);
  const row = (summary: string): Omit<TaskRow, 'id'> => ({ type: kind ?? className(handle).toLowerCase(), ref: true, summary });
  switch (kind) {
    case 'server': {
      const at = handle.address();
      const where = typeof at === 'string' ? at : at ? address(at.address, at.port) : 'not listening';
      return row(`${where}, ${plural(handle._connections ?? 0, 'connection')}`);
    }
    case 'stdio':
      return row(`${['stdin', 'stdout', 'stderr'][handle.fd] ?? `fd ${handle.fd}`} (${handle.isTTY ? 'terminal' : 'pipe'})`);
    case 'socket': {
      const socket = handle as net.Socket;
      if (socket.remoteAddress) {
        const arrow = handle.server ? '<-' : '->';
        return row(`${address(socket.localAddress, socket.localPort)} ${arrow} ${address(socket.remoteAddress, socket.remotePort)}`);
      }
      const handleFd = handle._handle?.fd;
      return row(socket.connecting ? 'connecting' : pipes.get(handle) ?? `pipe${handleFd >= 0 ? ` fd ${handleFd}` : ''}`);
    }
    case 'udp': {
      let at = 'unbound';
      try { const a = handle.address(); at = address(a.address, a.port); } catch { /* not bound yet */ }
      return row(at);
    }
    case 'child': {
      const worker = describeClusterWorker(handle as ChildProcess);
      return row(`pid ${handle.pid}: ${worker ?? handle.spawnargs.join(' ')}`);
    }
    default:
      return row(className(handle));
  }
}

function describeRequest(request: AnyHandle): Omit<TaskRow, 'id'> {
  const name: string = request?.constructor?.name ?? 'request';
  const detail = typeof request?.hostname === 'string' ? ` ${request.hostname}` : '';
  return { type: 'request', ref: true, summary: `${name}${detail}` };
}

/** Gives the rows that do not know their age the age of their creation link, when they were created while tracing. */
function withAges(found: Found[], now: number): Found[] {
  for (const item of found) {
    if (item.row.age !== undefined) continue;
    const link = linkOf(item.object);
    if (link) item.row.age = now - link.created;
  }
  return found;
}

/**
 * Everything alive now, in a stable order: named tasks and HTTP requests, timers, handles, then libuv requests.
 * Without `withTimers`, everything but timers and immediates.
 */
function findAll(timers: TimerInternals | undefined, withTimers = true): Found[] {
  const found: Found[] = [];
  const now = Date.now();
  for (const live of liveTasks()) {
    found.push({ object: live.object, live, row: { type: live.type, ref: true, summary: live.describe(), age: now - live.started, name: live.name } });
  }
  if (timers && withTimers) {
    for (const item of listTimers(timers)) {
      if (!ownObjects.has(item.object)) found.push(item);
    }
  }
  const running = withTimers ? runningTimer() : undefined;
  if (running && !ownObjects.has(running)) {
    // Off its list while its callback runs, unless the callback re-armed it (refresh()): then it is listed already.
    const listed = found.find((item) => item.object === running);
    const row = runningTimerRow(running, timers, loopStalledMs());
    if (listed) listed.row = row;
    else found.push({ object: running, row });
  }
  const proc = process as unknown as { _getActiveHandles(): AnyHandle[]; _getActiveRequests(): AnyHandle[] };
  const handles = proc._getActiveHandles().filter((handle) => handle && typeof handle === 'object' && !ownObjects.has(handle));
  const pipes = childPipes(handles);
  for (const handle of handles) found.push({ object: handle, row: describeHandle(handle, pipes) });
  for (const worker of appWorkers()) {
    if (!ownObjects.has(worker)) found.push({ object: worker, row: { type: 'worker', ref: true, summary: `thread ${worker.threadId}` } });
  }
  for (const request of proc._getActiveRequests()) {
    if (request && typeof request === 'object') found.push({ object: request, row: describeRequest(request) });
  }
  return withAges(found, now);
}

/** Lists live tasks with their IDs and forgets the IDs of tasks that ended. */
export function listTasks(timers: TimerInternals | undefined, includeUnref: boolean): TaskRow[] {
  const found = findAll(timers);
  const live = new Set<number>();
  const rows: TaskRow[] = [];
  for (const { object, row } of found) {
    const id = idOf(object);
    live.add(id);
    if (includeUnref || row.ref) rows.push({ id, ...row });
  }
  forgetIdsExcept(live);
  return rows.sort((a, b) => a.id - b.id);
}

/**
 * How many rows `ps` (without -a) would list, by type, counted without describing them, for metrics: a count of the
 * lists, no strings, so that it can run once a second on a process with thousands of sockets and timers.
 */
export function countTasks(timers: TimerInternals | undefined): Record<string, number> {
  const counts = liveCounts();
  const add = (type: string): void => { counts[type] = (counts[type] ?? 0) + 1; };
  if (timers) countTimers(timers, add, (object) => ownObjects.has(object));
  const proc = process as unknown as { _getActiveHandles(): AnyHandle[]; _getActiveRequests(): AnyHandle[] };
  for (const handle of proc._getActiveHandles()) {
    if (handle && typeof handle === 'object' && !ownObjects.has(handle)) add(handleKind(handle) ?? className(handle).toLowerCase());
  }
  for (const worker of appWorkers()) if (!ownObjects.has(worker)) add('worker');
  for (const request of proc._getActiveRequests()) if (request && typeof request === 'object') add('request');
  for (const [type, count] of Object.entries(counts)) if (count === 0) delete counts[type];
  return counts;
}

/** The live object behind an ID, or undefined when it ended or never existed. */
export function findTask(timers: TimerInternals | undefined, id: number): Found | undefined {
  const object = objectById(id);
  if (!object || ownObjects.has(object)) return undefined;
  // A process may hold tens of thousands of timers: one is looked at alone rather than found among all.
  if (isTimer(object)) {
    const row = timerRow(object, timers, loopStalledMs());
    return row && withAges([{ object, row }], Date.now())[0];
  }
  return findAll(timers, false).find((item) => item.object === object);
}

function listenersOf(object: object, events: string[]): [string, Function][] {
  const emitter = object as Partial<Listening>;
  if (typeof emitter.listeners !== 'function') return [];
  return events.flatMap((event) => emitter.listeners!(event).map((fn): [string, Function] => [`'${event}' listener`, fn]));
}

/** Facts about one task for `where`, and the functions whose source locations tell where it comes from. */
export function inspectTask(timers: TimerInternals | undefined, id: number): { item: Found; detail: TaskDetail; functions: [string, Function][] } | undefined {
  const item = findTask(timers, id);
  if (!item) return undefined;
  const { object, row } = item;
  const facts: [string, string][] = [];
  let functions: [string, Function][] = [];
  const handle = object as AnyHandle;
  if (item.live) {
    facts.push(...item.live.facts());
    functions = item.live.functions?.() ?? [];
  } else if (row.type === 'timeout' || row.type === 'interval' || row.type === 'immediate') {
    const timer = describeTimer(handle);
    facts.push(...timer.facts);
    if (row.running !== undefined) facts.splice(1, 0, ['state', `running for ${duration(row.running)}: its callback has not returned yet`]);
    functions = timer.functions;
  } else if (row.type === 'server') {
    facts.push(['listening', String(handle.listening)], ['connections', String(handle._connections ?? 0)]);
    functions = listenersOf(object, ['request', 'connection', 'listening']);
  } else if (row.type === 'socket') {
    facts.push(['bytes read', String(handle.bytesRead)], ['bytes written', String(handle.bytesWritten)]);
    if (handle.timeout) facts.push(['idle timeout', `${handle.timeout} ms`]);
    if (handle.server) facts.push(['accepted by', `server ${idOf(handle.server)}`]);
    functions = listenersOf(object, ['data', 'connect', 'end', 'close']);
  } else if (row.type === 'child') {
    facts.push(['pid', String(handle.pid)], ['command', handle.spawnargs.join(' ')]);
    functions = listenersOf(object, ['exit', 'close']);
  } else if (row.type === 'worker') {
    facts.push(['thread id', String(handle.threadId)]);
    functions = listenersOf(object, ['message', 'exit', 'error']);
  } else if (row.type === 'request' && typeof handle.oncomplete === 'function') {
    functions = [['completion callback', handle.oncomplete]];
  }
  return { item, detail: { id, ...row, facts }, functions };
}
