import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createDebug } from '../shared/log';
import { describeEndpoint, PRIVATE_DIR_PREFIX, type Endpoint } from '../shared/config';

const debug = createDebug('aiomonitor:listen');

const TCP_REASONS: Record<string, string> = {
  EADDRINUSE: 'the port is already in use (another monitor, or another app)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'that address is not one of this machine',
  ENOTFOUND: 'no such host',
};

function socketReason(file: string, error: NodeJS.ErrnoException): string | undefined {
  const dir = path.dirname(file);
  const reasons: Record<string, string> = {
    ENOENT: `directory ${dir} does not exist`,
    ENOTDIR: `${dir} is not a directory`,
    EACCES: `permission denied in ${dir}`,
    EPERM: `permission denied in ${dir}`,
    EROFS: `${dir} is on a read-only file system`,
    EEXIST: 'a file appeared there meanwhile',
    ENAMETOOLONG: 'the path is too long for a Unix socket',
  };
  return reasons[error.code ?? ''];
}

/** The one-line reason a server of the monitor could not listen, with what to do. */
export function listenFailure(what: string, endpoint: Endpoint, error: NodeJS.ErrnoException): Error {
  const reason = ('path' in endpoint ? socketReason(endpoint.path, error) : TCP_REASONS[error.code ?? '']) ?? error.message.split('\n')[0];
  const fix = 'path' in endpoint ? 'choose another path' : 'choose another port (0 picks a free one)';
  return new Error(`cannot listen for ${what} on ${describeEndpoint(endpoint)}: ${reason}; ${fix}`);
}

function canConnect(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(file);
    probe.once('connect', () => { probe.destroy(); resolve(true); });
    probe.once('error', () => resolve(false));
  });
}

/** Removes the socket file a dead process left behind; refuses to touch a live socket or any other file. */
async function clearStaleSocket(what: string, file: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(file);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw new Error(`cannot listen for ${what} on ${file}: a file that is not a socket is in the way; remove it or choose another path`);
  if (await canConnect(file)) throw new Error(`cannot listen for ${what} on ${file}: another process is listening there; choose another path`);
  fs.unlinkSync(file);
}

function listenOn(server: net.Server, target: string | { port: number; host: string }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const ready = (): void => { server.off('error', reject); resolve(); };
    if (typeof target === 'string') server.listen(target, ready);
    // exclusive: in a cluster worker, listen here rather than through the primary, which would share the port.
    else server.listen({ ...target, exclusive: true }, ready);
  });
}

/**
 * Listens on a socket file that nobody else can connect to at any moment, whatever the umask: it is bound
 * inside a fresh directory of mode 0700 beside the target, made 0600, then linked into place (a link never
 * replaces a file that appeared meanwhile). umask() would do it too, but a worker thread may not call it.
 */
async function listenPrivately(server: net.Server, file: string): Promise<void> {
  const dir = fs.mkdtempSync(path.join(path.dirname(file), PRIVATE_DIR_PREFIX));
  const inside = path.join(dir, 's');
  try {
    await listenOn(server, inside);
    fs.chmodSync(inside, 0o600);
    fs.linkSync(inside, file);
  } catch (error) {
    server.close();
    throw error;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const { ino } = fs.lstatSync(file);
  // libuv unlinks the path it bound, which is gone: the file in place is ours to remove, if it is still ours.
  server.once('close', () => {
    try {
      if (fs.lstatSync(file).ino === ino) fs.unlinkSync(file);
    } catch (error) {
      debug('unlink %s: %s', file, (error as Error).message);
    }
  });
}

/**
 * Listens on a TCP address or a private Unix socket file (mode 0600 from the start); resolves with the actual endpoint.
 * With `freeIfTaken` (a default port, which the user did not choose), a port in use is no failure: it listens on a
 * free port instead, and the caller says where.
 */
export async function listen(server: net.Server, what: string, endpoint: Endpoint, options: { freeIfTaken?: boolean } = {}): Promise<Endpoint> {
  try {
    if ('path' in endpoint) {
      await clearStaleSocket(what, endpoint.path);
      await listenPrivately(server, endpoint.path);
      return endpoint;
    }
    try {
      await listenOn(server, { port: endpoint.port, host: endpoint.host });
    } catch (error) {
      if (!options.freeIfTaken || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      debug('%s: port %d is taken, listening on a free one', what, endpoint.port);
      await listenOn(server, { port: 0, host: endpoint.host });
    }
  } catch (error) {
    if (error instanceof Error && !('code' in error)) throw error;
    throw listenFailure(what, endpoint, error as NodeJS.ErrnoException);
  }
  return { host: endpoint.host, port: (server.address() as net.AddressInfo).port };
}

/** A server's wanted and actual endpoints, for movedLine; `name` is how the line names it ("console"). */
export interface Placement {
  name: string;
  wanted: Endpoint | null;
  actual: Endpoint | null;
}

/**
 * The one line that says a default port was taken and where this monitor listens instead, or undefined when
 * every server got the port it asked for. The command prompt comes first, then the others by name.
 */
export function movedLine(prompt: Placement, ...others: Placement[]): string | undefined {
  const moved = ({ wanted, actual }: Placement): boolean =>
    !!wanted && !!actual && 'port' in wanted && 'port' in actual && wanted.port !== 0 && wanted.port !== actual.port;
  const movedOthers = others.filter(moved);
  const promptMoved = moved(prompt);
  if (!promptMoved && movedOthers.length === 0) return undefined;
  const taken = [...(promptMoved ? [prompt] : []), ...movedOthers].map((placement) => (placement.wanted as { port: number }).port);
  const at = (placement: Placement): string => describeEndpoint(placement.actual!);
  const where = promptMoved
    ? `this one listens on ${at(prompt)}${movedOthers.length > 0 ? ` (${movedOthers.map((p) => `${p.name} ${at(p)}`).join(', ')})` : ''}`
    : `this one's ${movedOthers.map((p, i) => `${i > 0 ? 'its ' : ''}${p.name} ${i > 0 ? 'on' : 'listens on'} ${at(p)}`).join(', ')}`;
  const ports = taken.length > 1 ? `ports ${taken.slice(0, -1).join(', ')} and ${taken.at(-1)} are` : `port ${taken[0]} is`;
  return `aiomonitor: ${ports} taken (by another monitor?); ${where} — find it with aiomon`;
}
