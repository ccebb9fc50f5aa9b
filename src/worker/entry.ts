import { workerData } from 'node:worker_threads';
import { createDebug } from '../shared/log';
import type { FromWorker, ToWorker, WorkerSetup } from '../shared/contract';
import { useDeadlines } from './deadlines';
import { connectMainInspector } from './inspector';
import { linkMainThread } from './main-thread';
import { announce } from './announce';
import { listenMonitor, type MonitorServer } from './server';
import { startWatchdog } from './watchdog';

const debug = createDebug('aiomonitor:worker');
const setup = workerData as WorkerSetup;
const link = setup.link;
useDeadlines(setup.deadlines);
const inspector = connectMainInspector();
const main = linkMainThread(inspector, setup.heartbeat, setup.vitals, link);
const watchdog = startWatchdog(main, setup.watchdog.thresholdMs, (block) => {
  if (setup.watchdog.log) process.stderr.write(`aiomonitor: event loop blocked for ${block.durationMs} ms at ${block.where}\n`);
});

function stop(): void {
  watchdog.stop();
  inspector.close();
  link.close();
}

let server: MonitorServer | undefined;
// The main thread always says when to stop, even after a failed start, so that its 'failed' message
// cannot be overtaken by this thread's exit.
link.on('message', (message: ToWorker) => {
  if (message.type === 'close') void (server?.close() ?? Promise.resolve()).then(stop);
});

listenMonitor(setup.monitor, setup.rules, { main, watchdog, console: setup.console, token: setup.rules.token }, setup.freeIfTaken).then(
  (listening) => {
    server = listening;
    link.postMessage({ type: 'listening', endpoint: listening.endpoint, record: announce(setup, listening.endpoint) } satisfies FromWorker);
  },
  (error: Error) => {
    debug('cannot start: %s', error.message);
    link.postMessage({ type: 'failed', message: error.message } satisfies FromWorker);
  },
);
