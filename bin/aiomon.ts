#!/usr/bin/env node
import { main } from '../src/client/main';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (error: unknown) => {
  // Not a failure main() knows how to say: a bug, whose stack is worth reporting.
  process.stderr.write(`aiomon: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
