import type { Debugger } from 'debug';

/** Logs one `aiomonitor:*` namespace through `debug`, as `createDebug(namespace)` would. */
export type Log = (formatter: unknown, ...args: unknown[]) => void;

/**
 * `debug`'s `createDebug`, loaded only once something is logged with DEBUG set: loading `debug` costs some
 * 6 ms, a sixth of what the preload adds to a short script, and nothing is logged without DEBUG
 * (which `debug.enable()` sets too).
 */
export function createDebug(namespace: string): Log {
  let log: Debugger | undefined;
  return (formatter, ...args) => {
    if (!log) {
      if (!process.env.DEBUG) return;
      log = (require('debug') as typeof import('debug'))(namespace);
    }
    log(formatter, ...args);
  };
}
