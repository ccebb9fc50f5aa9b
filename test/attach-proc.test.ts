import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  disablesSigusr1, inspectorAddressOf, nodeOptionsFromEnviron, nodeOptionsOf, opensInspector, parseListeningSockets,
  parseSignalDisposition, parseUid, socketInode,
} from '../src/client/attach-proc';
import { connectHost, parseTargetList } from '../src/client/inspector-client';
import { formatPausedStack } from '../src/client/paused-stack';

// As the kernel writes them (columns after the inode cut short): a listener on 127.0.0.1:33017, one on
// 0.0.0.0:2024, an established connection, and a line too short to be one.
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:80F9 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 133640 1 00000000da255dc3 100 0 0 10 0
   1: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 47 1 0000000066ee35be 100 0 0 10 0
   2: 0100007F:C350 0100007F:9C4E 01 00000000:00000000 00:00000000 00000000     0        0 150001 1 0000000000000000 20 4 30 10 -1
   3: garbage
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:2474 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 157735 1 0000000096612831 100 0 0 10 0
   1: 00000000000000000000000001000000:2473 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 157734 1 00000000c0f3f18f 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:2475 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 157736 1 00000000c0f3f18f 100 0 0 10 0
`;

test('listening sockets from /proc/net/tcp and tcp6', () => {
  const rows: Array<[string, ReturnType<typeof parseListeningSockets>]> = [
    [TCP, [{ inode: 133640, host: '127.0.0.1', port: 33017 }, { inode: 47, host: '0.0.0.0', port: 2024 }]],
    [TCP6, [{ inode: 157735, host: '::', port: 9332 }, { inode: 157734, host: '::1', port: 9331 }, { inode: 157736, host: '::ffff:7f00:1', port: 9333 }]],
    ['', []],
    [TCP.split('\n')[0]!, []],
  ];
  for (const [text, expected] of rows) assert.deepEqual(parseListeningSockets(text), expected);
});

test('socket inodes from /proc/PID/fd links', () => {
  const rows: Array<[string, number | null]> = [
    ['socket:[133640]', 133640],
    ['pipe:[1234]', null],
    ['/dev/null', null],
    ['socket:[]', null],
    ['anon_inode:[eventpoll]', null],
  ];
  for (const [link, expected] of rows) assert.equal(socketInode(link), expected, link);
});

const status = (blk: string, ign: string, cgt: string): string => `Name:\tnode\nUid:\t1000\t1000\t1000\t1000\nSigQ:\t0/96362\nSigPnd:\t0000000000000000\nSigBlk:\t${blk}\nSigIgn:\t${ign}\nSigCgt:\t${cgt}\n`;

test('how a process handles SIGUSR1 (10), from /proc/PID/status', () => {
  const rows: Array<[string, ReturnType<typeof parseSignalDisposition>]> = [
    // Node's own handler (as seen on Node 20, 22, 24).
    [status('0000000000000000', '0000000001001000', '0000000100004602'), { caught: true, ignored: false, blocked: false }],
    // --disable-sigusr1 on Node 22 and 24: blocked in every thread, not caught.
    [status('0000000000000200', '0000000001001000', '0000000100004402'), { caught: false, ignored: false, blocked: true }],
    [status('0000000000000000', '0000000000000200', '0000000000000000'), { caught: false, ignored: true, blocked: false }],
    ['Name:\tnode\n', null],
  ];
  for (const [text, expected] of rows) assert.deepEqual(parseSignalDisposition(text, 10), expected);
  assert.equal(parseUid(status('0', '0', '0')), 1000);
  assert.equal(parseUid('Name:\tx\n'), null);
});

test("Node's own options on a command line", () => {
  const rows: Array<[string[], string[]]> = [
    [['node', 'app.js', '--inspect'], []],
    [['node', '--inspect-port=0', 'app.js'], ['--inspect-port=0']],
    [['node', '-r', 'x', '--inspect-port', '9230', 'app.js', '--port', '1'], ['-r', 'x', '--inspect-port', '9230']],
    [['node', '-e', 'setInterval(() => {}, 1000)', '--inspect'], ['-e']],
    [['node', '--', 'app.js'], []],
    [['node'], []],
  ];
  for (const [argv, expected] of rows) assert.deepEqual(nodeOptionsOf(argv), expected, argv.join(' '));
});

test('where the inspector listens once opened, and what the flags turn on or off', () => {
  const rows: Array<[string[], { host: string; port: number }]> = [
    [[], { host: '127.0.0.1', port: 9229 }],
    [['--inspect-port=0'], { host: '127.0.0.1', port: 0 }],
    [['--inspect-port', '9230'], { host: '127.0.0.1', port: 9230 }],
    [['--inspect=0.0.0.0:9231'], { host: '0.0.0.0', port: 9231 }],
    [['--inspect=[::1]:9232'], { host: '::1', port: 9232 }],
    [['--inspect-brk=localhost'], { host: 'localhost', port: 9229 }],
    [['--debug-port=9233', '--inspect-port=9234'], { host: '127.0.0.1', port: 9234 }],
    [['--import', 'x', '--require=y'], { host: '127.0.0.1', port: 9229 }],
  ];
  for (const [options, expected] of rows) assert.deepEqual(inspectorAddressOf(options), expected, options.join(' '));
  assert.equal(disablesSigusr1(['--max-old-space-size=64', '--disable-sigusr1']), true);
  assert.equal(disablesSigusr1(['--inspect']), false);
  for (const [options, expected] of [[['--inspect'], true], [['--inspect-brk=0'], true], [['--inspect-wait'], true], [['--inspect-port=0'], false], [[], false]] as const) {
    assert.equal(opensInspector([...options]), expected, options.join(' '));
  }
});

test('NODE_OPTIONS from /proc/PID/environ', () => {
  const rows: Array<[string, string[]]> = [
    ['HOME=/root\0NODE_OPTIONS=--disable-sigusr1 --max-old-space-size=64\0PATH=/bin\0', ['--disable-sigusr1', '--max-old-space-size=64']],
    ['NODE_OPTIONS=--require "a b.js"  --inspect-port=0\0', ['--require', 'a b.js', '--inspect-port=0']],
    ['NODE_OPTIONS=\0', []],
    ['PATH=/bin\0', []],
    ['', []],
  ];
  for (const [environ, expected] of rows) assert.deepEqual(nodeOptionsFromEnviron(environ), expected, environ);
});

test("the inspector's target list, and the host a wildcard address is reached at", () => {
  const list = JSON.stringify([{ id: 'x', type: 'node', webSocketDebuggerUrl: 'ws://localhost:9229/0d41-36' }]);
  const rows: Array<[string, string, number, string | null]> = [
    [list, '127.0.0.1', 9229, 'ws://127.0.0.1:9229/0d41-36'],
    [list, '::1', 9230, 'ws://[::1]:9230/0d41-36'],
    ['[]', '127.0.0.1', 9229, null],
    ['{"webSocketDebuggerUrl":"ws://x/y"}', '127.0.0.1', 9229, null],
    ['<html>not found</html>', '127.0.0.1', 80, null],
    ['[{"webSocketDebuggerUrl":3}]', '127.0.0.1', 80, null],
  ];
  for (const [body, host, port, expected] of rows) assert.equal(parseTargetList(body, host, port), expected, body);
  assert.deepEqual(['0.0.0.0', '::', '127.0.0.1', '::1'].map(connectHost), ['127.0.0.1', '::1', '127.0.0.1', '::1']);
});

test('the stack of a paused main thread', () => {
  const scripts = new Map([['7', 'file:///srv/app%20one/main.mjs'], ['8', 'node:internal/timers']]);
  const rows: Array<[unknown, string[]]> = [
    [
      [
        { functionName: 'spin', url: '', location: { scriptId: '7', lineNumber: 1, columnNumber: 25 } },
        { functionName: '', url: '', location: { scriptId: '8', lineNumber: 580, columnNumber: 16 } },
        { functionName: 'old', url: '/srv/old.js', location: { scriptId: '9', lineNumber: 0, columnNumber: 0 } },
        { functionName: 'lost', location: { scriptId: '10', lineNumber: 4, columnNumber: 2 } },
      ],
      ['  at spin (/srv/app one/main.mjs:2:26)', '  at <anonymous> (node:internal/timers:581:17)', '  at old (/srv/old.js:1:1)', '  at lost (<unknown>:5:3)'],
    ],
    [[], ['(the main thread paused with no JavaScript on its stack)']],
    [undefined, ['(the main thread paused with no JavaScript on its stack)']],
  ];
  for (const [frames, expected] of rows) assert.deepEqual(formatPausedStack(frames, scripts), expected);
});
