import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, isLoopback, optionsFromEnv, resolveOptions } from '../src/shared/config';

test('the environment maps to options', () => {
  const none = { host: undefined, port: undefined, consolePort: undefined, path: undefined, consolePath: undefined, consoleEnabled: undefined, webPort: undefined, webEnabled: undefined, token: undefined, maxSessions: undefined, idleTimeout: undefined, blockThreshold: undefined, blockLog: undefined, maxTerminationHistory: undefined, trace: undefined };
  const rows: [NodeJS.ProcessEnv, object][] = [
    [{}, none],
    [{ MONITOR_HOST: '0.0.0.0', MONITOR_PORT: '6000', CONSOLE_PORT: '0' }, { ...none, host: '0.0.0.0', port: 6000, consolePort: 0 }],
    [{ CONSOLE_ENABLED: 'off' }, { ...none, consoleEnabled: false }],
    [{ CONSOLE_ENABLED: 'Yes', MONITOR_PORT: ' ' }, { ...none, consoleEnabled: true }],
    [{ MONITOR_PATH: '/run/m.sock', CONSOLE_PATH: '/run/c.sock' }, { ...none, path: '/run/m.sock', consolePath: '/run/c.sock' }],
    [{ MONITOR_TOKEN: ' s3cret ', MONITOR_MAX_SESSIONS: '4', MONITOR_IDLE_TIMEOUT: '0' }, { ...none, token: ' s3cret ', maxSessions: 4, idleTimeout: 0 }],
    [{ MONITOR_BLOCK_THRESHOLD: '250', MONITOR_BLOCK_LOG: '1' }, { ...none, blockThreshold: 250, blockLog: true }],
    [{ MONITOR_MAX_TERMINATION_HISTORY: '0' }, { ...none, maxTerminationHistory: 0 }],
    [{ MONITOR_TRACE: 'on' }, { ...none, trace: true }],
    [{ MONITOR_WEB_PORT: '0', WEB_ENABLED: 'no' }, { ...none, webPort: 0, webEnabled: false }],
  ];
  for (const [env, expected] of rows) assert.deepEqual(optionsFromEnv(env), expected, JSON.stringify(env));
});

test('a bad variable is one line naming it', () => {
  const rows: [NodeJS.ProcessEnv, RegExp][] = [
    [{ MONITOR_PORT: 'abc' }, /^MONITOR_PORT="abc" is not a port number from 0 to 65535/],
    [{ MONITOR_PORT: '65536' }, /^MONITOR_PORT="65536"/],
    [{ CONSOLE_PORT: '-1' }, /^CONSOLE_PORT="-1"/],
    [{ CONSOLE_PORT: '1.5' }, /^CONSOLE_PORT="1.5"/],
    [{ CONSOLE_ENABLED: 'maybe' }, /^CONSOLE_ENABLED="maybe" is not a yes\/no value/],
    [{ MONITOR_MAX_SESSIONS: 'lots' }, /^MONITOR_MAX_SESSIONS="lots"/],
    [{ MONITOR_MAX_SESSIONS: '0' }, /^MONITOR_MAX_SESSIONS="0"/],
    [{ MONITOR_IDLE_TIMEOUT: '10m' }, /^MONITOR_IDLE_TIMEOUT="10m" is not a whole number of seconds/],
    [{ MONITOR_BLOCK_THRESHOLD: '0' }, /^MONITOR_BLOCK_THRESHOLD="0" is not a whole number of ms from 1/],
    [{ MONITOR_BLOCK_LOG: 'loud' }, /^MONITOR_BLOCK_LOG="loud" is not a yes\/no value/],
    [{ MONITOR_MAX_TERMINATION_HISTORY: 'all' }, /^MONITOR_MAX_TERMINATION_HISTORY="all" is not a whole number of tasks/],
    [{ MONITOR_WEB_PORT: '50103x' }, /^MONITOR_WEB_PORT="50103x" is not a port number from 0 to 65535/],
    [{ WEB_ENABLED: '2' }, /^WEB_ENABLED="2" is not a yes\/no value/],
  ];
  for (const [env, message] of rows) {
    assert.throws(() => optionsFromEnv(env), (error: Error) => error instanceof ConfigError && message.test(error.message) && !error.message.includes('\n'), JSON.stringify(env));
  }
});

