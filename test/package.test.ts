import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { ROOT } from './helpers';

test('the published package holds its licence, its entries, its web page and no source maps that point to sources it lacks', () => {
  const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' })) as { files: { path: string }[] }[];
  const files = pack.files.map((file) => file.path);
  for (const needed of ['LICENSE', 'README.md', 'package.json', 'dist/register.js', 'dist/src/main/index.js', 'dist/src/main/index.d.ts', 'dist/bin/aiomon-run.js', 'dist/bin/aiomon.js', 'dist/page/index.html', 'dist/page/app.js', 'dist/page/style.css', 'dist/page/uPlot.min.css']) {
    assert.ok(files.includes(needed), `the package lacks ${needed}`);
  }
  assert.deepEqual(files.filter((file) => file.endsWith('.map')), []);
  assert.deepEqual(files.filter((file) => file.startsWith('dist/test/') || file.startsWith('src/')), []);
});
