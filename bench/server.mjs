// The app behind the throughput and memory measurements: a small JSON API, as typical as it gets.
// It prints "listening PORT" once it accepts connections on 127.0.0.1.
import http from 'node:http';

const body = JSON.stringify({ ok: true, service: 'bench', items: [1, 2, 3] });

const server = http.createServer((request, response) => {
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
});

server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
