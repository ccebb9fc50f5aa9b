import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { attach, connect, SHORT_DEADLINE_MS, startApp, waitFor } from './helpers';
import { pageHeaders, webReady, webRequest, type WebAnswer } from './web-helpers';

const APP = `
const http = require('node:http');
const server = http.createServer((req, res) => res.end('app says hi')).listen(0, '127.0.0.1', () => console.log('app on ' + server.address().port));
setInterval(function sweepCache() {}, 60_000);
process.on('SIGUSR2', () => { const end = Date.now() + 5000; while (Date.now() < end); console.log('unblocked'); });
process.on('SIGUSR1', () => process.exit(0));
process.on('SIGWINCH', () => { require('node:child_process').execSync('sleep 3'); console.log('out of native code'); });
console.log('ready');
`;

/** One line for the user: `{"error": "..."}` with no line break. */
function oneLineError(answer: WebAnswer): string {
  const message = answer.json?.error;
  assert.equal(typeof message, 'string', `an error document, got ${answer.status} ${answer.body}`);
  assert.ok(!(message as string).includes('\n'), `one line: ${message as string}`);
  return message as string;
}

test('the page\'s API lists the tasks ps lists, and where explains one', async (t) => {
  const { app, client } = await attach(t, APP);
  const fromPrompt = JSON.parse(await client.command('ps --json')) as { tasks: { id: number }[] };
  const fromWeb = await webReady(app.webPort, '/api/ps');
  assert.equal(fromWeb.status, 200);
  assert.equal(fromWeb.headers['content-type'], 'application/json; charset=utf-8');
  assert.deepEqual((fromWeb.json!.tasks as { id: number }[]).map((task) => task.id), fromPrompt.tasks.map((task) => task.id));
  const sweep = (fromWeb.json!.tasks as { id: number; description: string }[]).find((task) => task.description.includes('sweepCache'))!;
  const where = await webRequest(app.webPort, `/api/where/${sweep.id}`);
  assert.equal(where.json!.command, 'where');
  assert.match(JSON.stringify(where.json!.facts), /sweepCache/);
  assert.match(oneLineError(await webRequest(app.webPort, '/api/where/abc')), /^"abc" is not a task ID/);
  assert.equal((await webRequest(app.webPort, '/api/ps?filter=sweepCache')).json!.total, 1);
  assert.match(oneLineError(await webRequest(app.webPort, '/api/ps?json=0&x=1')), /^ps: unknown option/);
});

test('the page offers reads to GET and changes to POST only, and no console', async (t) => {
  const { app } = await attach(t, APP);
  await webReady(app.webPort);
  const cancelByGet = await webRequest(app.webPort, '/api/cancel/1');
  assert.equal(cancelByGet.status, 405);
  assert.match(oneLineError(cancelByGet), /^cancel is a change: use POST/);
  assert.equal((await webRequest(app.webPort, '/api/console')).status, 404);
  assert.equal((await webRequest(app.webPort, '/api/signal/SIGTERM', { method: 'POST', headers: await pageHeaders(app.webPort) })).status, 404);
  assert.equal((await webRequest(app.webPort, '/', { method: 'DELETE' })).status, 405);
  assert.equal((await webRequest(app.webPort, '/download/..%2F..%2Fetc%2Fpasswd')).status, 404);
  assert.equal((await webRequest(app.webPort, '/assets/..%2Fpackage.json')).status, 404);
});

