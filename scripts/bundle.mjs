// The second half of `npm run build`, after tsc: each module a thread starts from is overwritten with one
// bundled file that holds the same code and the package's own modules it imports, so that starting a thread
// reads and compiles one file instead of some fifty (about 10 ms less on the app's main thread at start).
// Each bundle replaces the tsc output of its entry at the same path, so everything that finds a file
// relative to `__dirname` (the worker entry, the monitor's own stack frames) finds it where it did.
// tsc's other outputs stay: the tests load them one by one, and the .d.ts files are the package's types.
import { chmodSync } from 'node:fs';
import { build } from 'esbuild';

/** Entry points, each bundled onto its own tsc output in dist/. */
const ENTRIES = [
  // The preload (`dist/register.js` requires it): what `-r aiomonitor/register` runs on the app's main thread.
  'src/main/preload.ts',
  // The public API (`require('aiomonitor')`).
  'src/main/index.ts',
  // The monitor thread.
  'src/worker/entry.ts',
];

await build({
  entryPoints: ENTRIES,
  outbase: '.',
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // The package's dependencies stay packages: npm dedupes them with the app's, and an app's `DEBUG` setting
  // reaches one `debug`.
  packages: 'external',
  // Readable stack traces: the monitor shows its own frames in a few places, and users read them in bug reports.
  minify: false,
  logLevel: 'warning',
});
chmodSync('dist/bin/aiomon-run.js', 0o755);
