import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { ROOT } from './helpers';

type CodeCache = typeof import('../src/main/code-cache');

/**
 * A package directory of its own: the loader and a one-line bundle beside it, as the build lays out the preload.
 * The two words have the same length, as V8 checks only a source's length against its cache.
 */
function lay(t: TestContext): { dir: string; loader: CodeCache; bundle: string; cache(): string | undefined } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-code-cache-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.copyFileSync(path.join(ROOT, 'dist', 'src', 'main', 'code-cache.js'), path.join(dir, 'code-cache.js'));
  const bundle = path.join(dir, 'bundle.js');
  fs.writeFileSync(bundle, "module.exports = { word: 'old', dir: __dirname };\n");
  const loader = require(path.join(dir, 'code-cache.js')) as CodeCache;
  const cache = (): string | undefined => fs.readdirSync(dir).find((name) => name.endsWith('.cache'));
  return { dir, loader, bundle, cache };
}

/** Rewrites the bundle with another word, and dates it `ageMs` before now. */
function edit(bundle: string, ageMs: number): void {
  fs.writeFileSync(bundle, "module.exports = { word: 'new', dir: __dirname };\n");
  const when = new Date(Date.now() - ageMs);
  fs.utimesSync(bundle, when, when);
}

test('the build writes a cache named for this V8, and the bundle then loads through it', (t) => {
  const { dir, loader, bundle, cache } = lay(t);
  loader.writeCodeCache<{ word: string }>('./bundle.js', (exports) => assert.equal(exports.word, 'old'));
  assert.equal(cache(), `bundle.js.v8-${process.versions.v8}-${process.arch}.cache`);
  // Proof that the bytecode comes from the cache: a source of the same length, dated before the cache, still
  // runs as it was compiled. That is why the loader trusts a cache only when it is newer than the source.
  edit(bundle, 60_000);
  assert.deepEqual(loader.requireCompiled('./bundle.js'), { word: 'old', dir });
});

test('a bundle changed after its cache was made is compiled from its source', (t) => {
  const { loader, bundle } = lay(t);
  loader.writeCodeCache('./bundle.js', () => {});
  edit(bundle, -60_000);
  assert.equal(loader.requireCompiled<{ word: string }>('./bundle.js').word, 'new');
});

test('a damaged cache is refused by V8 and the bundle compiles from its source', (t) => {
  const { dir, loader, bundle, cache } = lay(t);
  loader.writeCodeCache('./bundle.js', () => {});
  fs.writeFileSync(path.join(dir, cache()!), Buffer.alloc(4096, 7));
  edit(bundle, 60_000);
  assert.equal(loader.requireCompiled<{ word: string }>('./bundle.js').word, 'new');
});

test('without a cache (another Node, or a build without one) the bundle is a plain require', (t) => {
  const { loader, bundle } = lay(t);
  assert.equal(loader.requireCompiled<{ word: string }>('./bundle.js').word, 'old');
  assert.ok(require.cache[bundle], 'the bundle is in the require cache');
});
