import { setTimeout as sleep } from 'node:timers/promises';
import { sharedNow } from '../shared/contract';
import { readVitals, vitalsSequence, wantedView, type Vitals } from '../shared/vitals';

/** How long the main thread keeps publishing after the last `metrics`: a scrape every minute keeps it going. */
export const WANT_MS = 60_000;
const POLL_MS = 20;

/** The monitor thread's side of the figures the main thread publishes for `metrics` (see shared/vitals.ts). */
export interface VitalsReader {
  /** Asks the main thread to publish for the next WANT_MS. */
  want(): void;
  /** The last publication, or null before the first. */
  latest(): Vitals | null;
  /** Waits up to `ms` for a publication newer than the latest one; gives up early once `stop()` is true. Resolves with the latest, new or not. */
  next(ms: number, stop: () => boolean): Promise<Vitals | null>;
}

/** Reads the publications of the main thread from `buffer`, parsing each once. */
export function readVitalsFrom(buffer: SharedArrayBuffer): VitalsReader {
  const wanted = wantedView(buffer);
  let kept: { sequence: number; vitals: Vitals } | null = null;

  const latest = (): Vitals | null => {
    if (kept && vitalsSequence(buffer) === kept.sequence) return kept.vitals;
    const read = readVitals(buffer);
    if (!read) return kept?.vitals ?? null;
    try {
      kept = { sequence: read.sequence, vitals: JSON.parse(read.json) as Vitals };
    } catch {
      // A publication is written whole or not read: a text that does not parse is a bug, and the last one stays.
    }
    return kept?.vitals ?? null;
  };

  return {
    want() {
      wanted[0] = sharedNow() + WANT_MS;
    },
    latest,
    async next(ms, stop) {
      const since = latest()?.at ?? 0;
      const until = sharedNow() + ms;
      while (sharedNow() < until && !stop()) {
        const now = latest();
        if (now && now.at > since) return now;
        await sleep(POLL_MS);
      }
      return latest();
    },
  };
}
