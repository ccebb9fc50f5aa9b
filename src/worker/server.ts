import net from 'node:net';
import createDebug from 'debug';
import { serveSession, type SessionEnvironment } from './session';

const debug = createDebug('aiomonitor:worker');

/** A listening command server. */
export interface MonitorServer {
  port: number;
  /** Stops listening and ends every session. */
  close(): Promise<void>;
}

const REASONS: Record<string, string> = {
  EADDRINUSE: 'the port is already in use (another monitor, or another app)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'that address is not one of this machine',
  ENOTFOUND: 'no such host',
};

/** The one-line reason a server could not listen, with what to do. */
export function listenFailure(what: string, host: string, port: number, error: NodeJS.ErrnoException): Error {
  const reason = REASONS[error.code ?? ''] ?? error.message;
  return new Error(`cannot listen for ${what} on ${host}:${port}: ${reason}; choose another port (0 picks a free one)`);
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
