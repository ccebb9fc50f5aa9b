// A reference preload for the memory measurement: one idle, unref'd worker thread and nothing else,
// the least that any monitor living in a worker thread costs. `node -r ./empty-worker.cjs app.js`.
const { Worker, isMainThread } = require('node:worker_threads');

// execArgv: [] because a worker inherits `-r` and would start a worker of its own, and so on.
if (isMainThread) new Worker('setInterval(() => {}, 60_000);', { eval: true, execArgv: [] }).unref();
