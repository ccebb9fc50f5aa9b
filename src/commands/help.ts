import { customCommands } from './custom';
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
  async run(ctx, { args: [name] }) {
    if (name) {
      const cmd = findCommand(ctx.commands, name) ?? findCommand(await customCommands(ctx.main), name);
      if (!cmd) throw new UsageError(`no command ${JSON.stringify(name)}; type help for the list`);
      ctx.print(describe(cmd));
      return;
    }
    ctx.print('Commands:');
    listCommands(ctx, ctx.commands);
    // The built-in commands need no main thread: list them even when the custom ones cannot be read.
    let custom: Command[];
    try {
      custom = await customCommands(ctx.main);
    } catch (error) {
      ctx.print(`\n✗ cannot list the app's custom commands: ${(error as Error).message}`);
      custom = [];
    }
    if (custom.length) {
      ctx.print('\nCustom commands of this app:');
      listCommands(ctx, custom);
    }
    ctx.print('\nType help CMD or CMD --help for its usage.');
  },
});
