import fs from 'node:fs';
import path from 'node:path';
import { describeEndpoint } from '../shared/config';
import { parseClientArgs, USAGE, type Target } from './args';
import { AttachError, attachToPid } from './attach';
import { ConnectionError, TokenRequiredError } from './connection';
import { runConsole } from './console';
import { historyPath } from './history';
import { runInteractive, runPiped, type Terminal } from './interactive';
import { runList } from './list';
import { runOneShot } from './oneshot';
import { askToken, envToken, openTarget, resolveTarget, TargetError, type Resolved } from './target';

/** The version of this package, from its package.json (three levels above dist/src/client/). */
function packageVersion(): string {
  const file = path.join(__dirname, '..', '..', '..', 'package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

const TERMINAL: Terminal = { input: process.stdin, output: process.stdout, errors: process.stderr };

/** Opens the prompt of `resolved` and runs what was asked there: the interactive prompt, a piped script, or one command. */
async function atPrompt(resolved: Resolved, line: string | undefined): Promise<number> {
  const connection = await openTarget(resolved);
  if (line !== undefined) {
    try {
      return await runOneShot(connection, line, process.stdout);
    } finally {
      connection.close();
    }
  }
  if (process.stdin.isTTY && process.stdout.isTTY) return runInteractive(connection, TERMINAL, historyPath('history'));
  return runPiped(connection, process.stdin, process.stdout, process.stderr);
}

/** Opens the console of `resolved`: its own endpoint when a record names it, else through the prompt's `console` command. */
function atConsole(target: Target, resolved: Resolved): Promise<number> {
  if (resolved.console === null) throw new TargetError(`the console of process ${target.kind === 'pid' ? target.pid : ''} is off (CONSOLE_ENABLED=0); its prompt is: aiomon ${target.kind === 'pid' ? target.pid : describeEndpoint(resolved.monitor)}`);
  const viaPrompt = resolved.console === undefined;
  const endpoint = resolved.console ?? resolved.monitor;
  const missing = new TokenRequiredError(`the console at ${describeEndpoint(endpoint)} asks for a token: set MONITOR_TOKEN, or type it when asked`);
  return runConsole({ endpoint, viaPrompt, token: envToken(), askToken: () => askToken(missing) }, TERMINAL, historyPath('console-history'));
}

/** Does what aiomon's argv asks; resolves with the exit code. Every failure is one line on stderr. */
export async function main(argv: string[]): Promise<number> {
  const parsed = parseClientArgs(argv);
  try {
    switch (parsed.kind) {
      case 'help':
        process.stdout.write(USAGE);
        return 0;
      case 'version':
        process.stdout.write(`${packageVersion()}\n`);
        return 0;
      case 'error':
        process.stderr.write(`${parsed.message}\n${parsed.showUsage ? `\n${USAGE}` : ''}`);
        return parsed.exitCode;
      case 'list':
        return await runList({ json: parsed.json, token: envToken() }, process.stdout);
      case 'attach': {
        // The blocked stack, when there is one, goes with the error on stderr.
        const log = (line: string): void => { process.stderr.write(`${line}\n`); };
        const attached = await attachToPid(parsed.pid, parsed.port === undefined ? { log } : { port: parsed.port, log });
        return await atPrompt({ monitor: attached.endpoint, tokenRequired: attached.tokenRequired }, undefined);
      }
      case 'prompt':
        return await atPrompt(resolveTarget(parsed.target), undefined);
      case 'command':
        return await atPrompt(resolveTarget(parsed.target), parsed.line);
      case 'console':
        return await atConsole(parsed.target, resolveTarget(parsed.target));
    }
  } catch (error) {
    if (error instanceof TargetError || error instanceof ConnectionError || error instanceof AttachError) {
      process.stderr.write(`aiomon: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
