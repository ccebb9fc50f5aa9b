// An app whose work is in named tasks and HTTP requests: try ps, cancel, ps-terminated and where-terminated on it.
// Run it from a clone, after npm install: node -r aiomonitor/register examples/tasks.js
const http = require('node:http');
const { setTimeout: sleep } = require('node:timers/promises');
const { defineCommand, task } = require('aiomonitor');

// A handler that never answers /slow: the request stays in ps until it is cancelled.
const server = http.createServer(function handleRequest(req, res) {
  if (!req.url.startsWith('/slow')) res.end('ok\n');
});
server.listen(8081, '127.0.0.1', () => {
  console.log('listening on http://127.0.0.1:8081; /slow never answers');
  // The app's own request to it: an http-out row until it is cancelled.
  fetch('http://127.0.0.1:8081/slow?from=app').then(
    (response) => console.log(`fetch answered ${response.status}`),
    (error) => console.log(`fetch failed: ${error.cause?.message ?? error.message}`),
  );
});

const synced = { pages: 0, since: new Date() };

async function syncUsers(signal) {
  for (;;) {
    await sleep(2000, undefined, { signal }); // stops at once when the task is cancelled
    synced.pages++;
  }
}

async function importReport() {
  await sleep(1500);
  throw new Error('report.csv: unexpected end of file');
}

task('sync-users', syncUsers).catch((error) => console.log(`sync-users stopped: ${error.message}`));
task('import-report', importReport).catch((error) => console.log(`import-report failed: ${error.message}`));

// A command of the app's own at the monitor prompt: `synced` or `synced --json`.
defineCommand({
  name: 'synced',
  description: 'Show how many pages sync-users has fetched',
  options: { reset: { type: 'boolean', description: 'start counting again' } },
}, ({ flags }) => {
  if (flags.reset) Object.assign(synced, { pages: 0, since: new Date() });
  return synced;
});
