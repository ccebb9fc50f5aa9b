import { processWide } from './process-wide';

/** Objects the monitor itself created (its thread, its channel, its timers), which ps must not show. */
export const ownObjects: WeakSet<object> = processWide('ownObjects', () => new WeakSet<object>());
