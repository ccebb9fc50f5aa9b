import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connect, startApp, type App, type Client } from './helpers';

// A server that answers only /fast, and the app's own requests to it: one that finished, and three that hang.
const APP = `
const http = require('node:http');

const server = http.createServer(function answerOnlyFast(req, res) {
  if (req.url === '/fast') res.end('fast');
});
server.listen(0, '127.0.0.1', async () => {
  const base = 'http://127.0.0.1:' + server.address().port;
  console.log('fetch /fast got ' + await (await fetch(base + '/fast')).text());
  http.get(base + '/out/http', (res) => console.log('http.get answered ' + res.statusCode))
    .on('error', (error) => console.log('http.get failed: ' + error.message));
  fetch(base + '/out/fetch').then(
    (res) => console.log('fetch answered ' + res.status),
    (error) => console.log('fetch failed: ' + error.message + ' (' + (error.cause && error.cause.message) + ')'));
  http.get(base + '/out/unguarded');
  console.log('ready ' + server.address().port);
});
`;

/** The line of APP where `text` appears, as a stack trace numbers it. */
function lineOf(text: string): number {
  return APP.split('\n').findIndex((line) => line.includes(text)) + 1;
}

function rowOf(listing: string, pattern: RegExp): string | undefined {
  return listing.split('\r\n').slice(2).find((row) => pattern.test(row));
}

/** Runs `ps -f http` until a row matches, and returns that row's ID. */
async function waitForRow(client: Client, pattern: RegExp): Promise<string> {
  const listing = await client.commandUntil('ps -f http', (output) => rowOf(output, pattern) !== undefined);
  return rowOf(listing, pattern)!.split(/\s+/)[0];
}

/** Runs `ps-terminated -f http` until a row matches, and returns that row. */
async function waitForEnded(client: Client, pattern: RegExp): Promise<string> {
  return rowOf(await client.commandUntil('ps-terminated -f http', (output) => rowOf(output, pattern) !== undefined), pattern)!;
}

/** Runs `ps -f http` until no row matches. */
async function waitForNoRow(client: Client, pattern: RegExp): Promise<void> {
  await client.commandUntil('ps -f http', (output) => rowOf(output, pattern) === undefined);
}

describe('HTTP requests in ps', () => {
  let app: App;
  let client: Client;
  let port: string;

  before(async () => {
    app = await startApp(APP);
    await app.waitForOutput('ready');
    port = /ready (\d+)/.exec(app.stdout())![1];
    client = await connect(app.port);
  });
  after(() => {
    client?.socket.destroy();
    app?.kill();
  });

  test('a request the server has not answered is an http-in row; where shows its handler; cancel ends its connection', async () => {
    const request = http.get({ host: '127.0.0.1', port, path: '/slow?x=1', agent: false });
    const failed = new Promise<Error>((resolve) => request.on('error', resolve));
    const id = await waitForRow(client, /http-in .*GET \/slow\?x=1 from 127\.0\.0\.1:\d+/);

    const where = await client.command(`where ${id}`);
    assert.match(where, new RegExp(`http-in ${id}: GET /slow\\?x=1 from 127\\.0\\.0\\.1:\\d+`));
    assert.match(where, /response: not started: no headers sent yet/);
    assert.match(where, new RegExp(`server's 'request' listener defined at .*app\\.js:${lineOf('function answerOnlyFast')}:\\d+`));

    assert.match(await client.command(`cancel ${id}`), /^✓ destroyed the connection of GET \/slow\?x=1 from 127\.0\.0\.1:\d+: the client sees it end/);
    assert.match((await failed).message, /socket hang up|ECONNRESET/);
    const ended = await waitForEnded(client, /http-in .* cancelled +GET \/slow\?x=1 from 127\.0\.0\.1:\d+/);
    assert.match(await client.command(`where-terminated ${ended.split(/\s+/)[0]}`), /cancelled by: monitor session from 127\.0\.0\.1:\d+/);
    await waitForNoRow(client, /\/slow/);
  });

  test('a client that goes away ends its request as an error', async () => {
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.write('GET /gone HTTP/1.1\r\nHost: example\r\n\r\n');
    await waitForRow(client, /http-in .*GET \/gone/);
    socket.destroy();
    await waitForEnded(client, /http-in .* error +GET \/gone from 127\.0\.0\.1:\d+: client closed the connection before the response was sent/);
    await waitForNoRow(client, /\/gone/);
  });

  test('requests that were answered are gone from ps, and counted rather than kept', async () => {
    assert.doesNotMatch(await client.command('ps'), /\/fast/);
    const finished = await client.command('ps-terminated');
    assert.doesNotMatch(finished, /\/fast/);
    assert.match(finished, /Requests that ended normally are counted, not kept: .*\d+ http-in/);
    const counts = JSON.parse(await client.command('ps-terminated --json')).doneCounts;
    assert.ok(counts['http-in'] >= 1 && counts['http-out'] >= 1, JSON.stringify(counts));
  });

  test('cancel makes the app\'s http.get fail', async () => {
    const id = await waitForRow(client, new RegExp(`http-out .*GET http://127\\.0\\.0\\.1:${port}/out/http`));
    const where = await client.command(`where ${id}`);
    assert.match(where, /made with: http\.request/);
    assert.match(where, new RegExp(`'error' listener defined at .*app\\.js:${lineOf("'http.get failed: '")}:\\d+`));
    assert.match(await client.command(`cancel ${id}`), /^✓ destroyed GET http:\S+\/out\/http: the app's request fails/);
    await app.waitForOutput(`http.get failed: GET http://127.0.0.1:${port}/out/http was cancelled from the monitor`);
    await waitForEnded(client, new RegExp(`http-out .* cancelled +GET http://127\\.0\\.0\\.1:${port}/out/http`));
    await waitForNoRow(client, /\/out\/http/);
  });

  test('cancel makes the app\'s fetch reject', async () => {
    const id = await waitForRow(client, new RegExp(`http-out .*fetch GET http://127\\.0\\.0\\.1:${port}/out/fetch`));
    assert.match(await client.command(`cancel ${id}`), /^✓ aborted fetch GET http:\S+\/out\/fetch: the app's fetch\(\) rejects/);
    await app.waitForOutput(`fetch failed: fetch failed (fetch GET http://127.0.0.1:${port}/out/fetch was cancelled from the monitor)`);
    await waitForEnded(client, new RegExp(`http-out .* cancelled +fetch GET http://127\\.0\\.0\\.1:${port}/out/fetch`));
    // The server side of that fetch ends too: its client went away.
    await waitForNoRow(client, /\/out\/fetch/);
  });

  test('cancel refuses a request without an error listener, which destroying would crash', async () => {
    const id = await waitForRow(client, /http-out .*GET \S+\/out\/unguarded/);
    assert.match(await client.command(`cancel ${id}`), /^✗ GET \S+\/out\/unguarded has no 'error' listener: destroying it would crash the app/);
    assert.match(await client.command('ps -f http'), /\/out\/unguarded/);
    assert.equal(app.child.exitCode, null);
  });
});
