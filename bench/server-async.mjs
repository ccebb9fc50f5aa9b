// bench/server.mjs with an async handler, as most real apps have: every request awaits a few promises and
// the next turn of the loop, so tracing sees promises and an Immediate per request, not only socket writes.
import http from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';

const body = JSON.stringify({ ok: true, service: 'bench', items: [1, 2, 3] });

async function loadItems() {
  await nextTurn();
  return Promise.all([1, 2, 3].map(async (item) => item));
}

const server = http.createServer(async (request, response) => {
  await loadItems();
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
});

server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
