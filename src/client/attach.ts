/**
 * `aiomon attach PID`: loads the monitor into a Node process started without it, through the inspector
 * that SIGUSR1 opens (as `node inspect -p PID` does), and closes that inspector again.
 */
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Endpoint } from '../shared/config';
import { createDebug } from '../shared/log';
import { CallTimeoutError, InspectorSession, connectHost, probeInspector } from './inspector-client';
import {
  disablesSigusr1, inspectorAddressOf, nodeOptionsFromEnviron, nodeOptionsOf, opensInspector, parseSignalDisposition, parseUid,
  readCmdline, readListeningSockets, readOwnListeningSockets, readProc, type ListeningSocket,
} from './attach-proc';
import { findRecord, isNodeProcess } from './node-processes';
import { formatPausedStack } from './paused-stack';

const debug = createDebug('aiomonitor:attach');

/** Attaching failed; the message is one line for the user: what was wrong and what to do. */
export class AttachError extends Error {
  override name = 'AttachError';
}

/** The package's API bundle, which the target process loads (this file is dist/src/client/attach.js). */
export const MONITOR_ENTRY = path.join(__dirname, '..', 'main', 'index.js');
const SIGUSR1 = os.constants.signals.SIGUSR1;
/** How long the inspector may take to open after SIGUSR1. */
const OPEN_DEADLINE_MS = 3000;
/** How long the main thread may take to answer through the event loop before it counts as blocked. */
const LOOP_DEADLINE_MS = 2000;
/** How long the monitor's thread may take to start and listen once the loop turns. */
const START_DEADLINE_MS = 10_000;
const PROBE_TIMEOUT_MS = 500;
const POLL_MS = 25;

/** The inspector found for a process: its session, and whether it was open before the attach (then it stays open). */
interface Inspector {
  session: InspectorSession;
  socket: ListeningSocket;
  wasOpen: boolean;
}

/**
 * Starts a monitor inside process `pid` (on 127.0.0.1, `options.port` or a free port) and returns where it
 * listens; a process that already has a monitor gets its endpoint back. Lines worth showing the user (the
 * stack of a blocked main thread) go to `options.log`. Fails with an AttachError.
 */
export async function attachToPid(pid: number, options: { port?: number; log?: (line: string) => void }): Promise<{ endpoint: Endpoint; tokenRequired: boolean }> {
  const started = Date.now();
  const nodeOptions = checkTarget(pid);
  const record = findRecord(pid);
  if (record) return { endpoint: record.monitor, tokenRequired: record.tokenRequired };
  const inspector = await openInspector(pid, nodeOptions);
  debug('inspector of %d at %s:%d after %d ms', pid, inspector.socket.host, inspector.socket.port, Date.now() - started);
  let address: Endpoint;
  try {
    address = await startInside(pid, inspector, options);
  } catch (error) {
    await closeInspector(pid, inspector, false);
    throw error;
  }
  await closeInspector(pid, inspector, true);
  debug('monitor of %d at %o after %d ms', pid, address, Date.now() - started);
  return { endpoint: address, tokenRequired: false };
}

/** Refuses a pid that is gone, not Node, or another user's; returns the Node options of its command line and NODE_OPTIONS. */
function checkTarget(pid: number): string[] {
  if (process.platform !== 'linux') throw new AttachError(`attaching by pid reads /proc, which only Linux has; start the app under the monitor instead (node -r aiomonitor/register)`);
  if (!Number.isInteger(pid) || pid <= 0) throw new AttachError(`${pid} is not a process id; give the pid of a running Node process`);
  let foreign = false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw new AttachError(`no process ${pid}; check the pid (ps -ef | grep node)`);
    foreign = true;
  }
  const cmdline = readCmdline(pid);
  if (cmdline === null) throw new AttachError(`no process ${pid}; check the pid (ps -ef | grep node)`);
  if (!isNodeProcess(pid)) throw new AttachError(`process ${pid} is not a Node.js process (${cmdline[0] ?? '?'}); give the pid of a node process`);
  const uid = parseUid(readProc(pid, 'status') ?? '');
  const self = process.getuid?.();
  if (foreign || (uid !== null && self !== undefined && self !== 0 && uid !== self)) {
    throw new AttachError(`process ${pid} belongs to another user (uid ${uid ?? '?'}); attaching needs the same user (or root)`);
  }
  return [...nodeOptionsFromEnviron(readProc(pid, 'environ') ?? ''), ...nodeOptionsOf(cmdline)];
}

