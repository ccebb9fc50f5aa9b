import type { CancelOutcome } from '../shared/rows';
import type { Cancelled } from './registry';
import type { Found } from './tasks';

type Handle = Record<string, any>;

// What cancelling a handle of `type` does, and says; live tasks (named tasks, requests) cancel themselves.
function cancelHandle(handle: Handle, type: string, what: string, summary: string): Cancelled {
  switch (type) {
    case 'timeout':
    case 'interval':
      clearTimeout(handle as NodeJS.Timeout);
      return { ok: true, message: `cleared ${what}` };
    case 'immediate':
      clearImmediate(handle as NodeJS.Immediate);
      return { ok: true, message: `cleared ${what}` };
    case 'server':
      handle.close();
      handle.closeAllConnections?.();
      return { ok: true, message: `closed ${what}` };
    case 'socket':
    case 'udp':
      handle.destroy?.() ?? handle.close?.();
      return { ok: true, message: `closed ${what}` };
    case 'child':
      return handle.kill() ? { ok: true, message: `sent SIGTERM to ${what}` } : { ok: false, message: `could not signal ${what}: it has already exited` };
    case 'worker':
      void handle.terminate();
      return { ok: true, message: `terminating ${what}` };
    case 'stdio':
      return { ok: false, message: `${what} is the process's own standard stream; closing it would break the app's output` };
    default:
      return { ok: false, message: `${what} cannot be cancelled: Node offers no way to abort a pending ${summary.split(' ')[0]}` };
  }
}

/** Ends one task on the main thread, asked by `by` (who is named in the history of finished tasks), and says how it went. */
export async function cancelTask(found: Found | undefined, id: number, by: string): Promise<CancelOutcome> {
  if (!found) return { id, ok: false, message: `no task ${id}: it has ended or never existed; run ps to see the current IDs`, task: null };
  const { object, row, live } = found;
  const task = { type: row.type, description: row.summary };
  const { ok, message } = live ? await live.cancel(by) : cancelHandle(object as Handle, row.type, `${row.type} ${id} (${row.summary})`, row.summary);
  return { id, ok, message, task };
}
