import net from 'node:net';
import createDebug from 'debug';
import { listenFailure } from '../listen-error';
import { serveSession, type SessionEnvironment } from './session';

const debug = createDebug('aiomonitor:worker');

/** A listening command server. */
export interface MonitorServer {
  port: number;
  /** Stops listening and ends every session. */
  close(): Promise<void>;
}

/** Starts the command server in this (monitor) thread. */
export function listenMonitor(host: string, port: number, env: SessionEnvironment): Promise<MonitorServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    try {
      serveSession(socket, env);
    } catch (error) {
      debug('session failed: %O', error);
      socket.destroy();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error) => reject(listenFailure('the monitor', host, port, error)));
    server.listen(port, host, () => {
      server.on('error', (error) => debug('server error: %O', error));
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          for (const socket of sockets) socket.destroy();
        }),
      });
    });
  });
}
