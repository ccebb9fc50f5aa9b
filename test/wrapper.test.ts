import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { shouldRelay, signalExitCode } from '../src/wrapper/run';
import { alive } from './helpers';
import { BIN, ROOT, killAll, lineMatching, start, testEnv } from './wrapper-helpers';

const RUN_JS = path.join(ROOT, 'dist', 'src', 'wrapper', 'run.js');
const REGISTER = path.join(ROOT, 'dist', 'register.js');
const TIMEOUT = { timeout: 20_000 };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiomon-run-'));
after(() => {
  killAll();
  fs.rmSync(dir, { recursive: true, force: true });
});

// Scripts report on a line of their own because the preloaded monitor may print too.
const REPORT = `console.log('REPORT ' + JSON.stringify({ argv: process.argv.slice(2), execArgv: process.execArgv,
  host: process.env.MONITOR_HOST, console: process.env.CONSOLE_ENABLED, nodeOptions: process.env.NODE_OPTIONS }));`;
const WAIT = `console.log('ready ' + process.pid); setInterval(() => {}, 1000);`;
const scripts: Record<string, string> = {
  'report.cjs': `${REPORT} process.exit(0);`,
  'seven.js': 'process.exit(7);',
  'esm.mjs': `console.log('esm ' + typeof import.meta.url + ' ' + JSON.stringify(process.execArgv)); process.exit(0);`,
  'wait.js': WAIT,
  'graceful.js': `process.on('SIGTERM', () => process.exit(5)); ${WAIT}`,
  'sigkill.js': `process.kill(process.pid, 'SIGKILL');`,
};
for (const [name, source] of Object.entries(scripts)) fs.writeFileSync(path.join(dir, name), source);

const wrapper = (args: string[], env?: NodeJS.ProcessEnv) => start(process.execPath, [BIN, ...args], dir, env);

test('dist/register.js exists, so the preload can load', () => {
  assert.ok(fs.existsSync(REGISTER), `${REGISTER} is missing; build register.ts first`);
});

test('passes argv untouched, preloads register.js, applies flags and keeps NODE_OPTIONS', TIMEOUT, async () => {
  const scriptArgs = ['--port', '9', '--', '-h', 'a b', '', '5'];
  const env = testEnv({ MONITOR_HOST: 'localhost', NODE_OPTIONS: '--max-old-space-size=256' });
  const { done } = wrapper(['--host', '127.0.0.1', '--no-console', '--', 'report.cjs', ...scriptArgs], env);
  const outcome = await done;
  assert.equal(outcome.code, 0, outcome.stderr);
  const line = outcome.stdout.split('\n').find((l) => l.startsWith('REPORT '));
  assert.ok(line, `no REPORT line in:\n${outcome.stdout}\n${outcome.stderr}`);
  const report = JSON.parse(line.slice('REPORT '.length));
  assert.deepEqual(report.argv, scriptArgs);
  assert.deepEqual(report.execArgv.slice(0, 2), ['--require', REGISTER]);
  assert.equal(report.host, '127.0.0.1');
  assert.equal(report.console, '0');
  assert.equal(report.nodeOptions, '--max-old-space-size=256');
});

test('the exit code of the script becomes the exit code of the wrapper', TIMEOUT, async () => {
  const outcome = await wrapper(['seven.js']).done;
  assert.deepEqual([outcome.code, outcome.signal], [7, null], outcome.stderr);
});

