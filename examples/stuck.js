// A small app that misbehaves in the ways the monitor is for: timers, a server, and a loop that blocks.
const http = require('node:http');

const server = http.createServer(function handleRequest(req, res) {
  res.end(JSON.stringify({ url: req.url, at: Date.now() }));
});
server.listen(8080, '127.0.0.1', () => console.log('app listening on http://127.0.0.1:8080'));

setInterval(function pollQueue() {}, 5000);

setTimeout(function stallEveryTenSeconds() {
  setInterval(function crunchNumbers() {
    const until = Date.now() + 3000;
    while (Date.now() < until); // the event loop is stuck here for 3 s
  }, 10000);
}, 1000);
