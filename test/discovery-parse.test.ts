import test from 'node:test';
import assert from 'node:assert/strict';
import { isNodeCommand, parseBootTime, parseCmdline, parseStat, scriptOf } from '../src/client/node-processes';
import { formatList, monitoredEntry, shorten, stateCell, unmonitoredEntry, type ListEntry } from '../src/client/list';
import { movedLine, type Placement } from '../src/protocol/listen';
import type { Endpoint } from '../src/shared/config';
import type { MonitorRecord } from '../src/shared/discovery';

test('/proc/PID/stat: the parent and the start time, whatever the command name holds', () => {
  const rows: [string, ReturnType<typeof parseStat>][] = [
    ['4242 (node) S 17 4242 17 0 -1 4194560 2000 0 0 0 10 3 0 0 20 0 11 0 309202 1000000 5000 18446744073709551615\n', { ppid: 17, startTicks: 309202 }],
    ['77 (my (odd) app) R 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 55 0 0 0', { ppid: 1, startTicks: 55 }],
    ['9 (a b) S 3', null],
    ['garbage', null],
    ['', null],
  ];
  for (const [text, expected] of rows) assert.deepEqual(parseStat(text), expected, JSON.stringify(text));
});

test('/proc/PID/cmdline and /proc/stat', () => {
  assert.deepEqual(parseCmdline('node\0app.js\0--port\0\0'), ['node', 'app.js', '--port', '']);
  assert.deepEqual(parseCmdline('node\0-e\0x'), ['node', '-e', 'x']);
  assert.deepEqual(parseCmdline(''), []);
  assert.equal(parseBootTime('cpu  1 2 3\nintr 5\nbtime 1796000000\nprocesses 9\n'), 1796000000);
  assert.equal(parseBootTime('cpu 1 2 3\n'), null);
});

test('which processes are Node', () => {
  const rows: [string | null, string | undefined, boolean][] = [
    ['/usr/bin/node', 'node', true],
    ['/home/u/.nvm/versions/node/v22.1.0/bin/node', 'npm exec tsc', true],
    ['/usr/bin/nodejs', undefined, true],
    ['/opt/node22', 'x', true],
    ['/usr/bin/node (deleted)', 'node', true],
    [null, '/usr/local/bin/node', true],
    [null, 'node', true],
    ['/usr/bin/python3', 'python3', false],
    ['/usr/bin/nodemon', 'nodemon', false],
    [null, undefined, false],
  ];
  for (const [exe, argv0, expected] of rows) assert.equal(isNodeCommand(exe, argv0), expected, `${exe} ${argv0}`);
});

test('what a Node command line runs', () => {
  const rows: [string[], string[]][] = [
    [['node', 'app.js', 'a', '-b'], ['app.js', 'a', '-b']],
    [['/usr/bin/node', '-r', '/x/register.js', '--inspect', 'server.mjs', '--port', '8'], ['server.mjs', '--port', '8']],
    [['node', '--require=x', '--import', 'tsx', 'a.ts'], ['a.ts']],
    [['node', '-e', 'for(;;);', 'x'], ['-e', 'x']],
    [['node', '--', '-weird.js'], ['-weird.js']],
    [['node'], []],
    [['node', '--inspect'], []],
    [['npm exec tsc --noEmit', '', '', ''], ['npm', 'exec', 'tsc', '--noEmit']],
  ];
  for (const [argv, expected] of rows) assert.deepEqual(scriptOf(argv), expected, JSON.stringify(argv));
});

test('command lines are shortened for the table', () => {
  const rows: [string[], number, string][] = [
    [['app.js', 'a'], 48, 'app.js a'],
    [['/home/u/app.js'], 48, '~/app.js'],
    [['a b.js', ''], 48, '"a b.js" ""'],
    [[], 48, '-'],
    [['0123456789', 'abcdefghij'], 12, '0123456789 …'],
  ];
  for (const [words, width, expected] of rows) assert.equal(shorten(words, width, '/home/u'), expected);
});

const RECORD: MonitorRecord = {
  version: 1, pid: 4242, ppid: 1, script: '/srv/app.js', argv: ['--x'], cwd: '/srv', node: 'v22.1.0', startedAt: 1_000_000, procStart: 5,
  monitor: { host: '127.0.0.1', port: 50101 }, console: { path: '/run/c.sock' }, web: { host: '127.0.0.1', port: 50103 }, tokenRequired: true,
};

