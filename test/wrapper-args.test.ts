import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRunArgs, USAGE, type ParsedRun } from '../src/wrapper/args';

// Inherited values the flags must override, and NODE_OPTIONS the wrapper must leave alone.
const ENV: NodeJS.ProcessEnv = { NODE_OPTIONS: '--max-old-space-size=128', MONITOR_PORT: '1111', HOME: '/home/u' };

const run = (script: string, args: string[], env: NodeJS.ProcessEnv = {}): ParsedRun => ({
  kind: 'run',
  script,
  args,
  env: { ...ENV, ...env },
});
const fail = (message: string, showUsage?: true): ParsedRun => ({
  kind: 'error',
  message: `aiomon-run: ${message}`,
  exitCode: 2,
  ...(showUsage && { showUsage }),
});

const PORT_HINT = 'a port number from 0 to 65535 (0 picks a free port)';
const TOO_LONG = 'is too long for a Unix socket (208 bytes; at most 107, its directory at most 92); choose a shorter path';

const rows: Array<[string[], ParsedRun]> = [
  [['app.js'], run('app.js', [])],
  [['app.js', 'a', 'b'], run('app.js', ['a', 'b'])],
  // Flags after the script belong to the script, even the wrapper's own names.
  [['app.js', '--port', '9', '--no-console', '-h', '--version'], run('app.js', ['--port', '9', '--no-console', '-h', '--version'])],
  [['app.js', '--', 'x'], run('app.js', ['--', 'x'])],
  [['--', 'app.js', '--port', '9'], run('app.js', ['--port', '9'])],
  [['--port', '9', '--', 'app.js'], run('app.js', [], { MONITOR_PORT: '9' })],
  // Numbers and odd strings reach the script as typed.
  [['app.mjs', '5', '0x10', 'a.b=1', ' spaced ', '"q"', ''], run('app.mjs', ['5', '0x10', 'a.b=1', ' spaced ', '"q"', ''])],
  [
    ['--host', '0.0.0.0', '--port', '0', '--console-port=50200', 'app.cjs'],
    run('app.cjs', [], { MONITOR_HOST: '0.0.0.0', MONITOR_PORT: '0', CONSOLE_PORT: '50200' }),
  ],
  // Passed on as typed: the preload reads "08" as port 8.
  [['--port', '08', 'app.js'], run('app.js', [], { MONITOR_PORT: '08' })],
  [['--port', '1', '--port', '2', 'app.js'], run('app.js', [], { MONITOR_PORT: '2' })],
  [['--no-console', 'app.js'], run('app.js', [], { CONSOLE_ENABLED: '0' })],
  [['--web-port', '0', '--no-web', 'app.js'], run('app.js', [], { MONITOR_WEB_PORT: '0', WEB_ENABLED: '0' })],
  [['--web-port', 'x', 'app.js'], fail(`--web-port: MONITOR_WEB_PORT="x" is not ${PORT_HINT}; fix it or unset it`)],
  [['--trace', 'app.js', '--trace'], run('app.js', ['--trace'], { MONITOR_TRACE: '1' })],
  // A bad value gets the line the preload prints for the same value in its variable.
  [['--port', 'abc', 'app.js'], fail(`--port: MONITOR_PORT="abc" is not ${PORT_HINT}; fix it or unset it`)],
  [['--port', '65536', 'app.js'], fail(`--port: MONITOR_PORT="65536" is not ${PORT_HINT}; fix it or unset it`)],
  [['--console-port', '-1', 'app.js'], fail(`--console-port: CONSOLE_PORT="-1" is not ${PORT_HINT}; fix it or unset it`)],
  [['--port', '1.5', 'app.js'], fail(`--port: MONITOR_PORT="1.5" is not ${PORT_HINT}; fix it or unset it`)],
  [['--port'], fail('--port needs a value, got ""')],
  [['--console-port', ' ', 'app.js'], fail('--console-port needs a value, got " "')],
  [['--host', '[::1]', 'app.js'], run('app.js', [], { MONITOR_HOST: '[::1]' })],
  [
    ['--host', '[::1]:50101', 'app.js'],
    fail('--host: host (MONITOR_HOST) "[::1]:50101" takes no port: set it to "::1" and the ports with MONITOR_PORT, CONSOLE_PORT and MONITOR_WEB_PORT (port, consolePort, webPort)'),
  ],
  [['--host', 'a b', 'app.js'], fail('--host: host (MONITOR_HOST) "a b" is not a host name or address; use one such as "127.0.0.1", "::1" or "localhost"')],
  [
    ['--token', 'a\nb', 'app.js'],
    fail('--token: token (MONITOR_TOKEN) contains a control character (a line break, NUL, ESC...) that no client can type; use printable characters only'),
  ],
  [['--console-path', `/${'d'.repeat(200)}/c.sock`, 'app.js'], fail(`--console-path: consolePath (CONSOLE_PATH) ${TOO_LONG}`)],
  [['--host', '', 'app.js'], fail('--host needs a value, got ""')],
  [['--token', ' s3cret ', 'app.js'], run('app.js', [], { MONITOR_TOKEN: ' s3cret ' })],
  [['--path', '/run/m.sock', '--console-path', '/run/c.sock', 'app.js'], run('app.js', [], { MONITOR_PATH: '/run/m.sock', CONSOLE_PATH: '/run/c.sock' })],
  [['--token', 'app.js'], fail('missing the script to run', true)],
  [['--foo', 'app.js'], fail('unknown option --foo; see aiomon-run --help (Node.js flags go in NODE_OPTIONS)')],
  [['-x', 'app.js'], fail('unknown option -x; see aiomon-run --help (Node.js flags go in NODE_OPTIONS)')],
  [['--console', 'app.js'], fail('unknown option --console; see aiomon-run --help (Node.js flags go in NODE_OPTIONS)')],
  [['--inspect=9229', 'app.js'], fail('unknown option --inspect; see aiomon-run --help (Node.js flags go in NODE_OPTIONS)')],
  [[], fail('missing the script to run', true)],
  [['--port', '9'], fail('missing the script to run', true)],
  [['--'], fail('missing the script to run', true)],
  [['--help'], { kind: 'help' }],
  [['-h', 'app.js'], { kind: 'help' }],
  [['--port', 'abc', '--help'], { kind: 'help' }],
  [['--version'], { kind: 'version' }],
];

for (const [argv, expected] of rows) {
  test(`parseRunArgs ${JSON.stringify(argv)}`, () => {
    assert.deepEqual(parseRunArgs(argv, ENV), expected);
  });
}

test('parseRunArgs does not modify the environment it is given', () => {
  const env = { ...ENV };
  parseRunArgs(['--port', '5', '--no-console', 'app.js'], env);
  assert.deepEqual(env, ENV);
});

test('USAGE names every wrapper flag', () => {
  const flags = ['--host', '--port', '--console-port', '--no-console', '--web-port', '--no-web', '--trace', '--path', '--console-path', '--token', '--help', '--version'];
  for (const flag of flags) {
    assert.match(USAGE, new RegExp(`${flag}\\b`), flag);
  }
});
