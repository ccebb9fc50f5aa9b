import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientArgs, quoteWord, type ParsedClient, type Target } from '../src/client/args';

const fail = (message: string, showUsage?: true): ParsedClient => ({ kind: 'error', message: `aiomon: ${message}`, exitCode: 2, ...(showUsage && { showUsage }) });
const pid = (value: number): Target => ({ kind: 'pid', pid: value });
const tcp = (host: string, port: number): Target => ({ kind: 'endpoint', endpoint: { host, port } });
const file = (path: string): Target => ({ kind: 'endpoint', endpoint: { path } });
const NOT_TARGET = "is not a target: give a pid, :PORT, HOST:PORT, [IPv6]:PORT or a socket file path (with a '/'); see aiomon --help";

const rows: Array<[string[], ParsedClient]> = [
  [[], { kind: 'list', json: false }],
  [['--json'], { kind: 'list', json: true }],
  [['ls'], { kind: 'list', json: false }],
  [['ls', '--json'], { kind: 'list', json: true }],
  [['--json', 'ls'], { kind: 'list', json: true }],
  [['ls', 'x'], fail('ls takes no arguments, got "x"; see aiomon --help')],
  [['ls', '--all'], fail('unknown option --all for ls; see aiomon --help')],
  [['--help'], { kind: 'help' }],
  [['-h', '1234'], { kind: 'help' }],
  [['--version'], { kind: 'version' }],
  [['--frob'], fail('unknown option --frob; see aiomon --help')],
  [['-x', '1234'], fail('unknown option -x; see aiomon --help')],
  [['1234'], { kind: 'prompt', target: pid(1234) }],
  [[':50101'], { kind: 'prompt', target: tcp('127.0.0.1', 50101) }],
  [['localhost:50101'], { kind: 'prompt', target: tcp('localhost', 50101) }],
  [['10.0.0.5:7'], { kind: 'prompt', target: tcp('10.0.0.5', 7) }],
  [['[::1]:50101'], { kind: 'prompt', target: tcp('::1', 50101) }],
  [['/run/app/mon.sock'], { kind: 'prompt', target: file('/run/app/mon.sock') }],
  [['./mon.sock'], { kind: 'prompt', target: file('./mon.sock') }],
  [['::1:50101'], fail(`"::1:50101" ${NOT_TARGET}`)],
  [['mon.sock'], fail(`"mon.sock" ${NOT_TARGET}`)],
  [['0'], fail(`"0" ${NOT_TARGET}`)],
  [[':0'], fail('":0": "0" is not a port number from 1 to 65535; see aiomon --help')],
  [[':65536'], fail('":65536": "65536" is not a port number from 1 to 65535; see aiomon --help')],
  [['host:'], fail('"host:": "" is not a port number from 1 to 65535; see aiomon --help')],
  [['[]:5'], fail('"[]:5": "" is not a host name or address; see aiomon --help')],
  [['1234', 'console'], { kind: 'console', target: pid(1234) }],
  [[':5000', 'console'], { kind: 'console', target: tcp('127.0.0.1', 5000) }],
  // Everything after the target is the command line, its options included.
  [['1234', 'ps', '--json'], { kind: 'command', target: pid(1234), line: 'ps --json' }],
  [[':5000', 'ps', '-f', 'GET /users', '-n', '5'], { kind: 'command', target: tcp('127.0.0.1', 5000), line: 'ps -f "GET /users" -n 5' }],
  [['1234', 'console', '--help'], { kind: 'command', target: pid(1234), line: 'console --help' }],
  [['1234', '--help'], { kind: 'command', target: pid(1234), line: '--help' }],
  [['1234', 'ls'], { kind: 'command', target: pid(1234), line: 'ls' }],
  [['1234', 'ps', '--json', '--version'], { kind: 'command', target: pid(1234), line: 'ps --json --version' }],
  [['--json', '1234'], fail('--json goes with ls, or after the command: aiomon TARGET ps --json')],
  [['attach', '1234'], { kind: 'attach', pid: 1234 }],
  [['attach', '1234', '--port', '50200'], { kind: 'attach', pid: 1234, port: 50200 }],
  [['attach', '--port=0', '1234'], { kind: 'attach', pid: 1234, port: 0 }],
  [['attach'], fail('attach needs the PID of the process to attach to', true)],
  [['attach', 'x'], fail('attach: "x" is not a process ID')],
  [['attach', '1', '2'], fail('attach takes one PID, got also "2"; see aiomon --help')],
  [['attach', '1234', '--port', 'abc'], fail('attach --port: MONITOR_PORT="abc" is not a port number from 0 to 65535 (0 picks a free port); fix it or unset it')],
  [['attach', '1234', '--port'], fail('attach --port needs a value')],
  [['attach', '1234', '--host', 'x'], fail('unknown option --host for attach; see aiomon --help')],
];

for (const [argv, expected] of rows) {
  test(`parseClientArgs ${JSON.stringify(argv)}`, () => {
    assert.deepEqual(parseClientArgs(argv), expected);
  });
}

const quotes: Array<[string, string]> = [
  ['ps', 'ps'],
  ['GET /users', '"GET /users"'],
  ['say "hi"', `'say "hi"'`],
  ['', '""'],
  ["it's", `"it's"`],
];

for (const [word, expected] of quotes) {
  test(`quoteWord ${JSON.stringify(word)}`, () => {
    assert.equal(quoteWord(word), expected);
  });
}
