import { command } from './types';

/** `console`: the REPL on the main thread, inside this session. */
export const consoleCommand = command({
  name: 'console',
  description: "Open a REPL on the app's main thread (.exit or Ctrl-D comes back here)",
  run: (ctx) => ctx.openConsole(),
});

/** `exit`: ends the session. */
export const exit = command({
  name: 'exit',
  aliases: ['q', 'quit'],
  description: 'End this session (the app goes on)',
  run: (ctx) => ctx.exit(),
});
