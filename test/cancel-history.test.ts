import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import { attach, ROOT, type Client } from './helpers';

// A busy app: its loop spins 200 ms in every turn, so a connection destroyed now closes only on a later turn, while
// the monitor's reads answer at once. Its server never answers /hang; the app's own requests to it hang too.
const APP = `
const http = require('node:http');
const { task } = require(${JSON.stringify(ROOT)});
const server = http.createServer(function neverAnswer() {});
server.listen(0, '127.0.0.1', () => {
  const base = 'http://127.0.0.1:' + server.address().port;
  http.get(base + '/hang/http').on('error', (error) => console.log('http.get failed: ' + error.message));
  fetch(base + '/hang/fetch').catch((error) => console.log('fetch failed: ' + error.cause?.message));
  task('sync-users', (signal) => new Promise((resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))))
    .catch(() => {});
  setImmediate(function spin() {
    const until = Date.now() + 200;
    while (Date.now() < until);
    setImmediate(spin);
  });
  console.log('ready ' + server.address().port);
});
`;

function rowWith(listing: string, text: string): string | undefined {
  return listing.split('\r\n').slice(2).find((row) => row.includes(text));
}

/** Runs ps until a row contains `text`, and returns that row's ID. */
async function idOfRow(client: Client, text: string): Promise<string> {
  for (const start = Date.now(); Date.now() - start < 15_000; ) {
    const row = rowWith(await client.command('ps'), text);
    if (row) return row.split(/\s+/)[0];
  }
  assert.fail(`no ps row with ${text}`);
}

/** Sends `cancel ID`, then at once ps-terminated, where-terminated and ps, as one packet; returns the four answers. */
async function cancelAndLook(client: Client, id: string): Promise<string[]> {
  const from = client.received().length;
  client.send(`cancel ${id}\r\nps-terminated\r\nwhere-terminated ${id}\r\nps\r\n`);
  const text = await client.until(/(monitor >>> [^]*){4}/, from);
  return text.split('monitor >>> ').slice(0, 4);
}

describe('cancel and the history agree', () => {
  test('once cancel says ✓, the history lists the task as cancelled and ps no longer does, for every kind of task', async (t) => {
    const { app, client } = await attach(t, APP);
    const port = /ready (\d+)/.exec(app.stdout())![1];
    // A client of the app's server, whose request the app never answers: an http-in row.
    const incoming = http.get({ host: '127.0.0.1', port, path: '/hang/in', agent: false });
    incoming.on('error', () => {});
    t.after(() => incoming.destroy());

    const cases: [string, RegExp][] = [
      ['GET /hang/in from', /^✓ destroyed the connection of GET \/hang\/in/],
      [`GET http://127.0.0.1:${port}/hang/http`, /^✓ destroyed GET \S+\/hang\/http: the app's request fails/],
      [`fetch GET http://127.0.0.1:${port}/hang/fetch`, /^✓ aborted fetch GET \S+\/hang\/fetch/],
      ['sync-users', /^✓ cancelled task sync-users/],
    ];
    const ids: string[] = [];
    for (const [text, answer] of cases) {
      const id = await idOfRow(client, text);
      ids.push(id);
      const [cancelled, history, how, listing] = await cancelAndLook(client, id);
      assert.match(cancelled, answer);
      const ended = history.split('\r\n').find((row) => row.startsWith(`${id} `));
      assert.ok(ended, `ps-terminated right after cancel ${id} (${text}) does not list it:\n${history}`);
      assert.match(ended, / cancelled /);
      assert.match(how, new RegExp(`cancelled at .*\\r\\n  cancelled by: monitor session from 127\\.0\\.0\\.1:\\d+`), `where-terminated ${id}:\n${how}`);
      assert.equal(rowWith(listing, text), undefined, `ps right after cancel ${id} still lists it:\n${listing}`);
    }
    // Then the requests end through their sockets: each stays cancelled.
    await app.waitForOutput('http.get failed: GET');
    await app.waitForOutput('fetch failed: fetch GET');
    const history = await client.command('ps-terminated');
    for (const id of ids) assert.match(history, new RegExp(`^${id} +\\S+ .* cancelled `, 'm'), `task ${id} in:\n${history}`);
  });
});
