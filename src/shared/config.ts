/** Default address the monitor binds, as in Python aiomonitor. */
export const MONITOR_HOST = '127.0.0.1';
/** Default TCP port of the command prompt. */
export const MONITOR_PORT = 50101;
/** Default TCP port of the REPL console. */
export const CONSOLE_PORT = 50102;
/** Default TCP port of the web page and of `/metrics`. */
export const WEB_PORT = 50103;
/** Default limit of open sessions per server. */
export const MAX_SESSIONS = 16;
/** Default idle time, in seconds, after which a silent session is closed. */
export const IDLE_TIMEOUT = 600;
/** Default stall, in ms, from which the event loop counts as blocked. */
export const BLOCK_THRESHOLD = 100;
/** Default number of finished tasks `ps-terminated` keeps. */
export const MAX_TERMINATION_HISTORY = 1000;

/** What `startMonitor()` and `new Monitor()` accept. */
export interface MonitorOptions {
  /** Address to bind both servers to (default `127.0.0.1`); a non-loopback address needs a token. */
  host?: string;
  /** Port of the command prompt; 0 picks a free one (default 50101). */
  port?: number;
  /** Port of the REPL console; 0 picks a free one (default 50102). */
  consolePort?: number;
  /** Unix socket file for the command prompt, instead of TCP. */
  path?: string;
  /** Unix socket file for the console, instead of TCP. */
  consolePath?: string;
  /** Whether the REPL console listens at all (default true). */
  consoleEnabled?: boolean;
  /** Port of the web page and of `/metrics`; 0 picks a free one (default 50103, but off when `path` is set and this is not). */
  webPort?: number;
  /** Whether the web page and `/metrics` listen at all (default true). */
  webEnabled?: boolean;
  /** A secret every session must send as its first line. */
  token?: string;
  /** Open sessions allowed per server (default 16); a newcomer past it is turned away. */
  maxSessions?: number;
  /** Seconds of silence after which a session is closed (default 600; 0 never). */
  idleTimeout?: number;
  /** A stall of the event loop longer than this many ms is recorded as a block (default 100). */
  blockThreshold?: number;
  /** Print one line on stderr for every block when it ends (default false). */
  blockLog?: boolean;
  /** Names made available in every console session. */
  locals?: Record<string, unknown>;
  /** How many finished tasks `ps-terminated` keeps (default 1000; 0 keeps none). */
  maxTerminationHistory?: number;
  /** Record where every task is created, for the creation chains of `where` (default false; costs throughput). */
  trace?: boolean;
}

/** Where a server listens: a TCP address or a Unix socket file. */
export type Endpoint = { host: string; port: number } | { path: string };

/** Options after defaults and validation. */
export interface ResolvedOptions {
  monitor: Endpoint;
  /** null when the console is disabled. */
  console: Endpoint | null;
  /** Where the web page and `/metrics` listen (always TCP), or null when they are off. */
  web: { host: string; port: number } | null;
  token: string | null;
  maxSessions: number;
  idleTimeoutMs: number;
  blockThresholdMs: number;
  blockLog: boolean;
  locals: Record<string, unknown>;
  maxTerminationHistory: number;
  trace: boolean;
}

/** A setting that cannot be used; its message is one line naming the setting and the fix. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The name of the private directory a socket file is created in, beside its place, before it is moved there. */
export const PRIVATE_DIR_PREFIX = '.aiom-';
// A socket address holds 108 bytes on Linux (104 on macOS), the terminating NUL included.
const SOCKET_PATH_MAX = process.platform === 'linux' ? 107 : 103;
// The private directory's path: the target's directory, '/', the prefix, mkdtemp's 6 characters, '/s'.
const PRIVATE_PATH_EXTRA = 1 + PRIVATE_DIR_PREFIX.length + 6 + 2;

