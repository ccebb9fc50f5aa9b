import type { Worker } from 'node:worker_threads';
import { processWide } from './process-wide';

// Node lists no worker threads among its handles, but announces each new one on `process`.
const workers: Set<Worker> = processWide('appWorkers', () => {
  const seen = new Set<Worker>();
  process.on('worker', (worker: Worker) => {
    seen.add(worker);
    worker.once('exit', () => seen.delete(worker));
  });
  return seen;
});

/** The app's worker threads started since the first monitor of the process, for ps. */
export function appWorkers(): ReadonlySet<Worker> {
  return workers;
}
