import parse from 'yargs-parser';
import { createDebug } from '../shared/log';
import { MainThreadBusyError } from '../worker/inspector';
import { ReadBudgetError } from '../worker/reads';
import { printable } from '../shared/text';
import { describe, lookUpCommand, usage } from './help';
import { type Command, type CommandContext, type CommandInput, UsageError } from './types';

const debug = createDebug('aiomonitor:commands');

function parserOptions(cmd: Command): parse.Options {
  const names = (type: string): string[] => Object.entries(cmd.options).filter(([, spec]) => spec.type === type).map(([name]) => name);
  const alias: Record<string, string> = { help: 'h' };
  for (const [name, spec] of Object.entries(cmd.options)) if (spec.alias) alias[name] = spec.alias;
  return {
    string: names('string'),
    boolean: [...names('boolean'), 'help'],
    alias,
    configuration: {
      'camel-case-expansion': false,
      'dot-notation': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'duplicate-arguments-array': false,
      'strip-aliased': true,
    },
  };
}

function parseArguments(cmd: Command, rest: string): parse.Arguments {
  const unreadable = new UsageError(`${cmd.name}: cannot read these arguments; usage: ${usage(cmd)}`);
  let parsed: parse.Arguments;
  try {
    // yargs-parser splits on spaces only; a tab separates arguments too.
    parsed = parse(rest.replace(/\t/g, ' '), parserOptions(cmd));
  } catch {
    throw unreadable;
  }
  // An option named `_` collides with yargs-parser's own list of arguments.
  if (!Array.isArray(parsed._)) throw unreadable;
  return parsed;
}

function readInput(cmd: Command, rest: string): CommandInput {
  const parsed = parseArguments(cmd, rest);
  const flags: CommandInput['flags'] = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (key === '_' || key === '--') continue;
    flags[key] = value as string | boolean;
  }
  return checkInput(cmd, { args: parsed._.map(String), flags });
}

/** Checks options and arguments against the command's spec, as for a typed line; throws a UsageError. */
export function checkInput(cmd: Command, input: CommandInput): CommandInput {
  const { args, flags } = input;
  for (const [key, value] of Object.entries(flags)) {
    if (key !== 'help' && !Object.hasOwn(cmd.options, key)) {
      throw new UsageError(`${cmd.name}: unknown option ${key.length === 1 ? '-' : '--'}${key}; usage: ${usage(cmd)}`);
    }
    if (cmd.options[key]?.type === 'string' && value === '') throw new UsageError(`${cmd.name}: --${key} needs a value; usage: ${usage(cmd)}`);
  }
  if (flags.help) return input;
  const required = cmd.args.filter((arg) => !arg.startsWith('['));
  if (args.length < required.length) throw new UsageError(`${cmd.name}: missing ${required[args.length]}; usage: ${usage(cmd)}`);
  if (args.length > cmd.args.length) throw new UsageError(`${cmd.name}: too many arguments; usage: ${usage(cmd)}`);
  return input;
}

/** A failure as the user reads it: one printable line, and whose it was (the user's, the main thread's, the monitor's). */
export interface Failure {
  kind: 'usage' | 'busy' | 'failed';
  message: string;
}

/** How a command's failure reads; a message may quote what the client typed, so escape bytes are made printable. */
export function describeFailure(error: unknown, name: string): Failure {
  if (error instanceof UsageError) return { kind: 'usage', message: printable(error.message) };
  if (error instanceof ReadBudgetError) return { kind: 'busy', message: printable(error.message) };
  if (error instanceof MainThreadBusyError) return { kind: 'busy', message: `${printable(error.message)}; stacktrace shows what it is doing` };
  debug('%s failed: %O', name, error);
  return { kind: 'failed', message: `${printable(name)} failed: ${printable(error instanceof Error ? error.message.split('\n')[0] : String(error))}` };
}

/** Runs one line typed at the prompt; every failure becomes one line of output, never a stack trace. */
export async function runLine(line: string, ctx: CommandContext): Promise<void> {
  const text = line.trim();
  if (!text) return;
  const [name] = text.split(/\s+/, 1);
  let cmd: Command | undefined;
  try {
    cmd = await lookUpCommand(ctx, name, `unknown command ${JSON.stringify(name.slice(0, 40))}`);
    const input = readInput(cmd, text.slice(name.length).trim());
    if (input.flags.help) ctx.print(describe(cmd));
    else await cmd.run(ctx, input);
  } catch (error) {
    ctx.print(`✗ ${describeFailure(error, cmd?.name ?? name).message}`);
  }
}