/** How an endpoint reads in messages: `127.0.0.1:50101` or the socket file's path. */
export function describeEndpoint(endpoint: Endpoint): string {
  if ('path' in endpoint) return endpoint.path;
  return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

/** Whether a host name or address only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[|\]$/g, '');
  return name === 'localhost' || name === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(name);
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off']);

function checkInteger(value: unknown, name: string, fallback: number, max: number, hint: string): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max) return value;
  throw new ConfigError(`${name} must be ${hint}, got ${JSON.stringify(value)}`);
}

function checkString(value: unknown, name: string, example: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.trim() !== '') return value;
  throw new ConfigError(`${name} must be a non-empty string such as ${example}, got ${JSON.stringify(value)}`);
}

const PORT_HINT = 'a port number from 0 to 65535 (0 picks a free port)';

function checkSocketPath(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const bytes = Buffer.byteLength(value);
  const dirBytes = Buffer.byteLength(value.slice(0, Math.max(0, value.lastIndexOf('/'))) || '.');
  if (bytes > SOCKET_PATH_MAX || dirBytes + PRIVATE_PATH_EXTRA > SOCKET_PATH_MAX) {
    throw new ConfigError(`${name} is too long for a Unix socket (${bytes} bytes; at most ${SOCKET_PATH_MAX}, its directory at most ${SOCKET_PATH_MAX - PRIVATE_PATH_EXTRA}); choose a shorter path`);
  }
  return value;
}

/** The host without the brackets of an IPv6 address; a host with a port is refused, since the port has its own setting. */
function checkHost(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (/[\s\u0000-\u001f\u007f]/.test(value.trim())) {
    throw new ConfigError(`host (MONITOR_HOST) ${JSON.stringify(value)} is not a host name or address; use one such as "127.0.0.1", "::1" or "localhost"`);
  }
  const bracketed = /^\[([^\]]*)\](:\d*)?$/.exec(value);
  if (bracketed && !bracketed[2]) return bracketed[1];
  const withPort = bracketed ? bracketed[1] : /^([^:]+):\d*$/.exec(value)?.[1];
  if (withPort !== undefined) {
    throw new ConfigError(`host (MONITOR_HOST) ${JSON.stringify(value)} takes no port: set it to ${JSON.stringify(withPort)} and the ports with MONITOR_PORT, CONSOLE_PORT and MONITOR_WEB_PORT (port, consolePort, webPort)`);
  }
  return value;
}

// The admission reads a token line of at most this many bytes.
const TOKEN_MAX_BYTES = 1024;

function checkToken(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  // A client types the token as its first line: a line break, NUL, ESC or DEL can never be part of it (a tab can).
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
    throw new ConfigError('token (MONITOR_TOKEN) contains a control character (a line break, NUL, ESC...) that no client can type; use printable characters only');
  }
  if (Buffer.byteLength(value) > TOKEN_MAX_BYTES) throw new ConfigError(`token (MONITOR_TOKEN) is longer than ${TOKEN_MAX_BYTES} bytes, more than a client may send; use a shorter one`);
  return value;
}

/**
 * The ports a monitor takes when none is set: 50101, 50102 and 50103. Only tests change them, with
 * AIOMONITOR_TEST_DEFAULT_PORT, AIOMONITOR_TEST_DEFAULT_CONSOLE_PORT and AIOMONITOR_TEST_DEFAULT_WEB_PORT, to see what a taken default port does
 * without depending on the machine's port 50101.
 */
export function defaultPorts(env: NodeJS.ProcessEnv = process.env): { monitor: number; console: number; web: number } {
  const hint = 'a port number from 1 to 65535 (tests only)';
  return {
    monitor: envInteger(env, 'AIOMONITOR_TEST_DEFAULT_PORT', 1, 65535, hint) ?? MONITOR_PORT,
    console: envInteger(env, 'AIOMONITOR_TEST_DEFAULT_CONSOLE_PORT', 1, 65535, hint) ?? CONSOLE_PORT,
    web: envInteger(env, 'AIOMONITOR_TEST_DEFAULT_WEB_PORT', 1, 65535, hint) ?? WEB_PORT,
  };
}

