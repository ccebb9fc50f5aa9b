/** Default address the monitor binds, as in Python aiomonitor. */
export const MONITOR_HOST = '127.0.0.1';
/** Default TCP port of the command prompt. */
export const MONITOR_PORT = 50101;
/** Default TCP port of the REPL console. */
export const CONSOLE_PORT = 50102;

/** What `startMonitor()` and `new Monitor()` accept. */
export interface MonitorOptions {
  /** Address to bind both servers to (default `127.0.0.1`). */
  host?: string;
  /** Port of the command prompt; 0 picks a free one (default 50101). */
  port?: number;
  /** Port of the REPL console; 0 picks a free one (default 50102). */
  consolePort?: number;
  /** Whether the REPL console listens at all (default true). */
  consoleEnabled?: boolean;
  /** Names made available in every console session. */
  locals?: Record<string, unknown>;
}

/** Options after defaults and validation. */
export interface ResolvedOptions {
  host: string;
  port: number;
  consolePort: number;
  consoleEnabled: boolean;
  locals: Record<string, unknown>;
}

/** A setting that cannot be used; its message is one line naming the setting and the fix. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off']);

function checkPort(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 65535) return value;
  throw new ConfigError(`${name} must be a port number from 0 to 65535 (0 picks a free port), got ${JSON.stringify(value)}`);
}

/** Applies defaults to API options and checks them; throws ConfigError on a bad value. */
export function resolveOptions(options: MonitorOptions = {}): ResolvedOptions {
  const { host = MONITOR_HOST, consoleEnabled = true, locals = {} } = options;
  if (typeof host !== 'string' || host.trim() === '') {
    throw new ConfigError(`host must be a non-empty string such as "127.0.0.1", got ${JSON.stringify(host)}`);
  }
  if (typeof consoleEnabled !== 'boolean') {
    throw new ConfigError(`consoleEnabled must be true or false, got ${JSON.stringify(consoleEnabled)}`);
  }
  if (typeof locals !== 'object' || locals === null) {
    throw new ConfigError('locals must be an object whose keys become names in the console');
  }
  return {
    host,
    port: checkPort(options.port, 'port', MONITOR_PORT),
    consolePort: checkPort(options.consolePort, 'consolePort', CONSOLE_PORT),
    consoleEnabled,
    locals,
  };
}

function envPort(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(port <= 65535)) {
    throw new ConfigError(`${name}=${JSON.stringify(env[name])} is not a port number; set it to 0-65535 (0 picks a free port) or unset it`);
  }
  return port;
}

function envFlag(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return undefined;
  if (TRUE_WORDS.has(raw)) return true;
  if (FALSE_WORDS.has(raw)) return false;
  throw new ConfigError(`${name}=${JSON.stringify(env[name])} is not a yes/no value; use 1 or 0 (true/false, yes/no, on/off)`);
}

/** Reads MONITOR_HOST, MONITOR_PORT, CONSOLE_PORT and CONSOLE_ENABLED; throws ConfigError naming a bad variable. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): MonitorOptions {
  const host = env.MONITOR_HOST?.trim();
  return {
    host: host || undefined,
    port: envPort(env, 'MONITOR_PORT'),
    consolePort: envPort(env, 'CONSOLE_PORT'),
    consoleEnabled: envFlag(env, 'CONSOLE_ENABLED'),
  };
}
