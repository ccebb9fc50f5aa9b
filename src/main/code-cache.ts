import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

// What Node wraps a CommonJS file in, so that the file runs with its usual five names.
const WRAPPER = ['(function (exports, require, module, __filename, __dirname) {', '\n})'];

/**
 * Where the build keeps the V8 code cache of `file`. V8 accepts a cache only from its own version, so the
 * name says which: another Node finds no file and compiles as usual.
 */
function cachePath(file: string): string {
  return `${file}.v8-${process.versions.v8}-${process.arch}.cache`;
}

function compile(file: string, cachedData?: Buffer): vm.Script {
  const source = fs.readFileSync(file, 'utf8');
  return new vm.Script(WRAPPER[0] + source + WRAPPER[1], { filename: file, cachedData });
}

function run<T>(script: vm.Script, file: string): T {
  const module = { exports: {} as T, filename: file, id: file };
  const wrapped = script.runInThisContext() as (...args: unknown[]) => void;
  // The bundles sit beside this file, so this module's own require resolves what theirs would (and `node:module`,
  // for createRequire, would cost the start more than the cache saves).
  wrapped.call(module.exports, module.exports, require, module, file, path.dirname(file));
  return module.exports;
}

/** A cache made before the file last changed belongs to another build. */
function freshCache(file: string): Buffer | undefined {
  try {
    const cache = cachePath(file);
    if (fs.statSync(cache).mtimeMs < fs.statSync(file).mtimeMs) return undefined;
    return fs.readFileSync(cache);
  } catch {
    return undefined;
  }
}

/**
 * Requires one of this package's bundles beside this file (`'./preload.js'`), with the bytecode the build compiled
 * for it when this Node's V8 can use it (V8 checks the version, its flags and the source). Only that file: the
 * app's modules compile as usual. Without a usable cache it is a plain require.
 */
export function requireCompiled<T>(name: string): T {
  const file = path.join(__dirname, name);
  const cachedData = freshCache(file);
  if (!cachedData) return require(file) as T;
  return run<T>(compile(file, cachedData), file);
}

/**
 * For the build: compiles `file`, runs `warm` on its exports (so that the functions a start runs are compiled
 * too, and cached), and writes the cache for this Node.
 */
export function writeCodeCache<T>(name: string, warm: (exports: T) => void): void {
  const file = path.join(__dirname, name);
  const script = compile(file);
  warm(run<T>(script, file));
  fs.writeFileSync(cachePath(file), script.createCachedData());
}
