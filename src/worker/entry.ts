import { workerData } from 'node:worker_threads';
import createDebug from 'debug';
import type { FromWorker, ToWorker, WorkerSetup } from '../protocol/threads';
import { connectMainInspector } from './inspector';
import { linkMainThread } from './main-thread';
import { listenMonitor } from './server';

const debug = createDebug('aiomonitor:worker');
const setup = workerData as WorkerSetup;
const link = setup.link;
const inspector = connectMainInspector();
const main = linkMainThread(inspector, setup.heartbeat, link);

function stop(): void {
  inspector.close();
  link.close();
}

listenMonitor(setup.host, setup.port, { main, console: setup.console }).then(
  (server) => {
    link.postMessage({ type: 'listening', port: server.port } satisfies FromWorker);
    link.on('message', (message: ToWorker) => {
      if (message.type === 'close') void server.close().then(stop);
    });
  },
  (error: Error) => {
    debug('cannot start: %s', error.message);
    link.postMessage({ type: 'failed', message: error.message } satisfies FromWorker);
    stop();
  },
);