test('API options get defaults and are checked', () => {
  assert.deepEqual(resolveOptions(), {
    monitor: { host: '127.0.0.1', port: 50101 },
    console: { host: '127.0.0.1', port: 50102 },
    web: { host: '127.0.0.1', port: 50103 },
    token: null,
    maxSessions: 16,
    idleTimeoutMs: 600_000,
    blockThresholdMs: 100,
    blockLog: false,
    trace: false,
    locals: {},
    maxTerminationHistory: 1000,
  });
  assert.equal(resolveOptions({ consoleEnabled: false }).console, null);
  assert.deepEqual(resolveOptions({ path: '/run/m.sock', consolePath: '/run/c.sock' }).console, { path: '/run/c.sock' });
  assert.equal(resolveOptions({ webEnabled: false }).web, null);
  // A prompt on a socket file keeps the page off TCP too, unless its port is asked for.
  assert.equal(resolveOptions({ path: '/run/m.sock' }).web, null);
  assert.deepEqual(resolveOptions({ path: '/run/m.sock', webPort: 0 }).web, { host: '127.0.0.1', port: 0 });
  const bad: [object, RegExp][] = [
    [{ port: 'abc' }, /^port must be a port number/],
    [{ port: 70000 }, /^port must be a port number/],
    [{ consolePort: 1.5 }, /^consolePort must be/],
    [{ host: '' }, /^host must be a non-empty string/],
    [{ consoleEnabled: 'no' }, /^consoleEnabled must be true or false/],
    [{ webEnabled: 1 }, /^webEnabled must be true or false/],
    [{ webPort: -1 }, /^webPort must be a port number/],
    [{ locals: null }, /^locals must be an object/],
    [{ maxSessions: 0 }, /^maxSessions must be a whole number of sessions from 1/],
    [{ idleTimeout: -1 }, /^idleTimeout must be a whole number of seconds/],
    [{ token: '' }, /^token must be a non-empty string/],
    [{ maxTerminationHistory: -5 }, /^maxTerminationHistory must be a whole number of tasks/],
  ];
  for (const [options, message] of bad) assert.throws(() => resolveOptions(options), { name: 'ConfigError', message });
});

test('a non-loopback address is refused without a token, and allowed with one or over Unix sockets', () => {
  assert.throws(() => resolveOptions({ host: '0.0.0.0' }), { name: 'ConfigError', message: /^refusing to listen on 0\.0\.0\.0 without a token: .*set MONITOR_TOKEN/ });
  assert.throws(() => resolveOptions({ host: '192.0.2.7', consoleEnabled: false }), { name: 'ConfigError' });
  assert.throws(() => resolveOptions({ host: '0.0.0.0', path: '/run/m', consolePath: '/run/c', webPort: 8080 }), { name: 'ConfigError' });
  assert.equal(resolveOptions({ host: '0.0.0.0', token: 't' }).token, 't');
  assert.deepEqual(resolveOptions({ host: '0.0.0.0', path: '/run/m', consolePath: '/run/c' }).monitor, { path: '/run/m' });
});

test('loopback is 127.0.0.0/8, ::1 and localhost', () => {
  const rows: [string, boolean][] = [
    ['127.0.0.1', true], ['127.8.9.10', true], ['localhost', true], ['::1', true], ['[::1]', true], ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false], ['::', false], ['10.0.0.1', false], ['example.com', false], ['128.0.0.1', false],
  ];
  for (const [host, expected] of rows) assert.equal(isLoopback(host), expected, host);
});

test('an IPv6 host may be written in brackets; a host with a port is refused, naming the port settings', () => {
  assert.deepEqual(resolveOptions({ host: '[::1]' }).monitor, { host: '::1', port: 50101 });
  assert.deepEqual(resolveOptions({ host: '::1' }).monitor, { host: '::1', port: 50101 });
  for (const [host, bare] of [['127.0.0.1:80', '127.0.0.1'], ['localhost:50101', 'localhost'], ['[::1]:80', '::1']]) {
    assert.throws(() => resolveOptions({ host }), {
      name: 'ConfigError',
      message: `host (MONITOR_HOST) ${JSON.stringify(host)} takes no port: set it to ${JSON.stringify(bare)} and the ports with MONITOR_PORT, CONSOLE_PORT and MONITOR_WEB_PORT (port, consolePort, webPort)`,
    });
  }
});

test('a host with a line break, a space or a terminal escape is refused in one line that shows it escaped', () => {
  for (const host of ['a\nb', 'local host', '\x1b[2J']) {
    assert.throws(() => resolveOptions({ host }), {
      name: 'ConfigError',
      message: `host (MONITOR_HOST) ${JSON.stringify(host)} is not a host name or address; use one such as "127.0.0.1", "::1" or "localhost"`,
    });
  }
});

test('a socket path too long for a socket address is refused before anything listens', () => {
  const dir = `/tmp/${'d'.repeat(80)}`;
  assert.deepEqual(resolveOptions({ path: `${dir}/m.sock` }).monitor, { path: `${dir}/m.sock` });
  const long = `/tmp/${'x'.repeat(110)}.sock`;
  assert.throws(() => resolveOptions({ path: long }), { name: 'ConfigError', message: 'path (MONITOR_PATH) is too long for a Unix socket (120 bytes; at most 107, its directory at most 92); choose a shorter path' });
  // The socket is created in a private directory beside its place first, which must fit as well.
  assert.throws(() => resolveOptions({ consolePath: `/tmp/${'d'.repeat(90)}/c` }), { name: 'ConfigError', message: /^consolePath \(CONSOLE_PATH\) is too long for a Unix socket \(97 bytes; at most 107, its directory at most 92\)/ });
});

test('a token no client can type is refused in one line', () => {
  for (const token of ['sec\nret', 'secret\r', 'nul\0', 'esc\x1b[0m', 'del\x7f']) {
    assert.throws(() => resolveOptions({ token }), { name: 'ConfigError', message: 'token (MONITOR_TOKEN) contains a control character (a line break, NUL, ESC...) that no client can type; use printable characters only' }, JSON.stringify(token));
  }
  assert.equal(resolveOptions({ token: 'tab\tand spaces ü' }).token, 'tab\tand spaces ü');
  assert.throws(() => resolveOptions({ token: 'x'.repeat(1025) }), { name: 'ConfigError', message: /^token \(MONITOR_TOKEN\) is longer than 1024 bytes/ });
});