/** Applies defaults to API options and checks them; throws ConfigError on a bad value. */
export function resolveOptions(options: MonitorOptions = {}): ResolvedOptions {
  const host = checkHost(checkString(options.host, 'host', '"127.0.0.1"')) ?? MONITOR_HOST;
  const path = checkSocketPath(checkString(options.path, 'path', '"/run/app/monitor.sock"'), 'path (MONITOR_PATH)');
  const consolePath = checkSocketPath(checkString(options.consolePath, 'consolePath', '"/run/app/console.sock"'), 'consolePath (CONSOLE_PATH)');
  const token = checkToken(checkString(options.token, 'token', 'a long random secret')) ?? null;
  const { consoleEnabled = true, webEnabled = true, blockLog = false, locals = {}, trace = false } = options;
  if (typeof blockLog !== 'boolean') throw new ConfigError(`blockLog must be true or false, got ${JSON.stringify(blockLog)}`);
  if (typeof trace !== 'boolean') throw new ConfigError(`trace must be true or false, got ${JSON.stringify(trace)}`);
  if (typeof consoleEnabled !== 'boolean') {
    throw new ConfigError(`consoleEnabled must be true or false, got ${JSON.stringify(consoleEnabled)}`);
  }
  if (typeof webEnabled !== 'boolean') throw new ConfigError(`webEnabled must be true or false, got ${JSON.stringify(webEnabled)}`);
  if (typeof locals !== 'object' || locals === null) {
    throw new ConfigError('locals must be an object whose keys become names in the console');
  }
  const defaults = defaultPorts();
  const port = checkInteger(options.port, 'port', defaults.monitor, 65535, PORT_HINT);
  const consolePort = checkInteger(options.consolePort, 'consolePort', defaults.console, 65535, PORT_HINT);
  const webPort = checkInteger(options.webPort, 'webPort', defaults.web, 65535, PORT_HINT);
  const maxSessions = checkInteger(options.maxSessions, 'maxSessions', MAX_SESSIONS, 10_000, 'a whole number of sessions from 1 to 10000');
  if (maxSessions === 0) throw new ConfigError('maxSessions must be a whole number of sessions from 1 to 10000, got 0');
  const idleTimeout = checkInteger(options.idleTimeout, 'idleTimeout', IDLE_TIMEOUT, 2_000_000, 'a whole number of seconds (0 never closes an idle session)');
  const blockThresholdMs = checkInteger(options.blockThreshold, 'blockThreshold', BLOCK_THRESHOLD, 3_600_000, 'a whole number of ms from 1');
  if (blockThresholdMs === 0) throw new ConfigError('blockThreshold must be a whole number of ms from 1, got 0');
  const maxTerminationHistory = checkInteger(options.maxTerminationHistory, 'maxTerminationHistory', MAX_TERMINATION_HISTORY, 1_000_000, 'a whole number of tasks from 0 to 1000000');
  const monitor: Endpoint = path ? { path } : { host, port };
  const console: Endpoint | null = !consoleEnabled ? null : consolePath ? { path: consolePath } : { host, port: consolePort };
  // A prompt kept off TCP (a socket file) keeps the page off it too, unless its port is asked for.
  const web = webEnabled && (!path || options.webPort !== undefined) ? { host, port: webPort } : null;
  const exposed = [monitor, console, web].some((endpoint) => endpoint && 'host' in endpoint && !isLoopback(endpoint.host));
  if (exposed && !token) {
    throw new ConfigError(`refusing to listen on ${host} without a token: anyone who can reach it could run code in this process; set MONITOR_TOKEN (token) or bind 127.0.0.1`);
  }
  return { monitor, console, web, token, maxSessions, idleTimeoutMs: idleTimeout * 1000, blockThresholdMs, blockLog, locals, maxTerminationHistory, trace };
}

function envInteger(env: NodeJS.ProcessEnv, name: string, min: number, max: number, hint: string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const value = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) throw new ConfigError(`${name}=${JSON.stringify(env[name])} is not ${hint}; fix it or unset it`);
  return value;
}

