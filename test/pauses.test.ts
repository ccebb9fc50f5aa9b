import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import { connect, idOf, startApp, type App } from './helpers';

/** An app whose loop stutters: it blocks for 100-300 ms every 100-300 ms until SIGUSR2, with a server and a few timers. */
const STUTTERING_APP = `
  const http = require('node:http');
  for (let i = 0; i < 20; i++) setTimeout(function idleTimer() {}, 1e9 + i);
  function crunch(ms) { const until = Date.now() + ms; while (Date.now() < until); }
  let stuttering = true;
  (function stutter() {
    if (!stuttering) return;
    crunch(100 + Math.random() * 200);
    setTimeout(stutter, 100 + Math.random() * 200);
  })();
  process.on('SIGUSR2', () => { stuttering = false; });
  http.createServer((req, res) => res.end('ok')).listen(0, '127.0.0.1', function () { console.log('ready ' + this.address().port); });
`;

/** Resolves with the body of GET /, or rejects when the app has not answered within `timeoutMs`. */
function get(port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/', timeout: timeoutMs, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; }).on('end', () => resolve(body));
    });
    request.on('timeout', () => request.destroy(new Error(`the app has not answered HTTP for ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

/**
 * Sessions that connect, type ps, where and stacktrace, leave and come back, until `untilMs` (a Date.now() time).
 * Some answers are the reads' budget saying "try again": the race is between the requests, whatever they answer.
 */
async function hammer(app: App, sessions: number, untilMs: number): Promise<number> {
  const first = await connect(app.port);
  const timer = idOf(await first.command('ps'), /\btimeout\b.*idleTimer/);
  first.socket.destroy();
  let commands = 0;
  await Promise.all(Array.from({ length: sessions }, async () => {
    while (Date.now() < untilMs) {
      const client = await connect(app.port);
      try {
        for (const line of ['ps', `where ${timer}`, 'stacktrace', 'ps', 'stacktrace']) await client.command(line);
        commands += 5;
      } finally {
        client.socket.destroy();
      }
    }
  }));
  return commands;
}

describe('pausing the main thread', () => {
  test('sessions reading the main thread while its loop stutters never leave it paused', { timeout: 60_000 }, async () => {
    for (let attempt = 1; attempt <= 2; attempt++) {
      const app = await startApp(STUTTERING_APP);
      try {
        await app.waitForOutput('ready ');
        const httpPort = Number(/ready (\d+)/.exec(app.stdout())![1]);
        const commands = await hammer(app, 6, Date.now() + 2500);
        assert.ok(commands > 0);
        app.child.kill('SIGUSR2');
        const answer = await get(httpPort, 4000).catch((error: Error) => error.message);
        assert.equal(answer, 'ok', `attempt ${attempt}, after ${commands} commands: ${answer}; the main thread was left paused`);
      } finally {
        app.kill();
      }
    }
  });
});
