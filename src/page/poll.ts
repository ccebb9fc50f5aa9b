/** Reading a route again and again, one request at a time, while its part of the page is shown. */
import { failure } from './api';
import { note } from './dom';

/** A running poll: `now()` reads at once (or right after the read in flight). */
export interface Poll {
  now(): void;
}

/**
 * Runs `read` every `everyMs` after the previous read has settled, so that a slow answer (a blocked main thread)
 * never piles requests up, and only while `active()` says its part of the page is visible.
 */
export function poll(everyMs: number, read: () => Promise<void>, active: () => boolean = () => true): Poll {
  let timer: number | undefined;
  let running = false;
  let again = false;
  const tick = async (): Promise<void> => {
    timer = undefined;
    if (running) {
      again = true;
      return;
    }
    if (active() && !document.hidden) {
      running = true;
      try {
        await read();
      } catch {
        // Each read shows its own failures; a poll goes on regardless.
      }
      running = false;
    }
    const wait = again ? 0 : everyMs;
    again = false;
    timer = window.setTimeout(() => void tick(), wait);
  };
  void tick();
  return {
    now() {
      if (running) {
        again = true;
        return;
      }
      if (timer !== undefined) window.clearTimeout(timer);
      void tick();
    },
  };
}

/**
 * Polls a filtered listing (ps, ps-terminated): `read` every `everyMs` while shown, and again once the user has
 * stopped typing in `filter` for 250 ms. A failed read leaves the list shown before, with the failure in `trouble`.
 */
export function pollListing<T>(everyMs: number, read: (filter: string) => Promise<T>, show: (doc: T) => void, trouble: HTMLElement, filter: HTMLInputElement, active: () => boolean): Poll {
  let shown = false;
  const reads = poll(everyMs, async () => {
    let doc: T;
    try {
      doc = await read(filter.value.trim());
      note(trouble, '');
    } catch (error) {
      const { text, kind } = failure(error);
      note(trouble, shown ? `${text}; the list is from before` : text, kind);
      return;
    }
    shown = true;
    show(doc);
  }, active);
  let typing: number | undefined;
  filter.addEventListener('input', () => {
    window.clearTimeout(typing);
    typing = window.setTimeout(() => reads.now(), 250);
  });
  return reads;
}
