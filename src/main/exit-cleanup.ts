import fs from 'node:fs';
import createDebug from 'debug';

const debug = createDebug('aiomonitor:exit');

// Signals whose default action ends the process without running JavaScript, so no 'exit' event.
const FATAL_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/** Files to remove as the process ends, each with the inode it had, so that nobody else's file at that path is touched. */
const files = new Map<string, number | null>();
let watchingSignals = false;

function removeAll(): void {
  for (const [file, inode] of files) {
    try {
      if (inode === null || fs.lstatSync(file).ino === inode) fs.unlinkSync(file);
    } catch (error) {
      debug('unlink %s on exit: %s', file, (error as Error).message);
    }
  }
  files.clear();
}

// Covers process.exit(), the end of the loop and an uncaught exception: all emit 'exit' before the process ends.
function onExit(): void {
  removeAll();
}

/**
 * A signal the app does not handle kills the process without an 'exit' event. When this listener is the
 * only one, it cleans up and raises the signal again with the default action, so the app dies of it as
 * it would have; when the app listens too, the signal is the app's and this does nothing.
 */
function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  removeAll();
  stopWatchingSignals();
  process.kill(process.pid, signal);
}

function stopWatchingSignals(): void {
  if (!watchingSignals) return;
  watchingSignals = false;
  for (const signal of FATAL_SIGNALS) process.off(signal, onSignal);
  process.off('exit', onExit);
}

/**
 * Removes `file` when the process ends, by exit, uncaught exception or an unhandled SIGTERM, SIGINT or SIGHUP
 * (main thread only). `inode` guards a file that may be replaced meanwhile; null removes whatever is there.
 * Returns the function that forgets the file again.
 */
export function removeOnExit(file: string, inode: number | null = null): () => void {
  files.set(file, inode);
  if (!watchingSignals) {
    watchingSignals = true;
    process.on('exit', onExit);
    for (const signal of FATAL_SIGNALS) process.on(signal, onSignal);
  }
  return () => {
    if (files.get(file) !== inode) return;
    files.delete(file);
    if (files.size === 0) stopWatchingSignals();
  };
}

/** Like removeOnExit, for a file that exists now: only this very file is removed, never one put at its path later. */
export function removeFileOnExit(file: string): () => void {
  let inode: number | null;
  try {
    inode = fs.lstatSync(file).ino;
  } catch {
    return () => {};
  }
  return removeOnExit(file, inode);
}
