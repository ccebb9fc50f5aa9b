import type { InspectHook } from './inspect-hook';

/** Ends one task on the main thread, asked by `by` (who is named in the history of finished tasks), and says how it went, with ✓ or ✗, in one line. */
export function cancelTask(hook: InspectHook, id: number, by: string): string | Promise<string> {
  const found = hook.find(id);
  if (!found) return `✗ no task ${id}: it has ended or never existed; run ps to see the current IDs`;
  const { object, row, live } = found;
  if (live) return live.cancel(by);
  const handle = object as Record<string, any>;
  const what = `${row.type} ${id} (${row.summary})`;
  switch (row.type) {
    case 'timeout':
    case 'interval':
      clearTimeout(handle as NodeJS.Timeout);
      return `✓ cleared ${what}`;
    case 'immediate':
      clearImmediate(handle as NodeJS.Immediate);
      return `✓ cleared ${what}`;
    case 'server':
      handle.close();
      handle.closeAllConnections?.();
      return `✓ closed ${what}`;
    case 'socket':
    case 'udp':
      handle.destroy?.() ?? handle.close?.();
      return `✓ closed ${what}`;
    case 'child':
      return handle.kill() ? `✓ sent SIGTERM to ${what}` : `✗ could not signal ${what}: it has already exited`;
    case 'worker':
      void handle.terminate();
      return `✓ terminating ${what}`;
    case 'stdio':
      return `✗ ${what} is the process's own standard stream; closing it would break the app's output`;
    default:
      return `✗ ${what} cannot be cancelled: Node offers no way to abort a pending ${row.summary.split(' ')[0]}`;
  }
}
