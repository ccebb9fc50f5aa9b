import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, optionsFromEnv, resolveOptions } from '../src/config';

test('the environment maps to options', () => {
  const rows: [NodeJS.ProcessEnv, object][] = [
    [{}, { host: undefined, port: undefined, consolePort: undefined, consoleEnabled: undefined }],
    [{ MONITOR_HOST: '0.0.0.0', MONITOR_PORT: '6000', CONSOLE_PORT: '0' }, { host: '0.0.0.0', port: 6000, consolePort: 0, consoleEnabled: undefined }],
    [{ CONSOLE_ENABLED: 'off' }, { host: undefined, port: undefined, consolePort: undefined, consoleEnabled: false }],
    [{ CONSOLE_ENABLED: 'Yes', MONITOR_PORT: ' ' }, { host: undefined, port: undefined, consolePort: undefined, consoleEnabled: true }],
  ];
  for (const [env, expected] of rows) assert.deepEqual(optionsFromEnv(env), expected, JSON.stringify(env));
});

test('a bad variable is one line naming it', () => {
  const rows: [NodeJS.ProcessEnv, RegExp][] = [
    [{ MONITOR_PORT: 'abc' }, /^MONITOR_PORT="abc" is not a port number; set it to 0-65535/],
    [{ MONITOR_PORT: '65536' }, /^MONITOR_PORT="65536"/],
    [{ CONSOLE_PORT: '-1' }, /^CONSOLE_PORT="-1"/],
    [{ CONSOLE_PORT: '1.5' }, /^CONSOLE_PORT="1.5"/],
    [{ CONSOLE_ENABLED: 'maybe' }, /^CONSOLE_ENABLED="maybe" is not a yes\/no value/],
  ];
  for (const [env, message] of rows) {
    assert.throws(() => optionsFromEnv(env), (error: Error) => error instanceof ConfigError && message.test(error.message) && !error.message.includes('\n'));
  }
});

test('API options get defaults and are checked', () => {
  assert.deepEqual(resolveOptions(), { host: '127.0.0.1', port: 50101, consolePort: 50102, consoleEnabled: true, locals: {} });
  const bad: [object, RegExp][] = [
    [{ port: 'abc' }, /^port must be a port number/],
    [{ port: 70000 }, /^port must be a port number/],
    [{ consolePort: 1.5 }, /^consolePort must be/],
    [{ host: '' }, /^host must be a non-empty string/],
    [{ consoleEnabled: 'no' }, /^consoleEnabled must be true or false/],
    [{ locals: null }, /^locals must be an object/],
  ];
  for (const [options, message] of bad) assert.throws(() => resolveOptions(options), { name: 'ConfigError', message });
});
