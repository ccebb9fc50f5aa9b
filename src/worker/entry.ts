import { workerData } from 'node:worker_threads';
import { createDebug } from '../shared/log';
import type { FromWorker, ToWorker, WorkerSetup } from '../shared/contract';
import { useDeadlines } from './deadlines';
import { connectMainInspector } from './inspector';
import { linkMainThread } from './main-thread';
import { announce } from './announce';
import { listenMonitor, type MonitorServer } from './server';
import type { SessionEnvironment } from './session';
import { listenWeb, type WebServer } from './web/server';
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
let web: WebServer | undefined;
// The main thread always says when to stop, even after a failed start, so that its 'failed' message
// cannot be overtaken by this thread's exit.
link.on('message', (message: ToWorker) => {
  if (message.type === 'close') void Promise.all([server?.close(), web?.close()]).then(stop);
});

async function listenAll(): Promise<void> {
  const env: SessionEnvironment = { main, watchdog, console: setup.console, token: setup.rules.token };
  server = await listenMonitor(setup.monitor, setup.rules, env, setup.freeIfTaken);
  if (setup.web) web = await listenWeb(setup.web, { token: setup.rules.token, title: setup.title }, env);
  const record = announce(setup, server.endpoint, web?.endpoint ?? null);
  link.postMessage({ type: 'listening', endpoint: server.endpoint, web: web?.endpoint ?? null, record } satisfies FromWorker);
}

listenAll().catch((error: Error) => {
  debug('cannot start: %s', error.message);
  link.postMessage({ type: 'failed', message: error.message } satisfies FromWorker);
});
