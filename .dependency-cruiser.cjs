/**
 * The one rule of the layout: code of the app's main thread (src/main) and code of the monitor thread
 * (src/worker, src/commands) never import each other; both may use src/shared and src/protocol, which import neither.
 * `npm run lint:imports` checks it, in `npm test` and in CI.
 */
const MAIN = '^src/main/';
const MONITOR = '^src/(worker|commands)/';
module.exports = {
  forbidden: [
    { name: 'main-thread-loads-no-monitor-code', severity: 'error', comment: 'src/main runs on the app\'s thread: it must not load the monitor thread\'s code (src/worker, src/commands); put what both need in src/shared', from: { path: MAIN }, to: { path: MONITOR } },
    { name: 'monitor-thread-loads-no-main-code', severity: 'error', comment: 'src/worker and src/commands run in the monitor thread: they reach the main thread through the contract in src/shared, never by importing src/main', from: { path: MONITOR }, to: { path: MAIN } },
    { name: 'shared-stands-alone', severity: 'error', comment: 'src/shared and src/protocol are loaded by both threads: they import only each other', from: { path: '^src/(shared|protocol)/' }, to: { path: '^src/(main|worker|commands|wrapper|client)/' } },
    { name: 'wrapper-runs-no-monitor', severity: 'error', comment: 'src/wrapper is aiomon-run\'s own process: it starts the app with the preload and loads no monitor code itself', from: { path: '^src/wrapper/' }, to: { path: '^src/(main|worker|commands|protocol)/' } },
    { name: 'client-runs-no-monitor', severity: 'error', comment: 'src/client is aiomon\'s own process: it speaks to monitors over their sockets and loads no monitor code itself', from: { path: '^src/client/' }, to: { path: '^src/(main|worker|commands|wrapper)/' } },
    { name: 'page-is-a-web-client', severity: 'error', comment: 'src/page runs in the browser: it speaks to the monitor through the /api routes only and loads no code of the process', from: { path: '^src/page/' }, to: { path: '^(src/(?!page/)|bin/|register\\.ts$)' } },
    { name: 'register-only-starts', severity: 'error', comment: 'register.ts starts the monitor from the environment (loading the preload with its code cache) and does nothing else', from: { path: '^register\\.ts$' }, to: { path: '^src/(?!main/(preload|code-cache)\\.ts$)' } },
    { name: 'no-circular', severity: 'error', comment: 'import circles hide which module needs which', from: {}, to: { circular: true } },
  ],
  options: {
    // Type imports count: the contract between the threads is its types as much as its code.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
