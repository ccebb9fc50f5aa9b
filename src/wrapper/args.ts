import yargsParser from 'yargs-parser';
import { CONSOLE_PORT, MONITOR_HOST, MONITOR_PORT } from '../shared/config';

/** Shown by `aiomon-run --help` and after a missing script, so it lists every wrapper flag. */
export const USAGE = `Usage: aiomon-run [options] [--] script [args...]

Runs a Node.js script (.js, .cjs or .mjs) with the aiomonitor preloaded.
Everything after the script path is passed to the script unchanged.

Options:
  --host <address>      address the monitor binds, default ${MONITOR_HOST} (sets MONITOR_HOST)
  --port <port>         command prompt port, default ${MONITOR_PORT}, 0 picks a free one (sets MONITOR_PORT)
  --console-port <port> REPL console port, default ${CONSOLE_PORT}, 0 picks a free one (sets CONSOLE_PORT)
  --no-console          do not start the REPL console (sets CONSOLE_ENABLED=0)
  --trace               record where tasks are created, for where's creation chains; costs
                        throughput (sets MONITOR_TRACE=1)
  --path <file>         command prompt on a Unix socket file instead of TCP (sets MONITOR_PATH)
  --console-path <file> console on a Unix socket file instead of TCP (sets CONSOLE_PATH)
  --token <secret>      every session must send this first (sets MONITOR_TOKEN; other users
                        can read command lines, so prefer setting MONITOR_TOKEN yourself)
  -h, --help            print this help and exit
  --version             print the aiomonitor version and exit

Connect with: nc ${MONITOR_HOST} ${MONITOR_PORT}   (or telnet)
`;

/** What the command line asks for; the bin acts on it, so parsing stays free of I/O. */
export type ParsedRun =
  | { kind: 'run'; script: string; args: string[]; env: NodeJS.ProcessEnv }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'error'; message: string; exitCode: number; showUsage?: boolean };

const PORT_FLAGS = { port: 'MONITOR_PORT', 'console-port': 'CONSOLE_PORT' } as const;
const TEXT_FLAGS = { host: 'MONITOR_HOST', path: 'MONITOR_PATH', 'console-path': 'CONSOLE_PATH', token: 'MONITOR_TOKEN' } as const;
const KNOWN = new Set(['_', ...Object.keys(PORT_FLAGS), ...Object.keys(TEXT_FLAGS), 'no-console', 'trace', 'help', 'version']);

const PARSER_OPTIONS: yargsParser.Options = {
  string: [...Object.keys(PORT_FLAGS), ...Object.keys(TEXT_FLAGS)],
  boolean: ['no-console', 'trace', 'help', 'version'],
  alias: { help: ['h'] },
  configuration: {
    // The first positional is the script: everything from there on belongs to it.
    'halt-at-non-option': true,
    // `--no-console` is a flag of its own, so `--console` stays an unknown option.
    'boolean-negation': false,
    'camel-case-expansion': false,
    'dot-notation': false,
    'duplicate-arguments-array': false,
    'parse-numbers': false,
    // Script arguments must reach the script as the exact strings typed.
    'parse-positional-numbers': false,
    'short-option-groups': false,
    'strip-aliased': true,
  },
};

function error(message: string, showUsage = false): ParsedRun {
  return { kind: 'error', message: `aiomon-run: ${message}`, exitCode: 2, ...(showUsage && { showUsage }) };
}

/** Finds the token the user typed for an unknown key, so the message quotes it as written. */
function typedFlag(argv: string[], key: string): string {
  const token = argv.find((arg) => /^--?/.test(arg) && arg.replace(/^--?/, '').split('=')[0] === key);
  return token?.split('=')[0] ?? `--${key}`;
}

/** Normalises to plain digits ("08" -> "8") because the monitor accepts at most five digits. */
function checkPort(raw: string): string | undefined {
  return /^\d+$/.test(raw) && Number(raw) <= 65535 ? String(Number(raw)) : undefined;
}

/** Turns the wrapper's argv (without node and the bin path) into what to run; `env` is the environment to extend. */
export function parseRunArgs(argv: string[], env: NodeJS.ProcessEnv): ParsedRun {
  const parsed = yargsParser(argv, PARSER_OPTIONS);
  if (parsed.help) return { kind: 'help' };
  if (parsed.version) return { kind: 'version' };

  const unknown = Object.keys(parsed).find((key) => !KNOWN.has(key));
  if (unknown !== undefined) {
    return error(`unknown option ${typedFlag(argv, unknown)}; see aiomon-run --help (Node.js flags go in NODE_OPTIONS)`);
  }

  const childEnv: NodeJS.ProcessEnv = { ...env };
  for (const [flag, variable] of Object.entries(TEXT_FLAGS)) {
    if (parsed[flag] === undefined) continue;
    const value = String(parsed[flag]);
    if (value.trim() === '') return error(`--${flag} needs a value, got ""`);
    childEnv[variable] = flag === 'token' ? value : value.trim();
  }
  for (const [flag, variable] of Object.entries(PORT_FLAGS)) {
    if (parsed[flag] === undefined) continue;
    const raw = String(parsed[flag]);
    const port = checkPort(raw);
    if (port === undefined) return error(`--${flag} must be a port number from 0 to 65535, got ${JSON.stringify(raw)}`);
    childEnv[variable] = port;
  }
  if (parsed['no-console']) childEnv.CONSOLE_ENABLED = '0';
  if (parsed.trace) childEnv.MONITOR_TRACE = '1';

  const [script, ...args] = parsed._.map(String);
  if (script === undefined || script === '') {
    return error('missing the script to run', true);
  }
  return { kind: 'run', script, args, env: childEnv };
}
