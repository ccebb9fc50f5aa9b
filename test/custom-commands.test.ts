import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { COMMANDS } from '../src/commands';
import { BUILTIN_NAMES } from '../src/shared/command-spec';
import { defineCommand } from '../src/main/index';
import { attach, connect, ROOT, SHORT_DEADLINE_MS, startApp, waitFor, type App, type Client } from './helpers';

const APP = `
const { defineCommand } = require(${JSON.stringify(ROOT)});

defineCommand({
  name: 'greet',
  aliases: ['hello'],
  description: 'Greet someone by name',
  args: ['NAME'],
  options: {
    shout: { type: 'boolean', alias: 's', description: 'in capitals' },
    greeting: { type: 'string', value: 'WORD', description: 'the word to greet with' },
  },
}, ({ args: [name], flags }) => {
  const text = (flags.greeting ?? 'hello') + ', ' + name;
  return flags.shout ? text.toUpperCase() : text;
});

// Twice the monitor's deadline (SHORT_DEADLINE_MS), and longer than that deadline with its grace for the refusal.
defineCommand({ name: 'queue-stats', description: 'Show the job queue after checking it for ${(2 * SHORT_DEADLINE_MS) / 1000} s' },
  () => new Promise((resolve) => setTimeout(() => resolve({ waiting: 3, workers: new Set(['a', 'b']), big: 10n }), ${2 * SHORT_DEADLINE_MS})));

defineCommand({ name: 'flush', description: 'Flush the cache' }, async () => {
  throw new Error('cache server is down\\nsecond line of the message');
});

defineCommand({ name: 'hang', description: 'Never answers unless stopped' }, ({ signal }) => {
  console.log('hang started');
  signal.addEventListener('abort', () => console.log('hang stopped: ' + signal.reason.message));
  return new Promise(() => {});
});

const remove = defineCommand({ name: 'once', description: 'Works one time' }, () => { remove(); return 'gone now'; });

try {
  defineCommand({ name: 'ps', description: 'My own ps' }, () => 'mine');
} catch (error) {
  console.log('refused: ' + error.message);
}

setInterval(() => {}, 1000);
console.log('ready');
`;

describe('custom commands', () => {
  let app: App;
  let client: Client;

  before(async () => {
    app = await startApp(APP, { deadlineMs: SHORT_DEADLINE_MS });
    await app.waitForOutput('ready');
    client = await connect(app.port);
  });
  after(() => {
    client?.socket.destroy();
    app?.kill();
  });

  test('help lists them with their descriptions under their own heading', async () => {
    const out = await client.command('help');
    assert.match(out, /Custom commands of this app:\r\n  greet, hello\s+Greet someone by name\r\n/);
    assert.match(out, /queue-stats\s+Show the job queue/);
    assert.ok(out.indexOf('exit, q, quit') < out.indexOf('Custom commands'), out);
  });

  test('NAME --help and help NAME show the usage, --json included', async () => {
    const usage = await client.command('greet --help');
    assert.match(usage, /Usage: greet \[-s\] \[--greeting WORD\] \[--json\] NAME/);
    assert.match(usage, /-s, --shout\s+in capitals/);
    assert.match(usage, /Aliases: hello/);
    assert.match(await client.command('help hello'), /Usage: greet /);
  });

  test('a call prints the text the handler returns, with its arguments and options', async () => {
    assert.equal(await client.command('greet bob'), 'hello, bob\r\n');
    assert.equal(await client.command('hello -s --greeting hi bob'), 'HI, BOB\r\n');
  });

  test('a missing argument or an unknown option gets the usual usage error', async () => {
    assert.equal(await client.command('greet'), '✗ greet: missing NAME; usage: greet [-s] [--greeting WORD] [--json] NAME\r\n');
    assert.match(await client.command('greet bob --loud'), /^✗ greet: unknown option --loud; usage: /);
  });

  test('an async handler that takes longer than the deadline for starting still answers', async () => {
    const out = await client.command('queue-stats');
    assert.match(out, /waiting: 3/);
    assert.match(out, /workers: Set\(2\) \{ 'a', 'b' \}/);
  });

  test('--json prints one line that JSON.parse reads', async () => {
    const [line, ...rest] = (await client.command('greet bob --json')).split('\r\n');
    assert.equal(JSON.parse(line), 'hello, bob');
    assert.deepEqual(rest, ['']);
    const stats = (await client.command('queue-stats --json')).split('\r\n');
    assert.deepEqual(JSON.parse(stats[0]), { waiting: 3, workers: ['a', 'b'], big: '10' });
    assert.equal(stats.length, 2);
  });

  test('a throwing handler gives one ✗ line and the session goes on', async () => {
    assert.equal(await client.command('flush'), '✗ flush failed: cache server is down\r\n');
    assert.equal(await client.command('greet ann'), 'hello, ann\r\n');
  });

  test('Ctrl-C stops waiting for a handler that never answers, and aborts its signal', async () => {
    const from = client.received().length;
    client.send('hang\r\n');
    await app.waitForOutput('hang started');
    client.send(Buffer.from([3]));
    const out = await client.until('monitor >>> ', from);
    assert.equal(out, "✗ stopped waiting for hang; its handler's signal is aborted, so it stops if it watches it\r\nmonitor >>> ");
    await app.waitForOutput('hang stopped: the monitor session stopped waiting for it (Ctrl-C, or it left)');
    assert.equal(await client.command('greet ann'), 'hello, ann\r\n');
  });

  test('defining a built-in name throws at definition time', () => {
    assert.match(app.stdout(), /^refused: defineCommand: "ps" is a built-in command of the monitor; choose another name$/m);
    assert.doesNotMatch(app.stdout(), /mine/);
  });

  test('the function defineCommand returns removes the command', async () => {
    assert.equal(await client.command('once'), 'gone now\r\n');
    assert.match(await client.command('once'), /^✗ unknown command "once"; type help for the list/);
    assert.doesNotMatch(await client.command('help'), /Works one time/);
  });
});

