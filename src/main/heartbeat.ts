import { sharedNow } from '../protocol/threads';
import { ownObjects } from './tasks';

/** How often the main thread proves its event loop turns. */
export const HEARTBEAT_MS = 50;

/**
 * Writes the time into shared memory on every turn of an unref'd interval, so the monitor thread
 * can tell how long the loop has been stuck without asking it. Returns a function that stops it.
 */
export function startHeartbeat(buffer: SharedArrayBuffer): () => void {
  const beat = new Float64Array(buffer);
  beat[0] = sharedNow();
  const timer = setInterval(function aiomonitorHeartbeat() {
    beat[0] = sharedNow();
  }, HEARTBEAT_MS);
  timer.unref();
  ownObjects.add(timer);
  return () => clearInterval(timer);
}
