import net from 'node:net';
import { createDebug } from '../shared/log';
import type { Endpoint } from '../shared/config';
import { openDoor, type AdmissionRules } from '../protocol/admission';
import { listen } from '../protocol/listen';
import { serveSession, type SessionEnvironment } from './session';

const debug = createDebug('aiomonitor:worker');

/** A listening command server. */
export interface MonitorServer {
  endpoint: Endpoint;
  /** Stops listening and ends every session. */
  close(): Promise<void>;
}

/** Starts the command server in this (monitor) thread. */
export async function listenMonitor(endpoint: Endpoint, rules: AdmissionRules, env: SessionEnvironment, freeIfTaken = false): Promise<MonitorServer> {
  const door = openDoor(rules);
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    door.admit(socket, (first) => {
      try {
        serveSession(socket, env, first);
      } catch (error) {
        debug('session failed: %O', error);
        socket.destroy();
      }
    });
  });
  const actual = await listen(server, 'the monitor', endpoint, { freeIfTaken });
  server.on('error', (error) => debug('server error: %O', error));
  return {
    endpoint: actual,
    close: () => new Promise<void>((done) => {
      server.close(() => done());
      door.destroyAll();
    }),
  };
}
