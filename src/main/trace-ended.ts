import { ownObjects } from './own-objects';
import { callbackName } from './timers';

type AnyObject = Record<string | symbol, any>;

// Node points from a handle to the socket, server or child process built on it through a private symbol.
function ownerSymbol(handle: object): symbol | undefined {
  return Object.getOwnPropertySymbols(handle).find((key) => key.description === 'owner_symbol');
}

/**
 * The object a user knows behind a traced resource that ended (the socket of a TCP handle), or undefined
 * when its end is not worth a row of the history: the monitor's own objects, and connections a server
 * accepted, which a busy server ends by the thousand and whose requests the history already shows.
 */
export function ownerOf(type: string, resource: object): object | undefined {
  const key = type === 'Timeout' ? undefined : ownerSymbol(resource);
  const owner = (key ? (resource as AnyObject)[key] : undefined) ?? resource;
  if (ownObjects.has(owner) || ownObjects.has(resource)) return undefined;
  if ((owner as AnyObject).server) return undefined;
  return owner;
}

/** Whether a traced resource has ended: a timer that fired or was cleared, a handle its owner has closed. */
export function hasEnded(type: string, resource: object, owner: object): boolean {
  if (type === 'Timeout') return (resource as AnyObject)._destroyed === true;
  return (owner as AnyObject)._handle !== resource;
}

/** The TYPE a resource that ended has in ps-terminated, as ps named it while it was alive. */
export function endedType(type: string, owner: object): string {
  if (type === 'Timeout') return typeof (owner as AnyObject)._repeat === 'number' ? 'interval' : 'timeout';
  if (type === 'TCPWRAP' || type === 'PIPEWRAP') return 'socket';
  if (type === 'TCPSERVERWRAP' || type === 'PIPESERVERWRAP') return 'server';
  if (type === 'PROCESSWRAP') return 'child';
  return type.toLowerCase();
}

/** A timer's callback and delay when it was made. */
export interface EndedTimer {
  callback?: unknown;
  delay?: number;
}

/** One line about a resource that ended, as ps-terminated shows it; `timer` is how a Timeout was made, which clearTimeout() wipes. */
export function describeEnded(type: string, owner: object, timer?: EndedTimer): string {
  const item = owner as AnyObject;
  switch (type) {
    case 'Timeout': {
      const callback = item._onTimeout ?? timer?.callback;
      return typeof item._repeat === 'number'
        ? `${callbackName(callback)} every ${item._repeat} ms`
        : `${callbackName(callback)} after ${item._idleTimeout >= 0 ? item._idleTimeout : timer?.delay ?? '?'} ms`;
    }
    case 'TCPWRAP':
    case 'PIPEWRAP': {
      const peer = item._peername?.address ?? item._host;
      return peer ? `connection to ${peer}${item._peername?.port ? `:${item._peername.port}` : ''}` : 'connection';
    }
    case 'TCPSERVERWRAP':
    case 'PIPESERVERWRAP':
      return 'server';
    case 'PROCESSWRAP':
      return Array.isArray(item.spawnargs) ? `child pid ${item.pid}: ${item.spawnargs.join(' ')}` : 'child process';
    default:
      return type;
  }
}