test('entries: what a monitor said, or why it said nothing, and processes without one', () => {
  const idle = monitoredEntry(RECORD, { status: { state: 'idle', stalledMs: 3, pid: 4242, uptimeMs: 9000, blocks: 0 } }, 1_009_000);
  assert.deepEqual(idle, {
    pid: 4242, ppid: 1, runs: ['/srv/app.js', '--x'], cwd: '/srv', node: 'v22.1.0', monitor: '127.0.0.1:50101', console: '/run/c.sock',
    web: 'http://127.0.0.1:50103/', uptimeMs: 9000, state: 'idle', status: { state: 'idle', stalledMs: 3, pid: 4242, uptimeMs: 9000, blocks: 0 }, attach: null,
  });
  const locked = monitoredEntry({ ...RECORD, script: null, argv: ['a'] }, { failure: 'token needed' }, 1_000_000);
  assert.equal(locked.state, 'token needed');
  assert.deepEqual(locked.runs, ['-e', 'a']);
  const blocked = monitoredEntry(RECORD, { status: { state: 'blocked', stalledMs: 3250, blockedForMs: 3200, where: 'spin (/srv/app.js:3:5)', pid: 4242, uptimeMs: 9000, blocks: 0 } }, 1_009_000);
  const plain = unmonitoredEntry({ pid: 77, ppid: 1, argv: ['node', 'x.js'], exe: '/usr/bin/node', startedAt: 1_000_000, procStart: 9 }, 1_002_000);
  assert.deepEqual(plain, { pid: 77, ppid: 1, runs: ['x.js'], cwd: null, node: null, monitor: null, console: null, web: null, uptimeMs: 2000, state: 'no monitor', status: null, attach: 'aiomon attach 77' });
  const rows: [ListEntry, string][] = [[idle, 'idle'], [locked, 'token needed'], [blocked, 'blocked 3.2 s'], [plain, 'no monitor (aiomon attach 77)']];
  for (const [entry, cell] of rows) assert.equal(stateCell(entry), cell);
  assert.equal(formatList([plain, idle]), [
    'PID   RUNS             MONITOR          UPTIME  STATE',
    '77    x.js             -                2.0 s   no monitor (aiomon attach 77)',
    '4242  /srv/app.js --x  127.0.0.1:50101  9.0 s   idle',
  ].join('\n'));
  assert.equal(formatList([]), 'No Node processes of this user are running.');
});

test('the line a monitor prints when a default port was taken', () => {
  const at = (port: number) => ({ host: '127.0.0.1', port });
  const prompt = (wanted: Endpoint | null, actual: Endpoint | null): Placement => ({ name: 'prompt', wanted, actual });
  const console = (wanted: Endpoint | null, actual: Endpoint | null): Placement => ({ name: 'console', wanted, actual });
  const web = (wanted: Endpoint | null, actual: Endpoint | null): Placement => ({ name: 'web page', wanted, actual });
  const rows: [Parameters<typeof movedLine>, string | undefined][] = [
    [[prompt(at(50101), at(50101)), console(at(50102), at(50102)), web(at(50103), at(50103))], undefined],
    [[prompt(at(0), at(4000)), console(at(0), at(4001)), web(at(0), at(4002))], undefined],
    [[prompt({ path: '/s' }, { path: '/s' }), console(null, null), web(null, null)], undefined],
    [[prompt(at(50101), at(40321)), console(null, null)], 'aiomonitor: port 50101 is taken (by another monitor?); this one listens on 127.0.0.1:40321 — find it with aiomon'],
    [[prompt(at(50101), at(40321)), console(at(50102), at(40322))], 'aiomonitor: ports 50101 and 50102 are taken (by another monitor?); this one listens on 127.0.0.1:40321 (console 127.0.0.1:40322) — find it with aiomon'],
    [[prompt(at(50101), at(50101)), console(at(50102), at(40322))], 'aiomonitor: port 50102 is taken (by another monitor?); this one\'s console listens on 127.0.0.1:40322 — find it with aiomon'],
    [[prompt(at(50101), at(40321)), console(at(50102), at(40322)), web(at(50103), at(40323))], 'aiomonitor: ports 50101, 50102 and 50103 are taken (by another monitor?); this one listens on 127.0.0.1:40321 (console 127.0.0.1:40322, web page 127.0.0.1:40323) — find it with aiomon'],
    [[prompt(at(50101), at(50101)), console(at(50102), at(40322)), web(at(50103), at(40323))], 'aiomonitor: ports 50102 and 50103 are taken (by another monitor?); this one\'s console listens on 127.0.0.1:40322, its web page on 127.0.0.1:40323 — find it with aiomon'],
  ];
  for (const [args, expected] of rows) assert.equal(movedLine(...args), expected, JSON.stringify(args));
});