test('runs an .mjs script with the preload', TIMEOUT, async () => {
  const outcome = await wrapper(['esm.mjs']).done;
  assert.equal(outcome.code, 0, outcome.stderr);
  const line = outcome.stdout.split('\n').find((l) => l.startsWith('esm '));
  assert.ok(line, `no esm line in:\n${outcome.stdout}`);
  assert.match(line, /^esm string \[.*"--require",".*register\.js"/);
});

test('a missing script fails with one line', TIMEOUT, async () => {
  const outcome = await wrapper(['nope.js', '--port', '1']).done;
  assert.equal(outcome.code, 1);
  assert.match(outcome.stderr, /^aiomon-run: cannot find script "nope\.js" \(looked for .*nope\.js\); check the path\n$/);
});

test('SIGTERM to the wrapper kills the script and the wrapper dies by SIGTERM', TIMEOUT, async () => {
  const { child, done } = wrapper(['wait.js']);
  const pid = Number((await lineMatching(child, /^ready \d+$/)).split(' ')[1]);
  child.kill('SIGTERM');
  const outcome = await done;
  assert.deepEqual([outcome.code, outcome.signal], [null, 'SIGTERM'], outcome.stderr);
  assert.equal(alive(pid), false, 'the script outlived the wrapper');
});

test('a script that handles SIGTERM decides the exit code', TIMEOUT, async () => {
  const { child, done } = wrapper(['graceful.js']);
  await lineMatching(child, /^ready \d+$/);
  child.kill('SIGTERM');
  const outcome = await done;
  assert.deepEqual([outcome.code, outcome.signal], [5, null], outcome.stderr);
});

test('SIGINT is relayed when stdin is not a terminal', TIMEOUT, async () => {
  const { child, done } = wrapper(['wait.js']);
  await lineMatching(child, /^ready \d+$/);
  child.kill('SIGINT');
  const outcome = await done;
  assert.deepEqual([outcome.code, outcome.signal], [null, 'SIGINT'], outcome.stderr);
});

test('a script killed by a signal the wrapper never saw still ends the wrapper by that signal', TIMEOUT, async () => {
  const outcome = await wrapper(['sigkill.js']).done;
  assert.deepEqual([outcome.code, outcome.signal], [null, 'SIGKILL'], outcome.stderr);
});

test('--help prints usage on stdout and exits 0; --version prints the version', TIMEOUT, async () => {
  const help = await wrapper(['--help']).done;
  assert.deepEqual([help.code, help.stderr], [0, '']);
  assert.match(help.stdout, /^Usage: aiomon-run /);
  const version = await wrapper(['--version']).done;
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.deepEqual([version.code, version.stdout], [0, `${pkg.version}\n`]);
});

test('usage errors exit 2: a bad port with one line, no script with the usage', TIMEOUT, async () => {
  const badPort = await wrapper(['--port', 'abc', 'wait.js']).done;
  assert.equal(badPort.code, 2);
  assert.equal(
    badPort.stderr,
    'aiomon-run: --port: MONITOR_PORT="abc" is not a port number from 0 to 65535 (0 picks a free port); fix it or unset it\n',
  );
  const noScript = await wrapper([]).done;
  assert.equal(noScript.code, 2);
  assert.match(noScript.stderr, /^aiomon-run: missing the script to run\n\nUsage: aiomon-run /);
  assert.equal(noScript.stdout, '');
});

/** Runs runScript() in a fresh node with another executable standing in for node. */
function runWithExecPath(execPath: string) {
  const code = `require(${JSON.stringify(RUN_JS)}).runScript({ script: 'seven.js', args: [], env: process.env,
    registerPath: ${JSON.stringify(REGISTER)}, execPath: ${JSON.stringify(execPath)} });`;
  return start(process.execPath, ['-e', code], dir).done;
}

test('a node that cannot be started fails with one line and exit code 1', TIMEOUT, async () => {
  const outcome = await runWithExecPath('/nonexistent/node');
  assert.equal(outcome.code, 1);
  assert.match(outcome.stderr, /^aiomon-run: cannot start \/nonexistent\/node: spawn \/nonexistent\/node ENOENT; [^\n]*\n$/);
});

test('signals Node does not die from end the wrapper with 128 + n', { ...TIMEOUT, skip: process.platform === 'win32' }, async () => {
  // Node ignores SIGPIPE and turns SIGUSR1 into "start the inspector", so the wrapper cannot copy them by dying.
  for (const [signal, status] of [['PIPE', 141], ['USR1', 138]] as const) {
    const fake = path.join(dir, `die-by-${signal}.sh`);
    fs.writeFileSync(fake, `#!/bin/sh\nkill -${signal} $$\n`, { mode: 0o755 });
    const outcome = await runWithExecPath(fake);
    assert.deepEqual([outcome.code, outcome.signal], [status, null], outcome.stderr);
    assert.doesNotMatch(outcome.stderr, /Debugger listening/);
  }
});

test('the compiled bin is executable on its own', { ...TIMEOUT, skip: process.platform === 'win32' }, async () => {
  assert.ok(fs.statSync(BIN).mode & 0o111, `${BIN} is not executable; the build script should chmod it`);
  const outcome = await start(BIN, ['--version'], dir).done;
  assert.equal(outcome.code, 0, outcome.stderr);
});

test('SIGINT is not relayed from a terminal, where Ctrl-C already reached the script', () => {
  assert.equal(shouldRelay('SIGINT', true), false);
  assert.equal(shouldRelay('SIGINT', false), true);
  assert.equal(shouldRelay('SIGTERM', true), true);
  assert.equal(shouldRelay('SIGHUP', true), true);
});

test('signal exit codes follow the shell convention', () => {
  assert.equal(signalExitCode('SIGTERM'), 143);
  assert.equal(signalExitCode('SIGINT'), 130);
});