/** The inspector of `pid`: the one it has open already, or the one SIGUSR1 opens. */
async function openInspector(pid: number, nodeOptions: string[]): Promise<Inspector> {
  const before = readOwnListeningSockets(pid);
  const tried = new Set<number>();
  if (opensInspector(nodeOptions)) {
    const open = await findInspector(pid, nodeOptions, before, tried);
    if (open) return { ...open, wasOpen: true };
  }
  checkSigusr1(pid, nodeOptions);
  try {
    process.kill(pid, 'SIGUSR1');
  } catch (error) {
    throw new AttachError(`cannot signal process ${pid} (${(error as Error).message}); attaching needs the same user (or root)`);
  }
  const known = new Set(before.map((socket) => socket.inode));
  const deadline = Date.now() + OPEN_DEADLINE_MS;
  let olderTried = false;
  for (;;) {
    const fresh = readOwnListeningSockets(pid).filter((socket) => !known.has(socket.inode));
    const found = await findInspector(pid, nodeOptions, fresh, tried);
    if (found) return { ...found, wasOpen: false };
    // SIGUSR1 opens nothing when the inspector is open already (by an earlier SIGUSR1 or inspector.open()).
    if (!olderTried && Date.now() > deadline - OPEN_DEADLINE_MS / 2) {
      olderTried = true;
      const open = await findInspector(pid, nodeOptions, before, tried);
      if (open) return { ...open, wasOpen: true };
    }
    if (Date.now() > deadline) break;
    await sleep(POLL_MS);
  }
  throw new AttachError(explainNoInspector(pid, nodeOptions));
}

/** The first of `sockets` that answers as an inspector of `pid`, connected; each socket is asked once. */
async function findInspector(pid: number, nodeOptions: string[], sockets: ListeningSocket[], tried: Set<number>): Promise<{ session: InspectorSession; socket: ListeningSocket } | null> {
  for (const socket of sockets) {
    if (tried.has(socket.inode)) continue;
    const host = connectHost(socket.host);
    const url = await probeInspector(host, socket.port, PROBE_TIMEOUT_MS);
    // A server that is still starting answers nothing yet: asked again on the next round.
    if (url === null) continue;
    tried.add(socket.inode);
    let session: InspectorSession;
    try {
      session = await InspectorSession.open(url, PROBE_TIMEOUT_MS * 4);
    } catch (error) {
      throw new AttachError(`cannot connect to the inspector of process ${pid} at ${host}:${socket.port} (${(error as Error).message}); is another debugger attached?`);
    }
    const owner = await evaluate(session, 'process.pid', false, LOOP_DEADLINE_MS).catch(() => null);
    if (owner === pid) return { session, socket };
    if (owner === null) {
      // Queued behind the unanswered evaluation: the inspector closes a moment after the main thread returns.
      if (!opensInspector(nodeOptions)) session.send('Runtime.evaluate', { expression: CLOSE_EXPRESSION, includeCommandLineAPI: false, silent: true });
      await session.close();
      throw new AttachError(`process ${pid} opened its inspector, but its main thread does not answer even there (stuck in a synchronous native call?); try again when it returns`);
    }
    await session.close();
    if (owner !== null) throw new AttachError(`the inspector on port ${socket.port} held by process ${pid} belongs to process ${String(owner)}; attach to that one`);
  }
  return null;
}

