import type { CustomCommandSpec } from '../main/command-definition';
import type { MainThread } from '../worker/main-thread';
import { command, type Command, type CommandInput, UsageError } from './types';

// A handler may never settle: Ctrl-C gives the prompt back, though the handler goes on running on the main thread.
function untilInterrupted<T>(result: Promise<T>, interrupted: AbortSignal, name: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onInterrupt = (): void => {
      reject(new UsageError(`stopped waiting for ${name}; its handler may still be running in the app`));
    };
    interrupted.addEventListener('abort', onInterrupt, { once: true });
    result.then(resolve, reject).finally(() => interrupted.removeEventListener('abort', onInterrupt));
  });
}

function toCommand(spec: CustomCommandSpec): Command {
  return command({
    ...spec,
    options: { ...spec.options, json: { type: 'boolean', description: 'print the result as one line of JSON' } },
    async run(ctx, { args, flags }) {
      const { json, help: _help, ...own } = flags;
      const input: CommandInput = { args, flags: own };
      const text = await untilInterrupted(ctx.main.call<string | null>('command', spec.name, input, json === true), ctx.interrupted, spec.name);
      // A handler's text usually ends without a line break; one that has it should not get a blank line.
      if (text !== null && text !== '') ctx.print(text.replace(/\r?\n$/, ''));
    },
  });
}

/**
 * The commands the app defined with defineCommand, read from the main thread. The read goes through the
 * inspector, so it answers while the app's event loop is blocked.
 */
export async function customCommands(main: MainThread): Promise<Command[]> {
  const specs = await main.query<CustomCommandSpec[] | undefined>('commands?.() ?? []');
  return (specs ?? []).map(toCommand);
}
