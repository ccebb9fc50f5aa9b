// Starts the apps under test as child processes: bare, with the monitor's preload, or with
// why-is-node-running's. Every child is tracked so that none outlives the bench, even on Ctrl-C.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled preload, as `node -r aiomonitor/register` loads it. */
const REGISTER = fileURLToPath(new URL('../dist/register.js', import.meta.url));

/** How long an app may take to start or to print what we wait for, before the bench gives up on it. */
const START_TIMEOUT_MS = 20_000;

/** The ways an app is started: what goes between `node` and the script. */
const PRELOADS = {
  bare: [],
  monitor: ['-r', REGISTER],
  // References for the memory measurement, each one part of what the monitor brings.
  loadOnly: ['-r', fileURLToPath(new URL('./load-only.cjs', import.meta.url))],
  emptyWorker: ['-r', fileURLToPath(new URL('./empty-worker.cjs', import.meta.url))],
  // v3 is an ES module whose side-effect entry is `why-is-node-running/include`; an absolute URL,
  // because `--import` resolves bare names from the app's directory, not from this package.
  why: ['--import', import.meta.resolve('why-is-node-running/include')],
};

const live = new Set();

// The apps' records for aiomon, where the bench reads their ports as aiomon would: no DEBUG, which would load
// `debug` in the monitored apps only and count it in what the monitor costs.
const RUNTIME_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-bench-'));
process.on('exit', () => fs.rmSync(RUNTIME_DIR, { recursive: true, force: true }));

/** Kills every app still running; safe to call from an 'exit' handler (it is synchronous). */
export function killAll() {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** Makes sure no app outlives the bench: on a normal exit, a crash, Ctrl-C or SIGTERM. */
export function installCleanup() {
  process.on('exit', killAll);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    process.once(signal, () => {
      killAll();
      process.stderr.write(`\nbench: stopped by ${signal}; every app it started is killed\n`);
      process.exit(code);
    });
  }
}

/** The environment of every app: the monitor on free loopback ports, and nothing inherited that would change what is measured. */
function appEnv() {
  const env = { ...process.env, MONITOR_HOST: '127.0.0.1', MONITOR_PORT: '0', CONSOLE_PORT: '0', MONITOR_WEB_PORT: '0', XDG_RUNTIME_DIR: RUNTIME_DIR, DEBUG: '' };
  // A preload in NODE_OPTIONS would make "bare node" not bare; a token or socket file would change how the client connects.
  for (const name of ['NODE_OPTIONS', 'MONITOR_TOKEN', 'MONITOR_PATH', 'CONSOLE_PATH', 'CONSOLE_ENABLED']) delete env[name];
  return env;
}

/**
 * Starts `node <preload args> <script> <args>`. With `fdLimit`, it goes through `sh -c 'ulimit -n N; exec node …'`
 * (the same pid, since sh execs), for apps that open thousands of sockets. `env` adds to the app's environment.
 */
export function launch(script, { preload = 'bare', args = [], fdLimit, env = {} } = {}) {
  const nodeArgs = [...PRELOADS[preload], fileURLToPath(new URL(script, import.meta.url)), ...args];
  // "$0" "$@" passes node and its arguments through unquoted-safe; without a high enough hard limit, take the hard limit.
  const child = fdLimit
    ? spawn('sh', ['-c', `ulimit -n ${fdLimit} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`, process.execPath, ...nodeArgs], { env: { ...appEnv(), ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(process.execPath, nodeArgs, { env: { ...appEnv(), ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk) => { output.stdout += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk) => { output.stderr += chunk; });
  // An app killed mid-write must not crash the bench with EPIPE.
  child.stdin.on('error', () => {});
  // A child that could not start at all (no `sh`, say) emits 'error' instead of 'exit'.
  let failed = null;
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
    child.on('error', (error) => {
      failed = error;
      live.delete(child);
      resolve({ code: null, signal: null, error });
    });
  });

  /**
   * Resolves with the first match of `pattern` in what the stream printed after its first `from` characters;
   * rejects if the app exits first or takes too long.
   */
  function waitFor(stream, pattern, { from = 0, timeoutMs = START_TIMEOUT_MS } = {}) {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const check = () => {
        const match = output[stream].slice(from).match(pattern);
        if (match) return resolve(match);
        const tail = `; ${stream}: ${JSON.stringify(output[stream].slice(-500))}`;
        if (failed) return reject(new Error(`${script} could not start: ${failed.message}`));
        if (child.exitCode !== null || child.signalCode !== null) return reject(new Error(`${script} exited before printing ${pattern}${tail}`));
        if (Date.now() - started > timeoutMs) return reject(new Error(`${script} did not print ${pattern} within ${timeoutMs} ms${tail}`));
        setTimeout(check, 10);
      };
      check();
    });
  }

  return {
    child,
    pid: child.pid,
    exited,
    waitFor,
    output,
    /** The monitor's port, from the record it writes for aiomon once it listens. */
    monitorPort: () => recorded(child.pid, (record) => record.monitor.port),
    /** The port of its web page and /metrics, from the same record. */
    webPort: () => recorded(child.pid, (record) => record.web.port),
    /** Ends the app and waits until it is gone. */
    async stop() {
      if (!failed && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** `pick` of the record of `pid`, as soon as the monitor has written it. */
async function recorded(pid, pick) {
  const file = path.join(RUNTIME_DIR, 'aiomonitor', `${pid}.json`);
  const started = Date.now();
  for (;;) {
    try {
      return pick(JSON.parse(fs.readFileSync(file, 'utf8')));
    } catch {
      if (Date.now() - started > START_TIMEOUT_MS) throw new Error(`no record of the monitor of ${pid} in ${START_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