test('cancel from the page needs its Origin and CSRF token; a forged one changes nothing', async (t) => {
  const { app, client } = await attach(t, APP);
  await webReady(app.webPort);
  const id = ((JSON.parse(await client.command('ps --json')) as { tasks: { id: number; description: string }[] }).tasks.find((task) => task.description.includes('sweepCache')))!.id;
  const headers = await pageHeaders(app.webPort);
  const refused: [string, Record<string, string>, RegExp][] = [
    ['no Origin', { 'X-CSRF-Token': String(headers['X-CSRF-Token']) }, /^a change needs the Origin header/],
    ['a forged Origin', { ...headers, Origin: 'http://attacker.example' } as Record<string, string>, /^a change from another site \(Origin "http:\/\/attacker\.example"\) is refused/],
    ['no CSRF token', { Origin: `http://localhost:${app.webPort}` }, /^a change needs the page's CSRF token/],
    ['a wrong CSRF token', { Origin: `http://localhost:${app.webPort}`, 'X-CSRF-Token': 'guess' }, /^a change needs the page's CSRF token/],
  ];
  for (const [what, sent, message] of refused) {
    const answer = await webRequest(app.webPort, `/api/cancel/${id}`, { method: 'POST', headers: sent });
    assert.equal(answer.status, 403, what);
    assert.match(oneLineError(answer), message, what);
  }
  assert.match(await client.command('ps'), /sweepCache/);
  const done = await webRequest(app.webPort, `/api/cancel/${id}`, { method: 'POST', headers });
  assert.equal(done.status, 200, done.body);
  assert.equal(done.json!.ok, true);
  assert.doesNotMatch(await client.command('ps'), /sweepCache/);
});

test('a Host that is not this loopback address is refused, as a DNS-rebinding page would send', async (t) => {
  const { app } = await attach(t, APP);
  await webReady(app.webPort);
  for (const host of ['attacker.example', `attacker.example:${app.webPort}`, `127.0.0.1:${app.webPort + 1}`, 'localhost:abc']) {
    const answer = await webRequest(app.webPort, '/api/status', { headers: { Host: host } });
    assert.equal(answer.status, 403, host);
    assert.match(oneLineError(answer), /^this monitor answers only to a loopback Host such as localhost:\d+/, host);
  }
  for (const host of [`localhost:${app.webPort}`, `127.0.0.1:${app.webPort}`, `[::1]:${app.webPort}`, `LOCALHOST:${app.webPort}`]) {
    assert.equal((await webRequest(app.webPort, '/api/status', { headers: { Host: host } })).status, 200, host);
  }
});

test('with a token: a login form for the page, a cookie after it, Bearer for scrapers, and one line for a stranger', async (t) => {
  const token = 'open sesame';
  const app = await startApp(APP, { env: { MONITOR_TOKEN: token } });
  t.after(() => app.kill());
  const first = await webReady(app.webPort, '/');
  assert.equal(first.status, 303);
  assert.equal(first.headers.location, '/login');
  assert.match((await webRequest(app.webPort, '/login')).body, /<form method="post" action="\/login">/);
  const stranger = await webRequest(app.webPort, '/api/ps');
  assert.equal(stranger.status, 401);
  assert.match(oneLineError(stranger), /^this monitor needs its token: log in at \/login/);
  const form = { 'Content-Type': 'application/x-www-form-urlencoded', Origin: `http://localhost:${app.webPort}` };
  const wrong = await webRequest(app.webPort, '/login', { method: 'POST', headers: form, body: 'token=guess' });
  assert.equal(wrong.status, 401);
  assert.match(wrong.body, /wrong token/);
  assert.equal(wrong.headers['set-cookie'], undefined);
  const right = await webRequest(app.webPort, '/login', { method: 'POST', headers: form, body: `token=${encodeURIComponent(token)}` });
  assert.equal(right.status, 303);
  const cookie = right.headers['set-cookie']![0];
  assert.match(cookie, /^aiomonitor_session=[\w-]+; HttpOnly; SameSite=Strict; Path=\//);
  const asUser = { Cookie: cookie.split(';')[0] };
  assert.equal((await webRequest(app.webPort, '/api/ps', { headers: asUser })).status, 200);
  assert.equal((await webRequest(app.webPort, '/api/status', { headers: { Authorization: `Bearer ${token}` } })).status, 200);
  const badBearer = await webRequest(app.webPort, '/metrics', { headers: { Authorization: 'Bearer guess' } });
  assert.equal(badBearer.status, 401);
  assert.match(String(badBearer.headers['www-authenticate']), /^Bearer/);
  // The logged-in page's changes still need its CSRF token.
  const noCsrf = await webRequest(app.webPort, '/api/cancel/1', { method: 'POST', headers: { ...asUser, Origin: `http://localhost:${app.webPort}` } });
  assert.equal(noCsrf.status, 403);
  assert.equal((await webRequest(app.webPort, '/api/cancel/999', { method: 'POST', headers: await pageHeaders(app.webPort, asUser) })).status, 200);
});

test('a huge body or header is refused in one line, and the app runs on', async (t) => {
  const { app } = await attach(t, APP);
  await webReady(app.webPort);
  const headers = await pageHeaders(app.webPort);
  const huge = await webRequest(app.webPort, '/api/cancel/1', { method: 'POST', headers, body: Buffer.alloc(1024 * 1024, 'a') });
  assert.equal(huge.status, 413);
  assert.match(oneLineError(huge), /^request body too large \(over 16 KiB\)/);
  const login = await webRequest(app.webPort, '/api/cancel/1', { method: 'POST', headers: { ...headers, 'Content-Length': String(1e9) } }).catch((error: Error) => error);
  if (!(login instanceof Error)) assert.equal(login.status, 413);
  const fatHeader = await webRequest(app.webPort, '/api/status', { headers: { 'X-Padding': 'x'.repeat(64 * 1024) } }).catch((error: Error) => error);
  if (!(fatHeader instanceof Error)) assert.equal(fatHeader.status, 431);
  assert.equal((await webRequest(app.webPort, '/api/status')).status, 200);
  const appPort = Number(/app on (\d+)/.exec(app.stdout())![1]);
  assert.equal(await fetch(`http://127.0.0.1:${appPort}/`).then((res) => res.text()), 'app says hi');
});

test('1000 connections that send nothing: the operator still gets in, and the app is untouched', async (t) => {
  const { app, client } = await attach(t, APP);
  await webReady(app.webPort);
  const sockets: net.Socket[] = [];
  t.after(() => { for (const socket of sockets) socket.destroy(); });
  let refusedInOneLine = 0;
  for (let i = 0; i < 1000; i++) {
    const socket = net.connect(app.webPort, '127.0.0.1');
    socket.on('error', () => {});
    socket.setEncoding('utf8');
    let answer = '';
    socket.on('data', (text: string) => { answer += text; });
    socket.on('close', () => { if (/^HTTP\/1\.1 503 [^\n]*\r\n[\s\S]*\r\n\r\nclosed to let a newer connection in[^\n]*\n$/.test(answer)) refusedInOneLine++; });
    sockets.push(socket);
  }
  await Promise.all(sockets.map((socket) => new Promise((resolve) => { socket.once('connect', resolve); socket.once('close', resolve); })));
  const answer = await webRequest(app.webPort, '/api/status');
  assert.equal(answer.status, 200, answer.body);
  assert.match(await client.command('status'), /^idle|^busy/);
  const appPort = Number(/app on (\d+)/.exec(app.stdout())![1]);
  assert.equal(await fetch(`http://127.0.0.1:${appPort}/`).then((res) => res.text()), 'app says hi');
  // Each stranger was closed, with one line, to let a newer one in (none was answering a request).
  await waitFor(() => refusedInOneLine >= 1000 - 32, () => `the strangers' one-line refusals (${refusedInOneLine} so far)`);
});

test('while the main thread is blocked, status and ps answer from the page; in native code a read says it is busy', async (t) => {
  const { app } = await attach(t, APP, { deadlineMs: SHORT_DEADLINE_MS });
  await webReady(app.webPort);
  process.kill(app.child.pid!, 'SIGUSR2');
  let status: WebAnswer | undefined;
  await waitFor(async () => (status = await webRequest(app.webPort, '/api/status')).json?.state === 'blocked', () => `status to say blocked: ${status?.body}`);
  const ps = await webRequest(app.webPort, '/api/ps');
  assert.ok(!app.stdout().includes('unblocked'), 'the block lasts 5 s: status and ps answered before it ended');
  assert.equal(ps.status, 200, ps.body);
  assert.match(JSON.stringify(ps.json!.tasks), /sweepCache/);
  await app.waitForOutput('unblocked');
  await waitFor(async () => (status = await webRequest(app.webPort, '/api/status')).json?.state !== 'blocked', () => `status to say the block ended: ${status?.body}`);
  process.kill(app.child.pid!, 'SIGWINCH');
  await waitFor(async () => (status = await webRequest(app.webPort, '/api/status')).json?.state === 'blocked', () => `status to say blocked: ${status?.body}`);
  const busy = await webRequest(app.webPort, '/api/ps');
  if (!app.stdout().includes('out of native code')) {
    assert.equal(busy.status, 503, busy.body);
    assert.match(oneLineError(busy), /^the main thread has not answered for \d+ ms .*stacktrace shows what it is doing$/);
  }
  await app.waitForOutput('out of native code');
});

test('a profile from the page is a download of a valid .cpuprofile, with its hottest functions', async (t) => {
  const { app } = await attach(t, APP);
  await webReady(app.webPort);
  const made = await webRequest(app.webPort, '/api/profile/0.5', { method: 'POST', headers: await pageHeaders(app.webPort) });
  assert.equal(made.status, 200, made.body);
  assert.equal(made.json!.command, 'profile');
  assert.ok(Array.isArray(made.json!.hot));
  const download = String(made.json!.download);
  assert.match(download, /^\/download\/aiomonitor-\d+-[\d-]+\.cpuprofile$/);
  const file = await webRequest(app.webPort, download);
  assert.equal(file.status, 200);
  assert.match(String(file.headers['content-disposition']), /^attachment; filename="aiomonitor-.*\.cpuprofile"$/);
  const profile = JSON.parse(file.body) as { nodes: unknown[]; samples: unknown[] };
  assert.ok(profile.nodes.length > 0 && Array.isArray(profile.samples));
  const withPath = await webRequest(app.webPort, '/api/profile/0.5/etc%2Fx.cpuprofile', { method: 'POST', headers: await pageHeaders(app.webPort) });
  assert.equal(withPath.status, 400);
  assert.match(oneLineError(withPath), /^profile from the page takes SECONDS only/);
  // The file waits for its download in a private directory, and goes when the app exits.
  const written = String(made.json!.file);
  assert.equal(fs.statSync(written).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.dirname(written)).mode & 0o777, 0o700);
  process.kill(app.child.pid!, 'SIGUSR1');
  await app.waitForExit();
  assert.equal(fs.existsSync(written), false, `${written} is removed at exit`);
});

test('WEB_ENABLED=0 opens no web port; a taken default web port gives way to a free one, said in one line', async (t) => {
  const off = await startApp(APP, { env: { WEB_ENABLED: '0' } });
  t.after(() => off.kill());
  await off.waitForOutput('ready');
  await connect(off.port).then((client) => client.socket.destroy());
  await assert.rejects(webRequest(off.webPort, '/api/status'), { code: 'ECONNREFUSED' });
});

test('a download whose client stops reading is ended, so that such clients cannot hold the web server', async (t) => {
  // A heap big enough that its snapshot cannot hide in the sockets' buffers.
  const { app } = await attach(t, `${APP}\nglobalThis.kept = Array.from({ length: 300_000 }, (_, i) => ({ id: i, name: 'item ' + i }));`);
  await webReady(app.webPort);
  const made = await webRequest(app.webPort, '/api/heapsnapshot', { method: 'POST', headers: await pageHeaders(app.webPort) });
  assert.equal(made.status, 200, made.body);
  const size = Number(made.json!.bytes);
  assert.ok(size > 24 * 1024 * 1024, `a snapshot larger than the buffers: ${size} bytes`);

  const reader = net.connect(app.webPort, '127.0.0.1');
  t.after(() => reader.destroy());
  reader.write(`GET ${String(made.json!.download)} HTTP/1.1\r\nHost: localhost:${app.webPort}\r\n\r\n`);
  reader.pause();
  assert.equal((await webRequest(app.webPort, '/api/status')).status, 200, 'the page answers while the download stands still');
  // Past STALLED_DOWNLOAD_MS (15 s), with room for a busy machine; then what was sent is read to its end.
  await new Promise((resolve) => setTimeout(resolve, 25_000));
  let received = 0;
  reader.on('data', (chunk: Buffer) => { received += chunk.length; });
  reader.resume();
  await new Promise((resolve) => reader.on('close', resolve));
  assert.ok(received < size, `the download was cut short: ${received} of ${size} bytes`);
  assert.equal((await webRequest(app.webPort, '/api/status')).status, 200);
});
