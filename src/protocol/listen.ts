import fs from 'node:fs';
import net from 'node:net';
import { describeEndpoint, type Endpoint } from '../config';

const REASONS: Record<string, string> = {
  EADDRINUSE: 'the port is already in use (another monitor, or another app)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'that address is not one of this machine',
  ENOTFOUND: 'no such host',
};

/** The one-line reason a server of the monitor could not listen, with what to do. */
export function listenFailure(what: string, endpoint: Endpoint, error: NodeJS.ErrnoException): Error {
  const reason = REASONS[error.code ?? ''] ?? error.message.split('\n')[0];
  const fix = 'path' in endpoint ? 'choose another path' : 'choose another port (0 picks a free one)';
  return new Error(`cannot listen for ${what} on ${describeEndpoint(endpoint)}: ${reason}; ${fix}`);
}

function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => { probe.destroy(); resolve(true); });
    probe.once('error', () => resolve(false));
  });
}

/** Removes the socket file a dead process left behind; refuses to touch a live socket or any other file. */
async function clearStaleSocket(what: string, path: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(path);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw new Error(`cannot listen for ${what} on ${path}: a file that is not a socket is in the way; remove it or choose another path`);
  if (await canConnect(path)) throw new Error(`cannot listen for ${what} on ${path}: another process is listening there; choose another path`);
  fs.unlinkSync(path);
}

/** Listens on a TCP address or a Unix socket file (made private to this user); resolves with the actual endpoint. */
export async function listen(server: net.Server, what: string, endpoint: Endpoint): Promise<Endpoint> {
  if ('path' in endpoint) await clearStaleSocket(what, endpoint.path);
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => reject(listenFailure(what, endpoint, error));
    server.once('error', onError);
    const ready = (): void => { server.off('error', onError); resolve(); };
    if ('path' in endpoint) server.listen(endpoint.path, ready);
    // exclusive: in a cluster worker, listen here rather than through the primary, which would share the port.
    else server.listen({ port: endpoint.port, host: endpoint.host, exclusive: true }, ready);
  });
  if ('path' in endpoint) {
    // libuv removes the file again when the server closes.
    fs.chmodSync(endpoint.path, 0o600);
    return endpoint;
  }
  return { host: endpoint.host, port: (server.address() as net.AddressInfo).port };
}
