import type { CommandContext, OptionSpec } from './types';

/** The version of every JSON document the monitor prints; it changes only when a field changes meaning or goes away. */
const JSON_VERSION = 1;

/** The --json option of listing commands. */
export const JSON_OPTION: OptionSpec = { type: 'boolean', description: 'print one JSON document on one line instead (schema in the README)' };

/** Prints one JSON document on one line: `{"command": …, "version": 1, …body}`. */
export function printJson(ctx: CommandContext, command: string, body: Record<string, unknown>): void {
  ctx.print(JSON.stringify({ command, version: JSON_VERSION, ...body }));
}

/** A moment as JSON documents carry it: an ISO 8601 string in UTC. */
export function isoTime(at: number): string {
  return new Date(at).toISOString();
}
