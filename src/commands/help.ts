import { customCommands } from './custom';
import { JSON_OPTION, printJson } from './json';
import { command, type Command, type CommandContext, UsageError } from './types';

/** The usage line of a command, e.g. `ps [-f TEXT] [-a]`. */
export function usage(cmd: Command): string {
  const options = Object.entries(cmd.options).map(([name, spec]) => {
    const flag = spec.alias ? `-${spec.alias}` : `--${name}`;
    return `[${flag}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}]`;
  });
  return [cmd.name, ...options, ...cmd.args].join(' ');
}

/** The full help of one command. */
export function describe(cmd: Command): string {
  const lines = [`Usage: ${usage(cmd)}`, '', `  ${cmd.description}`];
  if (cmd.aliases.length) lines.push(`  Aliases: ${cmd.aliases.join(', ')}`);
  const options = Object.entries(cmd.options);
  if (options.length) {
    lines.push('', 'Options:');
    for (const [name, spec] of options) {
      const flags = [spec.alias && `-${spec.alias}`, `--${name}`].filter(Boolean).join(', ');
      lines.push(`  ${(flags + (spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : '')).padEnd(24)} ${spec.description}`);
    }
  }
  return lines.join('\n');
}

/** Finds a command by name or alias. */
export function findCommand(commands: readonly Command[], name: string): Command | undefined {
  const wanted = name.toLowerCase();
  return commands.find((cmd) => cmd.name === wanted || cmd.aliases.includes(wanted));
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] || 'no reason given';
}

/**
 * Finds a built-in command, or else one the app defined; throws a UsageError starting with `unknown` otherwise.
 * Only a name that is not built in costs a read of the main thread.
 */
export async function lookUpCommand(ctx: CommandContext, name: string, unknown: string): Promise<Command> {
  const builtIn = findCommand(ctx.commands, name);
  if (builtIn) return builtIn;
  let custom: Command[];
  try {
    custom = await customCommands(ctx.main);
  } catch (error) {
    throw new UsageError(`${unknown}: not built in, and the app's custom commands cannot be read now (${firstLine(error)}); type help for the list`);
  }
  const found = findCommand(custom, name);
  if (!found) throw new UsageError(`${unknown}; type help for the list`);
  return found;
}

/** A command as `help --json` describes it, for clients that complete command lines (aiomon). */
function commandJson(cmd: Command, custom: boolean): Record<string, unknown> {
  const options = Object.entries(cmd.options).map(([name, spec]) => ({ name, alias: spec.alias ?? null, takesValue: spec.type === 'string' }));
  return { name: cmd.name, aliases: cmd.aliases, options, args: cmd.args, idsFrom: cmd.idsFrom ?? null, description: cmd.description, custom };
}

function listCommands(ctx: CommandContext, commands: readonly Command[]): void {
  for (const cmd of commands) {
    const names = [cmd.name, ...cmd.aliases].join(', ');
    ctx.print(`  ${names.padEnd(24)} ${cmd.description}`);
  }
}

/** `help` and `help CMD`. */
export const help = command({
  name: 'help',
  aliases: ['?', 'h'],
  description: 'List the commands, or show how to use one',
  args: ['[CMD]'],
  options: { json: JSON_OPTION },
  async run(ctx, { args: [name], flags }) {
    if (flags.json) {
      if (name) {
        const cmd = await lookUpCommand(ctx, name, `no command ${JSON.stringify(name)}`);
        return printJson(ctx, 'help', { commands: [commandJson(cmd, !ctx.commands.includes(cmd))], customUnreadable: null });
      }
      // The built-in commands are listed even when the custom ones cannot be read, as in the text form.
      let custom: Command[] = [];
      let unreadable: string | null = null;
      try {
        custom = await customCommands(ctx.main);
      } catch (error) {
        unreadable = firstLine(error);
      }
      const commands = [...ctx.commands.map((cmd) => commandJson(cmd, false)), ...custom.map((cmd) => commandJson(cmd, true))];
      return printJson(ctx, 'help', { commands, customUnreadable: unreadable });
    }
    if (name) {
      ctx.print(describe(await lookUpCommand(ctx, name, `no command ${JSON.stringify(name)}`)));
      return;
    }
    ctx.print('Commands:');
    listCommands(ctx, ctx.commands);
    // The built-in commands need no main thread: list them even when the custom ones cannot be read.
    let custom: Command[] = [];
    let unreadable: unknown;
    try {
      custom = await customCommands(ctx.main);
    } catch (error) {
      unreadable = error;
    }
    if (custom.length) {
      ctx.print('\nCustom commands of this app:');
      listCommands(ctx, custom);
    }
    ctx.print('\nType help CMD or CMD --help for its usage.');
    if (unreadable) ctx.print(`✗ the app's custom commands cannot be listed now: ${firstLine(unreadable)}`);
  },
});
