// The app behind the `ps` measurement under load: TIMERS pending timers and PAIRS TCP connections
// to its own server, so `ps` lists PAIRS client sockets and PAIRS server-side sockets.
// Usage: node handles.mjs TIMERS PAIRS; prints "ready" once every connection is accepted.
import net from 'node:net';
import { once } from 'node:events';

const timers = Number(process.argv[2] ?? 10_000);
const pairs = Number(process.argv[3] ?? 1_000);
/** Connections opened at a time, well under the listen backlog, so none is refused. */
const BATCH = 100;

const accepted = [];
const server = net.createServer((socket) => accepted.push(socket));
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address();

const clients = [];
for (let opened = 0; opened < pairs; opened += BATCH) {
  const batch = Array.from({ length: Math.min(BATCH, pairs - opened) }, () => net.connect(port, '127.0.0.1'));
  await Promise.all(batch.map((socket) => once(socket, 'connect')));
  clients.push(...batch);
}
// Wait (bounded) until the server side has accepted every connection too.
for (let waited = 0; accepted.length < pairs && waited < 10_000; waited += 10) {
  await new Promise((resolve) => setTimeout(resolve, 10));
}

function neverFires() {}
for (let i = 0; i < timers; i++) setTimeout(neverFires, 1e9);

console.log(`ready ${timers} timers, ${clients.length} client sockets, ${accepted.length} server sockets`);
