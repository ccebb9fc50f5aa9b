import type { MainThread } from '../worker/main-thread';
import type { Watchdog } from '../worker/watchdog';
import type { CommandInput, OptionSpec } from '../shared/command-spec';

export type { CommandInput, OptionSpec };

/** What a command can do in the session that runs it. */
export interface CommandContext {
  main: MainThread;
  /** The blocks of the event loop the monitor thread has seen. */
  watchdog: Watchdog;
  /** Prints text followed by a line break. */
  print(text?: string): void;
  /** Resolves once everything printed so far has been handed to the client's connection, or the client is gone. */
  written(): Promise<void>;
  /** Ends the session once the command returns. */
  exit(): void;
  /** Waits up to `ms` for the user to type a line (which it takes); true if they did or left. */
  waitForInput(ms: number): Promise<boolean>;
  /** Switches the session into the REPL console; resolves when the user leaves it. */
  openConsole(): Promise<void>;
  /** Every command, for help. */
  commands: readonly Command[];
  /** Who is typing, as the history of finished tasks names them: `monitor session from 127.0.0.1:52814`. */
  peer: string;
  /** Aborts when the user presses Ctrl-C, or leaves, while the command runs. */
  interrupted: AbortSignal;
}

/** A monitor command: one table entry with its help text. */
export interface Command {
  name: string;
  aliases: string[];
  /** One line for `help`. */
  description: string;
  /** Positional arguments; a name in brackets is optional, e.g. ['ID'] or ['[CMD]']. */
  args: string[];
  options: Record<string, OptionSpec>;
  /** The command whose --json output lists the IDs the ID argument takes (`ps` for `where ID`), for clients that complete them. */
  idsFrom?: string;
  run(ctx: CommandContext, input: CommandInput): void | Promise<void>;
}

/** A mistake of the user's, shown as one line; the session goes on. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Defines a command, filling in what it leaves out. */
export function command(spec: Partial<Command> & Pick<Command, 'name' | 'description' | 'run'>): Command {
  return { aliases: [], args: [], options: {}, ...spec };
}

/** Reads a task ID argument, or explains what an ID looks like. */
export function taskId(text: string | undefined): number {
  if (text === undefined || !/^\d{1,15}$/.test(text) || Number(text) === 0) {
    throw new UsageError(`${JSON.stringify(text ?? '')} is not a task ID; IDs are the numbers in the first column of ps`);
  }
  return Number(text);
}

/** Reads a --limit option: a number of rows from 1, or undefined when it was not given. */
export function rowLimit(command: string, text: string | boolean | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (typeof text !== 'string' || !/^\d{1,9}$/.test(text) || Number(text) === 0) {
    throw new UsageError(`${command}: --limit takes a number of rows from 1, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}
