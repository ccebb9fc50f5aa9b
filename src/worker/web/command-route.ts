import type http from 'node:http';
import { COMMANDS } from '../../commands';
import { DEFAULT_HEAP_SECONDS, DEFAULT_SECONDS } from '../../commands/diagnostics';
import { checkInput, describeFailure } from '../../commands/dispatch';
import { UsageError, type Command, type CommandContext, type CommandInput } from '../../commands/types';
import type { SessionEnvironment } from '../session';
import type { Downloads } from './files';
import { sendError, sendJson } from './respond';

/** The commands a GET may run: they read, and change nothing in the app. */
export const READ_COMMANDS = new Set(['status', 'ps', 'where', 'ps-terminated', 'where-terminated', 'blocks', 'loop', 'mem', 'metrics', 'stacktrace', 'help']);
/** The commands only a POST may run, behind the checks of a change. */
export const CHANGE_COMMANDS = new Set(['cancel', 'profile', 'heapprofile', 'heapsnapshot']);

// What a path segment or option value may hold: IDs, seconds, filter text (no control characters).
const ARGUMENT = /^[^\u0000-\u001f\u007f]{1,200}$/;

/** Reads `/api/NAME/ARG...?option=value` into the command and its input; throws a message for a 400 or 404. */
export function readCommandRequest(url: URL, method: string): { cmd: Command; input: CommandInput } | { status: number; message: string } {
  let segments: string[];
  try {
    segments = url.pathname.split('/').slice(2).map(decodeURIComponent);
  } catch {
    return { status: 400, message: 'the request path is not valid percent-encoding' };
  }
  const [name = '', ...args] = segments;
  const allowed = method === 'POST' ? CHANGE_COMMANDS : READ_COMMANDS;
  const cmd = COMMANDS.find((command) => command.name === name);
  if (!cmd || !allowed.has(name)) {
    const other = method === 'POST' ? READ_COMMANDS.has(name) : CHANGE_COMMANDS.has(name);
    if (other) return { status: 405, message: `${name} is a ${method === 'POST' ? 'read: use GET' : 'change: use POST, from the page'}` };
    return { status: 404, message: `no command ${JSON.stringify(name.slice(0, 40))} on the web page; it offers ${[...READ_COMMANDS, ...CHANGE_COMMANDS].join(', ')}` };
  }
  const flags: CommandInput['flags'] = {};
  for (const [key, value] of url.searchParams) {
    const spec = cmd.options[key];
    if (!spec || key === 'json') return { status: 400, message: `${name}: unknown option ${JSON.stringify(key.slice(0, 40))}` };
    if (spec.type === 'boolean') flags[key] = value !== '0' && value !== 'false';
    else if (ARGUMENT.test(value)) flags[key] = value;
    else return { status: 400, message: `${name}: --${key} needs a value of 1 to 200 printable characters` };
  }
  if (!args.every((arg) => ARGUMENT.test(arg))) return { status: 400, message: `${name}: an argument must be 1 to 200 printable characters` };
  return { cmd, input: { args, flags: { ...flags, json: true } } };
}

/** Where a change writes its file when run from the page: the page's downloads, never a path the visitor names. */
async function withOutputPath(cmd: Command, args: string[], downloads: Downloads): Promise<string[]> {
  if (cmd.name === 'profile' || cmd.name === 'heapprofile') {
    if (args.length > 1) throw new UsageError(`${cmd.name} from the page takes SECONDS only; the file is offered for download`);
    return [args[0] ?? String(cmd.name === 'profile' ? DEFAULT_SECONDS : DEFAULT_HEAP_SECONDS), await downloads.dir()];
  }
  if (cmd.name === 'heapsnapshot') {
    if (args.length > 0) throw new UsageError('heapsnapshot from the page takes no PATH; the file is offered for download');
    return [await downloads.dir()];
  }
  return args;
}

/** Runs a command for one request and returns what it printed; throws what the command throws. */
export async function runForRequest(env: SessionEnvironment, cmd: Command, input: CommandInput, peer: string, interrupted: AbortSignal): Promise<string[]> {
  const printed: string[] = [];
  await cmd.run(requestContext(env, peer, printed, interrupted), input);
  return printed;
}

/** A command context for one request: what the command prints is collected; the session's other powers are absent. */
function requestContext(env: SessionEnvironment, peer: string, printed: string[], interrupted: AbortSignal): CommandContext {
  return {
    main: env.main,
    watchdog: env.watchdog,
    commands: COMMANDS,
    peer,
    print: (text = '') => { printed.push(text); },
    written: () => Promise.resolve(),
    exit: () => {},
    waitForInput: () => Promise.resolve(true),
    openConsole: () => Promise.resolve(),
    interrupted,
  };
}

/**
 * Runs `/api/NAME/ARG...` through the command layer as `NAME ARG... --json` and answers its JSON document; a
 * failure is the one line the prompt would print, with a status: 400 the visitor's mistake, 503 the main thread busy.
 */
export async function runCommandRoute(req: http.IncomingMessage, res: http.ServerResponse, url: URL, env: SessionEnvironment, downloads: Downloads): Promise<void> {
  const request = readCommandRequest(url, req.method ?? 'GET');
  if ('status' in request) return sendError(res, request.status, request.message);
  const { cmd } = request;
  // A visitor who leaves stops a profile as Ctrl-C would.
  const gone = new AbortController();
  res.on('close', () => { if (!res.writableFinished) gone.abort(); });
  let printed: string[];
  try {
    const input = checkInput(cmd, { ...request.input, args: await withOutputPath(cmd, request.input.args, downloads) });
    printed = await runForRequest(env, cmd, input, `web page from ${req.socket.remoteAddress ?? 'unknown'}`, gone.signal);
  } catch (error) {
    const failure = describeFailure(error, cmd.name);
    return sendError(res, failure.kind === 'usage' ? 400 : failure.kind === 'busy' ? 503 : 500, failure.message);
  }
  const line = printed.findLast((text) => text.startsWith('{'));
  if (line === undefined) return sendError(res, 500, `${cmd.name} printed no JSON document`);
  const document = JSON.parse(line) as Record<string, unknown>;
  if (typeof document.file === 'string' && CHANGE_COMMANDS.has(cmd.name)) document.download = downloads.offer(document.file);
  sendJson(res, 200, document);
}