/** Refuses to send SIGUSR1 where it cannot open the inspector, or where it would kill the process. */
function checkSigusr1(pid: number, nodeOptions: string[]): void {
  const disposition = parseSignalDisposition(readProc(pid, 'status') ?? '', SIGUSR1);
  if (disablesSigusr1(nodeOptions) || (disposition && disposition.blocked && !disposition.caught)) {
    throw new AttachError(`process ${pid} runs with --disable-sigusr1, so SIGUSR1 cannot open its inspector; restart it without that flag, or under the monitor (node -r aiomonitor/register)`);
  }
  if (disposition?.ignored) throw new AttachError(`process ${pid} ignores SIGUSR1, so its inspector cannot be opened; start it under the monitor instead (node -r aiomonitor/register)`);
  if (disposition && !disposition.caught) throw new AttachError(`process ${pid} has no SIGUSR1 handler (the signal would kill it); start it under the monitor instead (node -r aiomonitor/register)`);
}

/** Why SIGUSR1 opened no inspector, as far as /proc tells. */
function explainNoInspector(pid: number, nodeOptions: string[]): string {
  const address = inspectorAddressOf(nodeOptions);
  const where = `${address.host}:${address.port}`;
  if (address.port !== 0) {
    const own = new Set(readOwnListeningSockets(pid).map((socket) => socket.inode));
    const taken = readListeningSockets(pid).some((socket) => socket.port === address.port && !own.has(socket.inode));
    if (taken) return `SIGUSR1 could not open the inspector of process ${pid}: its port ${where} is taken by another process (Node says so on the app's stderr); free that port and try again (the app's --inspect-port sets it; --inspect-port=0 takes a free one)`;
  }
  // --disable-sigusr1 was refused before the signal (by the flags, or the mask of a blocked, uncaught SIGUSR1).
  return `SIGUSR1 opened no inspector in process ${pid} within ${OPEN_DEADLINE_MS / 1000} s: the app handles SIGUSR1 itself (process.on('SIGUSR1') replaces Node's inspector start), or its main thread is stuck in a synchronous native call; start it under the monitor instead (node -r aiomonitor/register)`;
}

/** Runs the monitor's start in the process and returns its prompt's address; prints the stack and fails if the main thread is blocked. */
async function startInside(pid: number, inspector: Inspector, options: { port?: number; log?: (line: string) => void }): Promise<Endpoint> {
  const { session } = inspector;
  const blocked = async (): Promise<never> => {
    await printBlockedStack(session, options.log ?? (() => {}));
    throw new AttachError(`the main thread of process ${pid} is blocked, so the monitor could not start; try again when it returns`);
  };
  // The loop must turn for the monitor to start: asked first, so that a blocked process gets no half-started monitor.
  try {
    await evaluate(session, 'new Promise((resolve) => setImmediate(() => resolve(true)))', true, LOOP_DEADLINE_MS);
  } catch (error) {
    if (error instanceof CallTimeoutError) return blocked();
    throw new AttachError(`the inspector of process ${pid} failed (${(error as Error).message}); try again`);
  }
  let answer: unknown;
  try {
    answer = await evaluate(session, startExpression(options.port ?? 0), true, START_DEADLINE_MS);
  } catch (error) {
    if (error instanceof CallTimeoutError) return blocked();
    throw new AttachError(`the inspector of process ${pid} failed (${(error as Error).message}); try again`);
  }
  const result = JSON.parse(String(answer)) as { address?: { host: string | null; port: number | null }; error?: string; preloaded?: true };
  if (result.preloaded) {
    throw new AttachError(`process ${pid} already runs the monitor (started by -r aiomonitor/register) but left no record; connect to its port (MONITOR_PORT, 50101 by default)`);
  }
  if (result.error !== undefined || !result.address?.port) {
    throw new AttachError(`the monitor could not start in process ${pid}: ${result.error ?? 'it listens on no TCP port'}`);
  }
  return { host: result.address.host ?? '127.0.0.1', port: result.address.port };
}

/**
 * The expression that starts the monitor in the target, in a CommonJS or an ES module app alike (no `require`
 * in scope there: the module loader comes from process.getBuiltinModule). A second attach finds the first one's
 * monitor; a process whose preload started one gets no second.
 */
