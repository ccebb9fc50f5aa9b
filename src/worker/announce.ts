import fs from 'node:fs';
import { createDebug } from '../shared/log';
import type { Endpoint } from '../shared/config';
import type { RecordPlan, WorkerSetup } from '../shared/contract';
import { writeRecord } from '../shared/discovery';
import { movedLine } from '../protocol/listen';
import { printable } from '../shared/text';

const debug = createDebug('aiomonitor:worker');

// Straight to fd 2: this thread's process.stderr goes through the main thread, whose loop may be blocked.
function say(line: string): void {
  try {
    fs.writeSync(2, `${line}\n`);
  } catch (error) {
    debug('cannot write to stderr: %s', (error as Error).message);
  }
}

function writeOwnRecord(plan: RecordPlan, monitor: Endpoint): string | null {
  try {
    return writeRecord({ ...plan.record, monitor }, plan.dir);
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0] ?? String(error);
    say(`aiomonitor: cannot write the record aiomon finds monitors by (${printable(reason)}); the monitor runs on, but aiomon ls will not list it`);
    return null;
  }
}

/**
 * Once the command prompt listens: says in one line where it went if a default port was taken, and writes the
 * process's record for aiomon. Returns the record's file, or null. Never throws.
 */
export function announce(setup: WorkerSetup, monitor: Endpoint): string | null {
  const moved = movedLine(setup.monitor, monitor, setup.consoleWanted, setup.console);
  if (moved) say(moved);
  return setup.record ? writeOwnRecord(setup.record, monitor) : null;
}
