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
    if (key !== 'help' && !Object.hasOwn(cmd.options, key)) {
      throw new UsageError(`${cmd.name}: unknown option ${key.length === 1 ? '-' : '--'}${key}; usage: ${usage(cmd)}`);
    }
    if (cmd.options[key]?.type === 'string' && value === '') throw new UsageError(`${cmd.name}: --${key} needs a value; usage: ${usage(cmd)}`);
    flags[key] = value as string | boolean;
  }
  const args = parsed._.map(String);
  if (flags.help) return { args, flags };
  const required = cmd.args.filter((arg) => !arg.startsWith('['));
  if (args.length < required.length) throw new UsageError(`${cmd.name}: missing ${required[args.length]}; usage: ${usage(cmd)}`);
  if (args.length > cmd.args.length) throw new UsageError(`${cmd.name}: too many arguments; usage: ${usage(cmd)}`);
  return { args, flags };
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
    // Messages may quote what the client typed, escape bytes included: printable keeps them from driving the terminal.
    if (error instanceof UsageError) ctx.print(`✗ ${printable(error.message)}`);
    else if (error instanceof ReadBudgetError) ctx.print(`✗ ${printable(error.message)}`);
    else if (error instanceof MainThreadBusyError) ctx.print(`✗ ${printable(error.message)}; stacktrace shows what it is doing`);
    else {
      debug('%s failed: %O', name, error);
      ctx.print(`✗ ${printable(cmd?.name ?? name)} failed: ${printable(error instanceof Error ? error.message.split('\n')[0] : String(error))}`);
    }
  }
}