export function startExpression(port: number): string {
  const settings = JSON.stringify({ port, consolePort: 0, host: '127.0.0.1' });
  return `(async () => {
  const key = Symbol.for('aiomonitor.attached');
  try {
    let monitor = globalThis[key];
    if (!monitor && Symbol.for('aiomonitor.preloaded') in globalThis) return JSON.stringify({ preloaded: true });
    if (!monitor) {
      const file = ${JSON.stringify(MONITOR_ENTRY)};
      monitor = process.getBuiltinModule('node:module').createRequire(file)(file).startMonitor(${settings});
      globalThis[key] = monitor;
    }
    try {
      return JSON.stringify({ address: await monitor.ready });
    } catch (error) {
      if (globalThis[key] === monitor) delete globalThis[key];
      throw error;
    }
  } catch (error) {
    return JSON.stringify({ error: String(error && error.message || error) });
  }
})()`;
}

/** Evaluates `expression` in the main thread's global scope and returns its value. */
async function evaluate(session: InspectorSession, expression: string, awaitPromise: boolean, timeoutMs: number): Promise<unknown> {
  const reply = await session.call('Runtime.evaluate', { expression, awaitPromise, returnByValue: true, includeCommandLineAPI: false, silent: true }, timeoutMs);
  const details = reply.exceptionDetails as { exception?: { description?: string }; text?: string } | undefined;
  if (details) throw new Error(details.exception?.description?.split('\n')[0] ?? details.text ?? 'exception');
  return (reply.result as { value?: unknown } | undefined)?.value;
}

/** Pauses the main thread where it is (the inspector answers while JavaScript runs), prints its stack, resumes it. */
async function printBlockedStack(session: InspectorSession, log: (line: string) => void): Promise<void> {
  // Frames name their script by id only; Debugger.enable reports every script's URL first.
  const scripts = new Map<string, string>();
  const stop = session.on('Debugger.scriptParsed', (script) => { scripts.set(String(script.scriptId), String(script.url ?? '')); });
  try {
    await session.call('Debugger.enable', {}, LOOP_DEADLINE_MS);
    const paused = session.next('Debugger.paused', LOOP_DEADLINE_MS);
    await session.call('Debugger.pause', {}, LOOP_DEADLINE_MS);
    const { callFrames } = await paused;
    log('the main thread is blocked here:');
    for (const line of formatPausedStack(callFrames, scripts)) log(line);
    await session.call('Debugger.resume', {}, LOOP_DEADLINE_MS);
    await session.call('Debugger.disable', {}, LOOP_DEADLINE_MS);
  } catch (error) {
    log(`(no stack: ${(error as Error).message})`);
  } finally {
    stop();
  }
}

/**
 * Closes the inspector this attach opened (not one that was open before). Never while a WebSocket session is
 * connected: closing the inspector from inside the session's evaluation crashes Node (nodejs/node#18761), and so,
 * now and then, does closing it while that session's own disconnect is under way. So the close is scheduled a
 * moment later on the app's loop, and the session ends first; after a blocked attach it runs once the main thread returns.
 */
async function closeInspector(pid: number, inspector: Inspector, waitForPort: boolean): Promise<void> {
  const { session, socket, wasOpen } = inspector;
  if (!wasOpen) {
    await session.call('Runtime.evaluate', { expression: CLOSE_EXPRESSION, includeCommandLineAPI: false, silent: true }, LOOP_DEADLINE_MS).catch(() => {});
  }
  await session.close();
  if (wasOpen || !waitForPort) return;
  const deadline = Date.now() + CLOSE_DELAY_MS + 2000;
  while (Date.now() < deadline && readOwnListeningSockets(pid).some((open) => open.inode === socket.inode)) await sleep(POLL_MS);
}

/** Time for the session's end to reach the app's main thread before the inspector closes. */
const CLOSE_DELAY_MS = 200;
const CLOSE_EXPRESSION = `setTimeout(() => process.getBuiltinModule('node:inspector').close(), ${CLOSE_DELAY_MS}).unref()`;
