import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catalogOf, completeLine, idsOf, type CatalogCommand, type Completion } from '../src/client/completion';
import { splitPrompt } from '../src/client/console';
import { formatHistory, historyPath, parseHistory } from '../src/client/history';
import { outputFailed } from '../src/client/oneshot';
import { typeSecret, type SecretState } from '../src/client/secret';

// As help --json lists them, trimmed to what completion reads.
const COMMANDS: CatalogCommand[] = [
  { name: 'help', aliases: ['?', 'h'], options: [{ name: 'json', alias: null, takesValue: false }], args: ['[CMD]'], idsFrom: null, description: '' },
  {
    name: 'ps',
    aliases: ['p'],
    options: [
      { name: 'filter', alias: 'f', takesValue: true },
      { name: 'all', alias: 'a', takesValue: false },
      { name: 'json', alias: null, takesValue: false },
    ],
    args: [],
    idsFrom: null,
    description: '',
  },
  { name: 'ps-terminated', aliases: ['pt', 'pst'], options: [], args: [], idsFrom: null, description: '' },
  { name: 'profile', aliases: [], options: [], args: ['[SECONDS]', '[PATH]'], idsFrom: null, description: '' },
  { name: 'where', aliases: ['w'], options: [{ name: 'json', alias: null, takesValue: false }], args: ['ID'], idsFrom: 'ps', description: '' },
  { name: 'where-terminated', aliases: ['wt'], options: [], args: ['ID'], idsFrom: 'ps-terminated', description: '' },
  { name: 'greet', aliases: [], options: [], args: ['ID'], idsFrom: null, description: '' },
  { name: 'trace', aliases: [], options: [], args: ['[on|off]'], idsFrom: null, description: '' },
];
const IDS = ['1', '12', '3'];

const done = (word: string, candidates: string[]): Completion => ({ candidates, word, wantsIds: null });
const completions: Array<[string, string[] | undefined, Completion]> = [
  ['', undefined, done('', ['?', 'greet', 'h', 'help', 'p', 'profile', 'ps', 'ps-terminated', 'pst', 'pt', 'trace', 'w', 'where', 'where-terminated', 'wt'])],
  ['p', undefined, done('p', ['p', 'profile', 'ps', 'ps-terminated', 'pst', 'pt'])],
  ['ps-', undefined, done('ps-', ['ps-terminated'])],
  ['  he', undefined, done('he', ['help'])],
  ['x', undefined, done('x', [])],
  ['ps -', undefined, done('-', ['--all', '--filter', '--help', '--json', '-a', '-f', '-h'])],
  ['ps --j', undefined, done('--j', ['--json'])],
  ['P --a', undefined, done('--a', ['--all'])],
  ['ps -f ', undefined, done('', [])],
  ['nope --', undefined, done('--', [])],
  ['where ', undefined, { candidates: [], word: '', wantsIds: 'ps' }],
  ['wt 4', undefined, { candidates: [], word: '4', wantsIds: 'ps-terminated' }],
  // An app's command with an ID argument does not say where its IDs come from.
  ['greet ', undefined, done('', [])],
  ['where ', IDS, done('', ['1', '12', '3'])],
  ['w 1', IDS, done('1', ['1', '12'])],
  ['where --json 1', IDS, done('1', ['1', '12'])],
  ['where 1 ', IDS, done('', [])],
  ['trace ', undefined, done('', ['off', 'on'])],
  ['trace o', undefined, done('o', ['off', 'on'])],
  ['profile ', undefined, done('', [])],
];

for (const [line, ids, expected] of completions) {
  test(`completeLine ${JSON.stringify(line)}${ids ? ' with IDs' : ''}`, () => {
    assert.deepEqual(completeLine(line, COMMANDS, ids), expected);
  });
}

test('idsOf and catalogOf read the JSON documents, and nothing else', () => {
  assert.deepEqual(idsOf('{"command":"ps","version":1,"tasks":[{"id":4},{"id":17}]}\n'), ['4', '17']);
  assert.deepEqual(idsOf('{"command":"blocks","version":1,"blockedNowMs":0,"blocks":[{"id":2}]}\n'), ['2']);
  assert.deepEqual(idsOf('✗ busy\n'), []);
  assert.deepEqual(catalogOf(`{"command":"help","version":1,"commands":${JSON.stringify(COMMANDS)}}\n`), COMMANDS);
  assert.equal(catalogOf('✗ help: unknown option --json; usage: help [CMD]\n'), null);
  assert.equal(catalogOf('{"command":"ps","version":1}\n'), null);
});

const secrets: Array<[SecretState, string, SecretState]> = [
  [{ typed: '', done: null }, 's3', { typed: 's3', done: null }],
  [{ typed: 's3', done: null }, 'c\r', { typed: 's3c', done: 'entered' }],
  [{ typed: '', done: null }, 'ab\x7fc\n', { typed: 'ac', done: 'entered' }],
  [{ typed: '', done: null }, '\x7f\x7f', { typed: '', done: null }],
  [{ typed: 'x', done: null }, '\x03', { typed: '', done: 'cancelled' }],
  [{ typed: 'x', done: null }, '\x04', { typed: '', done: 'cancelled' }],
  [{ typed: '', done: null }, 'a\x1bb\tc', { typed: 'ab\tc', done: null }],
  [{ typed: '', done: null }, 'é€\x7f', { typed: 'é', done: null }],
];

for (const [state, keys, expected] of secrets) {
  test(`typeSecret ${JSON.stringify(state.typed)} + ${JSON.stringify(keys)}`, () => {
    assert.deepEqual(typeSecret(state, keys), expected);
  });
}

test('history files: oldest line first on disk, newest first in readline, capped', () => {
  assert.deepEqual(parseHistory('ps\nmem\n\nloop\n'), ['loop', 'mem', 'ps']);
  assert.deepEqual(parseHistory('a\nb\nc\n', 2), ['c', 'b']);
  assert.equal(formatHistory(['loop', 'mem', 'ps']), 'ps\nmem\nloop\n');
  assert.equal(formatHistory(['c', 'b', 'a'], 2), 'b\nc\n');
  assert.equal(formatHistory([]), '');
  assert.equal(historyPath('history', { XDG_STATE_HOME: '/s', HOME: '/h' }), '/s/aiomonitor/history');
  assert.equal(historyPath('history', { HOME: '/h' }), '/h/.aiomon_history');
  assert.equal(historyPath('console-history', { HOME: '/h' }), '/h/.aiomon_console_history');
});

test('a command failed when a line of its output starts with ✗', () => {
  assert.equal(outputFailed('✗ no task 9\n'), true);
  assert.equal(outputFailed('1 task\n✗ the app\'s custom commands cannot be listed now\n'), true);
  assert.equal(outputFailed('name ✗ inside\n'), false);
  assert.equal(outputFailed(''), false);
});

test('splitPrompt keeps the line the console leaves open apart', () => {
  assert.deepEqual(splitPrompt('2\r\n> '.replace(/\r\n/g, '\n')), { lines: '2\n', open: '> ' });
  assert.deepEqual(splitPrompt('banner\n'), { lines: 'banner\n', open: '' });
  assert.deepEqual(splitPrompt('> '), { lines: '', open: '> ' });
});
