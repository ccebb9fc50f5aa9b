import { DEFAULT_DEADLINES, type Deadlines } from '../shared/config';

/** How long this monitor thread waits for the main thread; set once, from the thread's setup, before anything waits. */
export const deadlines: Readonly<Deadlines> = { ...DEFAULT_DEADLINES };

/** Takes the deadlines the main thread chose (tests shorten them). */
export function useDeadlines(chosen: Deadlines): void {
  Object.assign(deadlines, chosen);
}
