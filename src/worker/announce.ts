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

function writeOwnRecord(plan: RecordPlan, monitor: Endpoint, web: Endpoint | null): string | null {
  try {
    return writeRecord({ ...plan.record, monitor, web }, plan.dir);
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0] ?? String(error);
    say(`aiomonitor: cannot write the record aiomon finds monitors by (${printable(reason)}); the monitor runs on, but aiomon ls will not list it`);
    return null;
  }
}

/**
 * Once the command prompt and the web page listen: says in one line where they went if a default port was taken,
 * and writes the process's record for aiomon. Returns the record's file, or null. Never throws.
 */
export function announce(setup: WorkerSetup, monitor: Endpoint, web: Endpoint | null): string | null {
  const moved = movedLine(
    { name: 'prompt', wanted: setup.monitor, actual: monitor },
    { name: 'console', wanted: setup.consoleWanted, actual: setup.console },
    { name: 'web page', wanted: setup.web?.endpoint ?? null, actual: web },
  );
  if (moved) say(moved);
  return setup.record ? writeOwnRecord(setup.record, monitor, web) : null;
}
