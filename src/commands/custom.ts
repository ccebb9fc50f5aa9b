import type { CustomCommandSpec } from '../shared/command-spec';
import type { CommandResult } from '../shared/rows';
import { CallAbortedError, type MainThread } from '../worker/main-thread';
import { command, type Command, type CommandInput, UsageError } from './types';

function toCommand(spec: CustomCommandSpec): Command {
  return command({
    ...spec,
    options: { ...spec.options, json: { type: 'boolean', description: 'print the result as one line of JSON' } },
    async run(ctx, { args, flags }) {
      const { json, help: _help, ...own } = flags;
      const input: CommandInput = { args, flags: own };
      let result: CommandResult;
      try {
        result = await ctx.main.callUntil(ctx.interrupted, 'command', spec.name, input, json === true);
      } catch (error) {
        // A handler may never settle: Ctrl-C gives the prompt back and aborts the handler's signal.
        if (error instanceof CallAbortedError) throw new UsageError(`stopped waiting for ${spec.name}; its handler's signal is aborted, so it stops if it watches it`);
        throw error;
      }
      // A handler's text usually ends without a line break; one that has it should not get a blank line.
      if (result.kind !== 'nothing' && result.text !== '') ctx.print(result.text.replace(/\r?\n$/, ''));
    },
  });
}

/**
 * The commands the app defined with defineCommand, read from the main thread. The read goes through the
 * inspector, so it answers while the app's event loop is blocked.
 */
export async function customCommands(main: MainThread): Promise<Command[]> {
  const specs = await main.read('commands');
  return (specs ?? []).map(toCommand);
}
