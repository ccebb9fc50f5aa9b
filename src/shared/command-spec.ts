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
  'stacktrace', 'st', 'stack',
  'blocks', 'b',
  'loop',
  'mem',
  'profile',
  'heapsnapshot',
  'console',
  'exit', 'q', 'quit',
];