function envFlag(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return undefined;
  if (TRUE_WORDS.has(raw)) return true;
  if (FALSE_WORDS.has(raw)) return false;
  throw new ConfigError(`${name}=${JSON.stringify(env[name])} is not a yes/no value; use 1 or 0 (true/false, yes/no, on/off)`);
}

function envString(env: NodeJS.ProcessEnv, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}

/** How long the monitor thread waits for the main thread before it says that thread is busy, in ms. */
export interface Deadlines {
  /** For a read to answer, or a change to start. */
  mainMs: number;
  /** After mainMs, for the main thread's refusal of a change it was too late to start, so that "nothing was changed" is true. */
  refusalGraceMs: number;
  /** For the console to answer the `console` command. */
  consoleStartMs: number;
}

/** The deadlines users get. */
export const DEFAULT_DEADLINES: Deadlines = { mainMs: 2000, refusalGraceMs: 1000, consoleStartMs: 3000 };

/**
 * The deadlines, which only tests change: AIOMONITOR_TEST_DEADLINE_MS sets the main thread's and scales the
 * others with it, so that a test blocks the loop for half a second where a user's app would have to block for five.
 */
export function deadlinesFromEnv(env: NodeJS.ProcessEnv = process.env): Deadlines {
  const mainMs = envInteger(env, 'AIOMONITOR_TEST_DEADLINE_MS', 100, 60_000, 'a whole number of ms from 100 to 60000');
  if (mainMs === undefined) return DEFAULT_DEADLINES;
  const scale = mainMs / DEFAULT_DEADLINES.mainMs;
  return { mainMs, refusalGraceMs: Math.round(DEFAULT_DEADLINES.refusalGraceMs * scale), consoleStartMs: Math.round(DEFAULT_DEADLINES.consoleStartMs * scale) };
}

/** Reads the MONITOR_* and CONSOLE_* variables; throws ConfigError naming a bad one. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): MonitorOptions {
  const port = 'a port number from 0 to 65535 (0 picks a free port)';
  return {
    host: envString(env, 'MONITOR_HOST'),
    port: envInteger(env, 'MONITOR_PORT', 0, 65535, port),
    consolePort: envInteger(env, 'CONSOLE_PORT', 0, 65535, port),
    path: envString(env, 'MONITOR_PATH'),
    consolePath: envString(env, 'CONSOLE_PATH'),
    consoleEnabled: envFlag(env, 'CONSOLE_ENABLED'),
    webPort: envInteger(env, 'MONITOR_WEB_PORT', 0, 65535, port),
    webEnabled: envFlag(env, 'WEB_ENABLED'),
    // Not trimmed: a token is a secret, compared exactly.
    token: env.MONITOR_TOKEN || undefined,
    maxSessions: envInteger(env, 'MONITOR_MAX_SESSIONS', 1, 10_000, 'a number of sessions from 1 to 10000'),
    idleTimeout: envInteger(env, 'MONITOR_IDLE_TIMEOUT', 0, 2_000_000, 'a whole number of seconds (0 never closes an idle session)'),
    blockThreshold: envInteger(env, 'MONITOR_BLOCK_THRESHOLD', 1, 3_600_000, 'a whole number of ms from 1'),
    blockLog: envFlag(env, 'MONITOR_BLOCK_LOG'),
    maxTerminationHistory: envInteger(env, 'MONITOR_MAX_TERMINATION_HISTORY', 0, 1_000_000, 'a whole number of tasks from 0 to 1000000'),
    trace: envFlag(env, 'MONITOR_TRACE'),
  };
}

/**
 * Checks the host, port, socket path and token variables in `env` one by one, with the preload's checks and wording
 * (not whether they fit together: a public host's token may come later); throws ConfigError naming a bad one.
 */
export function checkEnvSettings(env: NodeJS.ProcessEnv): void {
  const options = optionsFromEnv(env);
  checkHost(options.host);
  checkSocketPath(options.path, 'path (MONITOR_PATH)');
  checkSocketPath(options.consolePath, 'consolePath (CONSOLE_PATH)');
  checkToken(options.token);
}
