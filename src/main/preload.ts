import { isMainThread } from 'node:worker_threads';
import { clusterWorkerId, forClusterWorker, notePrimaryOptions } from './cluster';
import { printable } from '../shared/text';
import { optionsFromEnv } from '../shared/config';
import { startInBackground } from './monitor';
import { processWide } from './process-wide';

function warn(message: string): void {
  // One line, whatever a setting held: its value may carry line breaks or terminal escapes.
  process.stderr.write(`aiomonitor: ${printable(message)}; the app runs without a monitor\n`);
}

/**
 * Starts a monitor configured from the environment, for `-r`/`--import aiomonitor/register`.
 * It never throws and never stops the app: a bad setting or a taken port costs one line on stderr.
 */
export function startFromEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  // Workers inherit execArgv, so this runs again in every worker thread of the app: only the main thread monitors.
  if (!isMainThread) return;
  // The first preload of any copy of the package creates the guard; every later one finds it and does nothing.
  let first = false;
  processWide('preloaded', () => (first = true));
  if (!first) return;
  try {
    const fromEnv = optionsFromEnv(env);
    notePrimaryOptions(fromEnv);
    const options = forClusterWorker(fromEnv, clusterWorkerId());
    startInBackground(options).ready.catch((error: Error) => warn(error.message));
  } catch (error) {
    warn((error as Error).message);
  }
}
