import fs from 'node:fs';
import { createDebug } from '../shared/log';
import { processWide } from './process-wide';

const debug = createDebug('aiomonitor:exit');

// Signals whose default action ends the process without running JavaScript, so no 'exit' event.
const FATAL_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/** A file to remove as the process ends: its inode, so that nobody else's file at that path is touched. */
interface Entry {
  inode: number | null;
  /** Whether an unhandled SIGTERM, SIGINT or SIGHUP removes it too. */
  onSignals: boolean;
}

/**
 * The files and listeners of the whole process: every copy of the package (the preload's bundle, the API's, a
 * dependency's) shares them, so that one copy's signal listener is never taken for the app's by another, which
 * would leave a SIGTERM that the app does not handle ending nothing.
 */
interface Cleanup {
  version: 1;
  files: Map<string, Entry>;
  watchingExit: boolean;
  watchingSignals: boolean;
  onExit(): void;
  onSignal(signal: NodeJS.Signals): void;
}

const cleanup: Cleanup = processWide('exitCleanup', (): Cleanup => {
  const state: Cleanup = {
    version: 1,
    files: new Map(),
    watchingExit: false,
    watchingSignals: false,
    // Covers process.exit(), the end of the loop and an uncaught exception: all emit 'exit' before the process ends.
    onExit: () => removeAll(state),
    /*
     * A signal the app does not handle kills the process without an 'exit' event. When this listener is the
     * only one, it cleans up and raises the signal again with the default action, so the app dies of it as
     * it would have; when the app listens too, the signal is the app's and this does nothing.
     */
    onSignal(signal) {
      if (appSignalListeners(signal) > 0) return;
      removeAll(state);
      watch(state);
      process.kill(process.pid, signal);
    },
  };
  return state;
});

function removeAll(state: Cleanup): void {
  for (const [file, { inode }] of state.files) {
    try {
      if (inode === null || fs.lstatSync(file).ino === inode) fs.unlinkSync(file);
    } catch (error) {
      debug('unlink %s on exit: %s', file, (error as Error).message);
    }
  }
  state.files.clear();
}

/** Listens to exactly what the files need: 'exit' for any, the signals only for those that ask for them. */
function watch(state: Cleanup): void {
  const exit = state.files.size > 0;
  const signals = [...state.files.values()].some((entry) => entry.onSignals);
  if (exit !== state.watchingExit) process[exit ? 'on' : 'off']('exit', state.onExit);
  if (signals !== state.watchingSignals) for (const signal of FATAL_SIGNALS) process[signals ? 'on' : 'off'](signal, state.onSignal);
  state.watchingExit = exit;
  state.watchingSignals = signals;
}

/** How many listeners the app itself has for `signal`: the cleanup's own listener is not the app's. */
export function appSignalListeners(signal: string): number {
  return process.listeners(signal as NodeJS.Signals).filter((listener) => listener !== cleanup.onSignal).length;
}

/**
 * Removes `file`, as it is now (a file put at its path later is left alone), when the process ends by
 * exit or uncaught exception, and with `onSignals` by a SIGTERM, SIGINT or SIGHUP the app does not handle
 * (main thread only). The signal listeners are there only while such a file is: a listener makes a signal
 * wait for a loop stuck in JavaScript. Returns the function that forgets the file again.
 */
export function removeFileOnExit(file: string, onSignals: boolean): () => void {
  let entry: Entry;
  try {
    entry = { inode: fs.lstatSync(file).ino, onSignals };
  } catch {
    return () => {};
  }
  cleanup.files.set(file, entry);
  watch(cleanup);
  return () => {
    if (cleanup.files.get(file) !== entry) return;
    cleanup.files.delete(file);
    watch(cleanup);
  };
}
