import { inspect } from 'node:util';
import { createDebug } from '../shared/log';
import type { CommandInput, CustomCommandSpec } from '../shared/command-spec';
import type { CommandResult } from '../shared/rows';
import { checkDefinition, type CommandDefinition } from './command-definition';
import { registry } from './registry';

const debug = createDebug('aiomonitor:custom');

/** What a custom command's handler gets: the arguments typed, and a signal that aborts when the user stops waiting. */
export interface HandlerInput extends CommandInput {
  /** Aborts when the user presses Ctrl-C or leaves before the handler answers. */
  signal: AbortSignal;
}

/** A custom command's handler: runs on the app's main thread and returns text, a value to print, or nothing. */
export type CommandHandler = (input: HandlerInput) => unknown;

/** How a custom command is kept in the registry; every copy of the package in the process reads this shape. */
interface StoredCommand {
  spec: CustomCommandSpec;
  handler: CommandHandler;
}

function stored(): Map<string, StoredCommand> {
  return registry().commands as Map<string, StoredCommand>;
}

function takenBy(word: string, except: string): string | undefined {
  for (const { spec } of stored().values()) {
    if (spec.name !== except && (spec.name === word || spec.aliases.includes(word))) return spec.name;
  }
  return undefined;
}

/**
 * Adds a command to the prompt of every monitor in this process, those started later included.
 * The handler runs on the main thread; it may be async. Defining a name again replaces that command.
 * Returns a function that removes it. Throws a one-line TypeError when the definition is wrong.
 */
export function defineCommand(definition: CommandDefinition, handler: CommandHandler): () => void {
  const spec = checkDefinition(definition, handler);
  for (const word of [spec.name, ...spec.aliases]) {
    const owner = takenBy(word, spec.name);
    if (owner) throw new TypeError(`defineCommand: ${JSON.stringify(word)} is already taken by the custom command ${owner}; choose another name or remove that one first`);
  }
  const commands = stored();
  if (commands.has(spec.name)) debug('custom command %s is defined again; the new definition replaces the old', spec.name);
  const entry: StoredCommand = { spec, handler };
  commands.set(spec.name, entry);
  return () => {
    // A later definition of the same name is not this one's to remove.
    if (commands.get(spec.name) === entry) commands.delete(spec.name);
  };
}

/** The custom commands as plain data, for `help` and the monitor thread's command table. */
export function commandSpecs(): CustomCommandSpec[] {
  return [...stored().values()].map(({ spec }) => spec);
}

// Kept deep enough to show a typical status object whole, shallow enough that a huge graph stays readable.
const INSPECT_DEPTH = 6;

// JSON has no BigInt, Map or Set; writing them as a string, an object and an array keeps their content.
function jsonSafe(_key: string, item: unknown): unknown {
  if (typeof item === 'bigint') return item.toString();
  if (item instanceof Map) return Object.fromEntries(item);
  if (item instanceof Set) return [...item];
  return item;
}

function toJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value ?? null, jsonSafe);
  } catch (error) {
    throw new Error(`its result cannot be written as JSON (${(error as Error).message.split('\n')[0]}); run it without --json`);
  }
  // A function or symbol has no JSON form: the command printed nothing a script could use.
  return text ?? 'null';
}

/**
 * Runs a custom command's handler and returns what it gave: its text as is; any other value through
 * util.inspect, or as one line of JSON when `json`.
 */
export async function runCustomCommand(name: string, input: CommandInput, json: boolean, signal: AbortSignal): Promise<CommandResult> {
  const entry = stored().get(name);
  if (!entry) throw new Error('the app has removed this command; type help for the list');
  const value = await entry.handler({ ...input, signal });
  if (json) return { kind: 'value', text: toJson(value) };
  if (value === undefined || value === null) return { kind: 'nothing' };
  if (typeof value === 'string') return { kind: 'text', text: value };
  return { kind: 'value', text: inspect(value, { colors: false, depth: INSPECT_DEPTH, breakLength: 100 }) };
}
