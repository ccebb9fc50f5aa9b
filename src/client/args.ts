import yargsParser from 'yargs-parser';
import { LITERAL_ARGS } from '../shared/literal-args';
import { checkEnvSettings, ConfigError, type Endpoint } from '../shared/config';

/** Shown by `aiomon --help` and after a usage error that needs it. */
export const USAGE = `Usage: aiomon [ls] [--json]              list the monitors of this user's processes
       aiomon TARGET                     open the monitor prompt
       aiomon TARGET CMD [ARGS...]       run one command, print its output, exit
       aiomon TARGET console             open the REPL console
       aiomon attach PID [--port P]      start a monitor in a running process, then open its prompt

TARGET is a PID (found in the monitors' records), :PORT or HOST:PORT, [IPv6]:PORT,
or the path of a socket file (with a '/': ./mon.sock).

Options:
  --json         (ls) print one JSON document
  --port <port>  (attach) the port the new monitor listens on
  -h, --help     print this help and exit
  --version      print the aiomonitor version and exit

MONITOR_TOKEN is sent to monitors that ask for a token; unset, aiomon asks for it.
Exit codes: 0 done, 1 a command's output has a line starting with ✗ or the monitor
cannot be reached, 2 a usage error.
`;

/** Where to connect: a process found by its pid, or an address given as such. */
export type Target = { kind: 'pid'; pid: number } | { kind: 'endpoint'; endpoint: Endpoint };

/** What the command line asks for; the bin acts on it, so parsing stays free of I/O. */
export type ParsedClient =
  | { kind: 'list'; json: boolean }
  | { kind: 'attach'; pid: number; port?: number }
  | { kind: 'prompt'; target: Target }
  | { kind: 'command'; target: Target; line: string }
  | { kind: 'console'; target: Target }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'error'; message: string; exitCode: 2; showUsage?: boolean };

function error(message: string, showUsage = false): ParsedClient {
  return { kind: 'error', message: `aiomon: ${message}`, exitCode: 2, ...(showUsage && { showUsage }) };
}

function unknownOption(parsed: yargsParser.Arguments, known: string[], where: string): ParsedClient | undefined {
  const key = Object.keys(parsed).find((name) => name !== '_' && name !== '--' && !known.includes(name));
  if (key === undefined) return undefined;
  return error(`unknown option ${key.length === 1 ? '-' : '--'}${key}${where}; see aiomon --help`);
}

/** Reads a pid as typed: a whole number from 1; undefined if it is not one. */
export function parsePid(text: string): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const pid = Number(text);
  return pid >= 1 && pid <= 2 ** 31 - 1 ? pid : undefined;
}

function parsePort(text: string): number | undefined {
  return /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535 ? Number(text) : undefined;
}

/** Reads a TARGET: a pid, `:PORT`, `HOST:PORT`, `[IPv6]:PORT` or a socket file's path; a string says what is wrong. */
export function parseTarget(text: string): Target | string {
  if (text.includes('/')) return { kind: 'endpoint', endpoint: { path: text } };
  const pid = parsePid(text);
  if (pid !== undefined) return { kind: 'pid', pid };
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(text);
  if (match) {
    const host = match[1] ?? match[2];
    const port = parsePort(match[3]);
    if (port === undefined) return `${JSON.stringify(text)}: ${JSON.stringify(match[3])} is not a port number from 1 to 65535`;
    if (/\s/.test(host) || (match[1] !== undefined && host === '')) return `${JSON.stringify(text)}: ${JSON.stringify(host)} is not a host name or address`;
    return { kind: 'endpoint', endpoint: { host: host === '' ? '127.0.0.1' : host, port } };
  }
  return `${JSON.stringify(text)} is not a target: give a pid, :PORT, HOST:PORT, [IPv6]:PORT or a socket file path (with a '/')`;
}

/** Quotes one word of a one-shot command for the monitor's parser, which splits on spaces and honours quotes. */
export function quoteWord(word: string): string {
  if (word !== '' && !/[\s"']/.test(word)) return word;
  return word.includes('"') ? `'${word}'` : `"${word}"`;
}

function parseList(rest: string[]): ParsedClient {
  const parsed = yargsParser(rest, { boolean: ['json'], configuration: LITERAL_ARGS });
  const unknown = unknownOption(parsed, ['json'], ' for ls');
  if (unknown) return unknown;
  if (parsed._.length > 0) return error(`ls takes no arguments, got ${JSON.stringify(String(parsed._[0]))}; see aiomon --help`);
  return { kind: 'list', json: parsed.json === true };
}

function parseAttach(rest: string[]): ParsedClient {
  const parsed = yargsParser(rest, { string: ['port'], configuration: LITERAL_ARGS });
  const unknown = unknownOption(parsed, ['port'], ' for attach');
  if (unknown) return unknown;
  const [pidText, extra] = parsed._.map(String);
  if (pidText === undefined) return error('attach needs the PID of the process to attach to', true);
  if (extra !== undefined) return error(`attach takes one PID, got also ${JSON.stringify(extra)}; see aiomon --help`);
  const pid = parsePid(pidText);
  if (pid === undefined) return error(`attach: ${JSON.stringify(pidText)} is not a process ID`);
  if (parsed.port === undefined) return { kind: 'attach', pid };
  const portText = String(parsed.port);
  try {
    checkEnvSettings({ MONITOR_PORT: portText });
  } catch (err) {
    if (err instanceof ConfigError) return error(`attach --port: ${err.message}`);
    throw err;
  }
  if (portText.trim() === '') return error('attach --port needs a value');
  return { kind: 'attach', pid, port: Number(portText) };
}

/** Turns aiomon's argv (without node and the bin path) into what to do. */
export function parseClientArgs(argv: string[]): ParsedClient {
  // Options before the first word are aiomon's; after a TARGET, everything is the command line to run.
  const parsed = yargsParser(argv, {
    boolean: ['help', 'version', 'json'],
    alias: { help: ['h'] },
    configuration: { ...LITERAL_ARGS, 'halt-at-non-option': true },
  });
  if (parsed.help) return { kind: 'help' };
  if (parsed.version) return { kind: 'version' };
  const unknown = unknownOption(parsed, ['help', 'version', 'json'], '');
  if (unknown) return unknown;
  const words = parsed._.map(String);
  const [first, ...rest] = words;
  if (first === undefined) return { kind: 'list', json: parsed.json === true };
  if (first === 'ls') return parseList(parsed.json ? ['--json', ...rest] : rest);
  if (parsed.json) return error('--json goes with ls, or after the command: aiomon TARGET ps --json');
  if (first === 'attach') return parseAttach(rest);
  const target = parseTarget(first);
  if (typeof target === 'string') return error(`${target}; see aiomon --help`);
  if (rest.length === 0) return { kind: 'prompt', target };
  if (rest.length === 1 && rest[0] === 'console') return { kind: 'console', target };
  return { kind: 'command', target, line: rest.map(quoteWord).join(' ') };
}
