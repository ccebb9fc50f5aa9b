import yargsParser from 'yargs-parser';
import { LITERAL_ARGS } from '../shared/literal-args';
import { checkEnvSettings, ConfigError, CONSOLE_PORT, MONITOR_HOST, MONITOR_PORT, WEB_PORT } from '../shared/config';

/** One wrapper flag: everything the usage, the parser and the environment handed to the script need to know. */
interface Flag {
  name: string;
  alias?: string;
  /** The variable the flag sets; a flag without `value` passes what follows it. */
  sets?: string;
  /** The value a switch gives `sets`. */
  value?: string;
  /** Shown after the flag in the usage; present exactly for flags that take a value. */
  placeholder?: string;
  /** The usage's description; a `\n` continues it on the next line. */
  help: string;
  /** Said inside the usage's "(sets ...)" after the variable. */
  note?: string;
}

// The order is the usage's order; line breaks in help texts keep the usage's lines short.
const FLAGS: readonly Flag[] = [
  { name: 'host', sets: 'MONITOR_HOST', placeholder: '<address>', help: `address the monitor binds, default ${MONITOR_HOST}` },
  { name: 'port', sets: 'MONITOR_PORT', placeholder: '<port>', help: `command prompt port, default ${MONITOR_PORT}, 0 picks a free one` },
  { name: 'console-port', sets: 'CONSOLE_PORT', placeholder: '<port>', help: `REPL console port, default ${CONSOLE_PORT}, 0 picks a free one` },
  { name: 'no-console', sets: 'CONSOLE_ENABLED', value: '0', help: 'do not start the REPL console' },
  { name: 'web-port', sets: 'MONITOR_WEB_PORT', placeholder: '<port>', help: `web page and /metrics port, default ${WEB_PORT}, 0 picks a free one` },
  { name: 'no-web', sets: 'WEB_ENABLED', value: '0', help: 'do not start the web page and /metrics' },
  { name: 'trace', sets: 'MONITOR_TRACE', value: '1', help: "record where tasks are created, for where's creation chains; costs\nthroughput" },
  { name: 'path', sets: 'MONITOR_PATH', placeholder: '<file>', help: 'command prompt on a Unix socket file instead of TCP' },
  { name: 'console-path', sets: 'CONSOLE_PATH', placeholder: '<file>', help: 'console on a Unix socket file instead of TCP' },
  {
    name: 'token',
    sets: 'MONITOR_TOKEN',
    placeholder: '<secret>',
    help: 'every session must send this first',
    note: 'other users\ncan read command lines, so prefer setting MONITOR_TOKEN yourself',
  },
  { name: 'help', alias: 'h', help: 'print this help and exit' },
  { name: 'version', help: 'print the aiomonitor version and exit' },
];

function label(flag: Flag): string {
  const names = flag.alias ? `-${flag.alias}, --${flag.name}` : `--${flag.name}`;
  return flag.placeholder ? `${names} ${flag.placeholder}` : names;
}

function description(flag: Flag): string {
  if (!flag.sets) return flag.help;
  const setting = flag.value === undefined ? flag.sets : `${flag.sets}=${flag.value}`;
  return `${flag.help} (sets ${setting}${flag.note ? `; ${flag.note}` : ''})`;
}

function optionLines(): string {
  const width = Math.max(...FLAGS.map((flag) => label(flag).length)) + 1;
  const indent = `\n  ${' '.repeat(width)}`;
  return FLAGS.map((flag) => `  ${label(flag).padEnd(width)}${description(flag).split('\n').join(indent)}\n`).join('');
}

/** Shown by `aiomon-run --help` and after a missing script, so it lists every wrapper flag. */
export const USAGE = `Usage: aiomon-run [options] [--] script [args...]

Runs a Node.js script (.js, .cjs or .mjs) with the aiomonitor preloaded.
Everything after the script path is passed to the script unchanged.

Options:
${optionLines()}
Connect with: nc ${MONITOR_HOST} ${MONITOR_PORT}   (or telnet)
`;

/** What the command line asks for; the bin acts on it, so parsing stays free of I/O. */
export type ParsedRun =
  | { kind: 'run'; script: string; args: string[]; env: NodeJS.ProcessEnv }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'error'; message: string; exitCode: number; showUsage?: boolean };

const KNOWN = new Set(['_', ...FLAGS.map((flag) => flag.name)]);

const PARSER_OPTIONS: yargsParser.Options = {
  string: FLAGS.filter((flag) => flag.placeholder).map((flag) => flag.name),
  boolean: FLAGS.filter((flag) => !flag.placeholder).map((flag) => flag.name),
  alias: Object.fromEntries(FLAGS.filter((flag) => flag.alias).map((flag) => [flag.name, [flag.alias!]])),
  // The first positional is the script: everything from there on belongs to it. (`--no-console` is a flag of its
  // own, which LITERAL_ARGS's lack of negation keeps so.)
  configuration: { ...LITERAL_ARGS, 'halt-at-non-option': true },
};

function error(message: string, showUsage = false): ParsedRun {
  return { kind: 'error', message: `aiomon-run: ${message}`, exitCode: 2, ...(showUsage && { showUsage }) };
}

/** Finds the token the user typed for an unknown key, so the message quotes it as written. */
function typedFlag(argv: string[], key: string): string {
  const token = argv.find((arg) => /^--?/.test(arg) && arg.replace(/^--?/, '').split('=')[0] === key);
  return token?.split('=')[0] ?? `--${key}`;
}

/** The preload's own complaint about a value, so a flag and its variable are judged alike; undefined if it is fine. */
function settingError(variable: string, value: string): string | undefined {
  try {
    checkEnvSettings({ [variable]: value });
    return undefined;
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
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
  for (const flag of FLAGS) {
    if (!flag.sets || parsed[flag.name] === undefined || parsed[flag.name] === false) continue;
    if (flag.value !== undefined) {
      childEnv[flag.sets] = flag.value;
      continue;
    }
    const value = String(parsed[flag.name]);
    // The preload takes a blank variable for an unset one, but a flag given without a value is a mistake.
    if (value.trim() === '') return error(`--${flag.name} needs a value, got ${JSON.stringify(value)}`);
    const complaint = settingError(flag.sets, value);
    if (complaint !== undefined) return error(`--${flag.name}: ${complaint}`);
    childEnv[flag.sets] = value;
  }

  const [script, ...args] = parsed._.map(String);
  if (script === undefined || script === '') {
    return error('missing the script to run', true);
  }
  return { kind: 'run', script, args, env: childEnv };
}
