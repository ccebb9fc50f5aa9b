#!/usr/bin/env node
import { main } from '../src/client/main';

// A reader that stops early (`aiomon 1234 ps --json | head -c 100`) ends aiomon quietly, as it does `cat`.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (error: unknown) => {
  // Not a failure main() knows how to say: a bug, whose stack is worth reporting.
  process.stderr.write(`aiomon: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
