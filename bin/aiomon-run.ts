#!/usr/bin/env node
import path from 'node:path';
import { parseRunArgs, USAGE } from '../src/wrapper/args';
import { packageVersion, runScript } from '../src/wrapper/run';

// Compiled to dist/bin/, so the preload compiled from register.ts sits one level up.
const registerPath = path.join(__dirname, '..', 'register.js');
const parsed = parseRunArgs(process.argv.slice(2), process.env);

switch (parsed.kind) {
  case 'help':
    process.stdout.write(USAGE);
    break;
  case 'version':
    process.stdout.write(`${packageVersion()}\n`);
    break;
  case 'error':
    process.stderr.write(`${parsed.message}\n${parsed.showUsage ? `\n${USAGE}` : ''}`);
    process.exitCode = parsed.exitCode;
    break;
  case 'run':
    runScript({ script: parsed.script, args: parsed.args, env: parsed.env, registerPath });
    break;
}
