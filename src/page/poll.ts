/** Reading a route again and again, one request at a time, while its part of the page is shown. */

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