test('a copy of the package the app requires shares the preload\'s commands', async (t) => {
  // The app's own installed copy, as in node_modules, beside the preload's copy.
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-copy-'));
  t.after(() => fs.rmSync(copy, { recursive: true, force: true }));
  fs.cpSync(path.join(ROOT, 'dist', 'src'), path.join(copy, 'dist', 'src'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(copy, 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  const { client } = await attach(t, `
    const { defineCommand } = require(${JSON.stringify(copy)});
    const preloaded = Object.keys(require.cache).some((file) => file.startsWith(${JSON.stringify(path.join(ROOT, 'dist'))}));
    defineCommand({ name: 'uptime', description: 'How long the app has run' }, () => 'up, preload loaded separately: ' + preloaded);
    setInterval(() => {}, 1000);
    console.log('ready');
  `);
  // Typed again until listed: one busy CI run on Node 22 listed no custom command the first time, for a reason
  // not yet found (the read answered an empty list); the command must still show within WAIT_MS.
  let help = '';
  await waitFor(async () => /uptime\s+How long the app has run/.test(help = await client.command('help')), () => `help to list uptime; it printed: ${help}`);
  assert.equal(await client.command('uptime'), 'up, preload loaded separately: true\r\n');
});

test('while the loop is blocked, help still lists custom commands and a call is withdrawn', async (t) => {
  const release = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-release-')), 'release');
  t.after(() => fs.rmSync(path.dirname(release), { recursive: true, force: true }));
  const { client } = await attach(t, `
    const fs = require('node:fs');
    const { defineCommand } = require(${JSON.stringify(ROOT)});
    defineCommand({ name: 'freeze', description: 'Block the event loop until released' }, () => {
      setTimeout(function spinUntilReleased() { while (!fs.existsSync(process.env.RELEASE_FILE)); }, 0);
      return 'freezing';
    });
    setInterval(() => {}, 1000);
    console.log('ready');
  `, { env: { RELEASE_FILE: release }, deadlineMs: SHORT_DEADLINE_MS });
  assert.equal(await client.command('freeze'), 'freezing\r\n');
  assert.match(await client.commandUntil('st', /blocked for[^]*spinUntilReleased/), /at spinUntilReleased/);

  assert.match(await client.command('help'), /freeze\s+Block the event loop until released/);
  assert.match(await client.command('freeze --help'), /Usage: freeze \[--json\]/);
  assert.match(await client.command('freeze'), /^✗ the main thread has been busy for \d+ ms, so freeze was withdrawn and nothing was changed; stacktrace shows what it is doing\r\n$/);

  fs.writeFileSync(release, '');
  await client.commandUntil('st', /The event loop is idle/);
});

describe('defineCommand checks the definition at once', () => {
  test('every built-in name and alias is reserved', () => {
    const names = COMMANDS.flatMap((cmd) => [cmd.name, ...cmd.aliases]);
    assert.deepEqual([...BUILTIN_NAMES].sort(), names.sort());
  });

  test('a wrong definition throws a one-line TypeError that says what to do', () => {
    const handler = (): string => 'x';
    const cases: [unknown, unknown, RegExp][] = [
      [{ name: 'Flush Cache', description: 'd' }, handler, /name "Flush Cache" must be a lowercase word/],
      [{ name: 'tools', aliases: ['q'], description: 'd' }, handler, /"q" is a built-in command of the monitor; choose another alias/],
      [{ name: 'tools' }, handler, /the description of tools must be one line of text/],
      [{ name: 'tools', description: 'd' }, 'not a function', /the handler of tools must be a function/],
      [{ name: 'tools', description: 'd', args: ['[A]', 'B'] }, handler, /required argument B of tools comes after an optional one/],
      [{ name: 'tools', description: 'd', options: { json: { type: 'boolean', description: 'd' } } }, handler, /--json is given to every command by the monitor/],
      [{ name: 'tools', description: 'd', options: { all: { type: 'number', description: 'd' } } }, handler, /type must be 'string' or 'boolean'/],
      [{ name: 'tools', description: 'd', options: { all: { type: 'boolean', alias: 'h', description: 'd' } } }, handler, /alias must be one letter other than h/],
      [{ name: 'tools', description: 'd', options: { all: { type: 'boolean' } } }, handler, /the description of option --all of tools must be one line/],
    ];
    for (const [definition, fn, message] of cases) {
      assert.throws(() => defineCommand(definition as never, fn as never), (error: Error) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, /^defineCommand: /);
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /\n/);
        return true;
      });
    }
  });

  test('a name taken by another custom command is refused; the same name is replaced', (t) => {
    const removeFirst = defineCommand({ name: 'report', aliases: ['rep'], description: 'first' }, () => 'first');
    t.after(removeFirst);
    assert.throws(() => defineCommand({ name: 'rep', description: 'other' }, () => ''), /"rep" is already taken by the custom command report/);
    const removeSecond = defineCommand({ name: 'report', description: 'second' }, () => 'second');
    removeFirst(); // a removed definition that was replaced leaves the new one alone
    assert.doesNotThrow(() => defineCommand({ name: 'rep', description: 'now free' }, () => '')());
    removeSecond();
  });
});
