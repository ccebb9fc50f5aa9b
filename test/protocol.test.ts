import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { createLineSplitter } from '../src/protocol/lines';
import { readFirstLine, readInput, type FirstLine, type Input } from '../src/protocol/reader';
import { createTelnetDecoder, toCrlf, type Decoded } from '../src/protocol/telnet';

const bytes = (...values: number[]): Buffer => Buffer.from(values);
const dataOf = (decoded: Decoded): Buffer => Buffer.concat(decoded.parts.filter((part): part is Buffer => Buffer.isBuffer(part)));
const eventsOf = (decoded: Decoded): string[] => decoded.parts.filter((part) => typeof part === 'string');

test('the telnet decoder strips negotiation and refuses every option', () => {
  const rows: [string, Buffer, string, number[], string[]][] = [
    ['plain text passes', Buffer.from('ps\r\n'), 'ps\r\n', [], []],
    ['DO ECHO gets WONT ECHO', bytes(255, 253, 1, 0x70), 'p', [255, 252, 1], []],
    ['WILL NAWS gets DONT NAWS', bytes(255, 251, 31), '', [255, 254, 31], []],
    ['WONT and DONT get no answer', bytes(255, 252, 1, 255, 254, 3), '', [], []],
    ['subnegotiation is dropped', Buffer.concat([Buffer.from('p'), bytes(255, 250, 31, 0, 80, 0, 24, 255, 240), Buffer.from('s')]), 'ps', [], []],
    ['IAC IAC is a literal 255', bytes(255, 255), '\xff', [], []],
    ['NUL padding after CR is dropped', bytes(13, 0), '\r', [], []],
    ['IAC IP is Ctrl-C', bytes(255, 244), '', [], ['interrupt']],
    ['raw Ctrl-C and Ctrl-D', bytes(3, 4), '', [], ['interrupt', 'eof']],
    ['IAC EOF is Ctrl-D', bytes(255, 236), '', [], ['eof']],
  ];
  for (const [name, input, data, reply, events] of rows) {
    const decoded = createTelnetDecoder()(input);
    assert.equal(dataOf(decoded).toString('latin1'), data, name);
    assert.deepEqual([...decoded.reply], reply, name);
    assert.deepEqual(eventsOf(decoded), events, name);
  }
});

test('the telnet decoder keeps data and events in the order they came', () => {
  const decoded = createTelnetDecoder()(Buffer.concat([Buffer.from('junk'), bytes(255, 244), Buffer.from('ps\r\n'), bytes(4)]));
  assert.deepEqual(decoded.parts, [Buffer.from('junk'), 'interrupt', Buffer.from('ps\r\n'), 'eof']);
});

test('the telnet decoder keeps its state across chunks', () => {
  const decode = createTelnetDecoder();
  assert.equal(dataOf(decode(bytes(0x61, 255))).toString(), 'a');
  const second = decode(bytes(253));
  assert.equal(second.parts.length, 0);
  assert.deepEqual([...decode(bytes(1, 0x62)).reply], [255, 252, 1]);
  assert.equal(decode(bytes(255, 250, 1, 2)).parts.length, 0);
  assert.equal(dataOf(decode(bytes(3, 255, 240, 0x63))).toString(), 'c', 'bytes inside a subnegotiation are not data');
});

test('the line splitter handles LF, CRLF, lone CR and lines split across chunks', () => {
  const split = createLineSplitter();
  assert.deepEqual(split(Buffer.from('ps\r\nwhere 1\nhel')), [{ line: 'ps' }, { line: 'where 1' }]);
  assert.deepEqual(split(Buffer.from('p\r')), [{ line: 'help' }]);
  assert.deepEqual(split(Buffer.from('\nexit\r')), [{ line: 'exit' }], 'the LF after a CR ends no empty line');
  assert.deepEqual(split(Buffer.from('\n\n')), [{ line: '' }]);
});

test('the line splitter refuses an overlong line without buffering it and goes on', () => {
  const split = createLineSplitter(10);
  assert.deepEqual(split(Buffer.from('123456')), []);
  assert.deepEqual(split(Buffer.from('7890abc')), []);
  assert.deepEqual(split(Buffer.from('def\nok\n')), [{ tooLong: 16 }, { line: 'ok' }]);
});

test('the line splitter decodes UTF-8 split across chunks', () => {
  const split = createLineSplitter();
  const text = Buffer.from('ps -f café\n');
  assert.deepEqual([...split(text.subarray(0, 9)), ...split(text.subarray(9))], [{ line: 'ps -f café' }]);
});

test('toCrlf ends every line with CRLF once', () => {
  assert.equal(toCrlf('a\nb\r\nc'), 'a\r\nb\r\nc');
});

/** A connected pair of sockets: what `client` writes, `server` reads. */
async function socketPair(): Promise<{ client: net.Socket; server: net.Socket; close(): void }> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = once(listener, 'connection') as Promise<[net.Socket]>;
  const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
  const [server] = await accepted;
  return { client, server, close: () => { client.destroy(); server.destroy(); listener.close(); } };
}

test('readInput delivers lines, too-long lines, Ctrl-C and Ctrl-D in order, and refuses telnet options', { timeout: 5000 }, async (t) => {
  const { client, server, close } = await socketPair();
  t.after(close);
  const inputs: Input[] = [];
  let ended: () => void = () => {};
  const eof = new Promise<void>((resolve) => (ended = resolve));
  const refusal = once(client, 'data') as Promise<[Buffer]>;
  readInput(server, { onInput: (input) => { inputs.push(input); if (input.kind === 'eof') ended(); } });
  // A Ctrl-C drops the half line before it; a line over 64 KiB is reported by its size.
  client.write(Buffer.concat([bytes(255, 253, 1), Buffer.from('half'), bytes(3), Buffer.from('ps\r\n'), Buffer.from('x'.repeat(70_000)), Buffer.from('\nexit\n'), bytes(255, 236)]));
  assert.deepEqual([...(await refusal)[0]], [255, 252, 1]);
  await eof;
  assert.deepEqual(inputs, [{ kind: 'interrupt' }, { kind: 'line', text: 'ps' }, { kind: 'too-long', bytes: 70_000 }, { kind: 'line', text: 'exit' }, { kind: 'eof' }]);
});

test('readFirstLine ends the line at its first CR or LF as sent and gives back the bytes after it', async (t) => {
  const { client, server, close } = await socketPair();
  t.after(close);
  const line = new Promise<FirstLine>((resolve) => readFirstLine(server, 1024, resolve));
  // An unfinished subnegotiation cannot hold the token line open.
  client.write(Buffer.concat([Buffer.from('s3'), bytes(255, 250, 1), Buffer.from('\r\nps\n')]));
  assert.deepEqual(await line, { kind: 'line', text: 's3', rest: Buffer.from('ps\n') });
});

test('readFirstLine cuts off a line longer than its bound before it ends', async (t) => {
  const { client, server, close } = await socketPair();
  t.after(close);
  const line = new Promise<FirstLine>((resolve) => readFirstLine(server, 1024, resolve));
  client.write('x'.repeat(1025));
  assert.deepEqual(await line, { kind: 'too-long' });
});
