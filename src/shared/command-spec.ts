/** An option a command takes. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  alias?: string;
  /** The value's placeholder in usage, for string options. */
  value?: string;
  description: string;
}

/** What the user typed after the command name. */
export interface CommandInput {
  /** Positional arguments, as typed. */
  args: string[];
  /** Options by their long name. */
  flags: Record<string, string | boolean | undefined>;
}

/** A custom command's description with nothing left out, as plain data the monitor thread can read. */
export interface CustomCommandSpec {
  name: string;
  aliases: string[];
  /** One line for `help`. */
  description: string;
  /** Positional arguments; a name in brackets is optional, e.g. ['USER', '[LIMIT]']. */
  args: string[];
  options: Record<string, OptionSpec>;
}

/**
 * The names and aliases of the built-in commands, as plain data.
 * The main thread checks custom command names against this list when the app defines them; importing
 * the commands themselves there would load the monitor thread's code into the app.
 * A test keeps it equal to the names in COMMANDS.
 */
export const BUILTIN_NAMES: readonly string[] = [
  'help', '?', 'h',
  'ps', 'p',
  'where', 'w',
  'cancel', 'ca',
  'trace',
  'ps-terminated', 'pt', 'pst',
  'where-terminated', 'wt',
  'signal',
  'status',
  'stacktrace', 'st', 'stack',
  'blocks', 'b',
  'loop',
  'mem',
  'metrics',
  'profile',
  'heapsnapshot',
  'heapprofile',
  'console',
  'exit', 'q', 'quit',
];
