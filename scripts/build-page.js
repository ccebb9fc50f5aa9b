// Builds the web page into dist/page/: app.ts bundled with uPlot for the browser, and the static files beside it.
// Every asset ships in the package; the page loads nothing from anywhere else.
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist', 'page');
fs.mkdirSync(out, { recursive: true });
esbuild.buildSync({
  entryPoints: [path.join(root, 'src', 'page', 'app.ts')],
  outfile: path.join(out, 'app.js'),
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2020',
  minify: true,
  // uPlot's MIT licence asks for its notice in every copy; its own header is not a legal comment esbuild keeps.
  banner: { js: `/*! uPlot ${require('uplot/package.json').version}, (c) Leon Sorokin, MIT License, https://github.com/leeoniya/uPlot */` },
  legalComments: 'none',
  logLevel: 'warning',
});
for (const file of ['index.html', 'style.css']) fs.copyFileSync(path.join(root, 'src', 'page', file), path.join(out, file));
fs.copyFileSync(require.resolve('uplot/dist/uPlot.min.css'), path.join(out, 'uPlot.min.css'));
