import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Profiler } from 'node:inspector';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import createDebug from 'debug';
import { HOT_HEADER, hotRows, hottestFunctions, type HotFunction } from '../worker/cpuprofile';
import type { MainInspector } from '../worker/inspector';
import { BLOCKED_AFTER_MS, displayUrl } from '../worker/stack';
import { table } from './format';
import { command, UsageError } from './types';

const debug = createDebug('aiomonitor:diagnostics');

const DEFAULT_SECONDS = 5;
const MIN_SECONDS = 0.1;
const MAX_SECONDS = 600;
const SAMPLING_INTERVAL_US = 1000;
// Profiler.stop serializes the whole profile on the main thread, and a thread in native code answers late:
// waiting longer beats throwing the profile away.
const STOP_DEADLINE_MS = 30_000;
// A 450 MB heap of small objects took 33 to 62 s on a busy 2-core machine. Giving up would not unfreeze
// the main thread, only lose the snapshot, so the deadline is generous: 30 s plus 30 s per 100 MB.
const SNAPSHOT_BASE_MS = 30_000;
const SNAPSHOT_MS_PER_MB = 300;

// One worker serves every session of the process, so this is per process.
let running: { what: string; since: number } | undefined;

async function exclusively<T>(what: string, work: () => Promise<T>): Promise<T> {
  if (running) {
    const seconds = Math.round((Date.now() - running.since) / 1000);
    throw new UsageError(`${running.what} is already running in this process (for ${seconds} s); only one at a time, try again when it ends`);
  }
  running = { what, since: Date.now() };
  try {
    return await work();
  } finally {
    running = undefined;
  }
}

function megabytes(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GB` : `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}

function defaultName(extension: string, attempt: number): string {
  const d = new Date();
  const digits = (parts: number[]): string => parts.map((n) => String(n).padStart(2, '0')).join('');
  const stamp = `${digits([d.getFullYear(), d.getMonth() + 1, d.getDate()])}-${digits([d.getHours(), d.getMinutes(), d.getSeconds()])}`;
  return `aiomonitor-${process.pid}-${stamp}${attempt > 1 ? `-${attempt}` : ''}.${extension}`;
}

function cannotCreate(file: string, error: NodeJS.ErrnoException): UsageError {
  if (error.code === 'EEXIST') return new UsageError(`${file} already exists and is never overwritten; give another PATH`);
  const dir = path.dirname(file);
  const reasons: Record<string, string> = { ENOENT: `directory ${dir} does not exist`, ENOTDIR: `${dir} is not a directory`, EACCES: 'permission denied', EPERM: 'permission denied', EROFS: 'read-only file system' };
  return new UsageError(`cannot create ${file}: ${reasons[error.code ?? ''] ?? error.message}`);
}

/**
 * Creates the output file before any work starts, so a bad PATH costs nothing; `wx` makes sure
 * that not even a file created meanwhile is overwritten. Relative paths are the process's, not the client's.
 */
async function createOutput(text: string | undefined, extension: string): Promise<{ file: string; handle: FileHandle }> {
  let dir = process.cwd();
  if (text !== undefined) {
    const target = path.resolve(dir, text);
    if (!(await fs.promises.stat(target).then((stats) => stats.isDirectory(), () => false))) {
      try {
        return { file: target, handle: await fs.promises.open(target, 'wx') };
      } catch (error) {
        throw cannotCreate(target, error as NodeJS.ErrnoException);
      }
    }
    dir = target;
  }
  // Default names carry the second only, so a quick second run gets a suffix instead of a refusal.
  for (let attempt = 1; ; attempt++) {
    const file = path.join(dir, defaultName(extension, attempt));
    try {
      return { file, handle: await fs.promises.open(file, 'wx') };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 20) throw cannotCreate(file, error as NodeJS.ErrnoException);
    }
  }
}

/** Runs `work` on a freshly created output file, which is removed again if the work fails. */
async function writeOutput<T>(text: string | undefined, extension: string, work: (file: string, handle: FileHandle) => Promise<T>): Promise<T> {
  const { file, handle } = await createOutput(text, extension);
  try {
    return await work(file, handle).finally(() => handle.close());
  } catch (error) {
    await fs.promises.unlink(file).catch((failure: Error) => debug('unlink %s: %s', file, failure.message));
    throw error;
  }
}

function readSeconds(text: string | undefined): number {
  if (text === undefined) return DEFAULT_SECONDS;
  const seconds = /^(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : NaN;
  if (!(seconds >= MIN_SECONDS && seconds <= MAX_SECONDS)) {
    throw new UsageError(`profile: SECONDS must be a number from ${MIN_SECONDS} to ${MAX_SECONDS}, not ${JSON.stringify(text)}; usage: profile [SECONDS] [PATH]`);
  }
  return seconds;
}

async function recordProfile(inspector: MainInspector, seconds: number, recompile: boolean, started: () => void): Promise<Profiler.Profile> {
  await inspector.post('Profiler.enable');
  try {
    await inspector.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
    await inspector.post('Profiler.start');
    started();
    if (recompile) {
      // V8 names only code compiled while it profiles or attached to a function when it starts: a loop already
      // running in on-stack-replaced code is missed, and its time goes to its caller. Switching precise coverage
      // on throws all optimized code away, so the loop is compiled again while the profiler watches.
      // (Profiler.disable switches it off too, should the second request fail.)
      await inspector.post('Profiler.startPreciseCoverage', { callCount: false, detailed: false });
      await inspector.post('Profiler.stopPreciseCoverage');
    }
    await sleep(seconds * 1000);
    const { profile } = await inspector.post<Profiler.StopReturnType>('Profiler.stop', {}, STOP_DEADLINE_MS);
    return profile;
  } finally {
    inspector.post('Profiler.disable').catch((error: Error) => debug('Profiler.disable: %s', error.message));
  }
}

/** `profile [SECONDS] [PATH]`: a CPU profile of the main thread, taken from the monitor thread. */
export const profile = command({
  name: 'profile',
  description: 'Record a CPU profile of the main thread, even while it is blocked, to a .cpuprofile file and print the hottest functions',
  args: ['[SECONDS]', '[PATH]'],
  async run(ctx, { args: [secondsText, pathText] }) {
    const seconds = readSeconds(secondsText);
    await exclusively('a CPU profile', () => writeOutput(pathText, 'cpuprofile', async (file, handle) => {
      const { inspector } = ctx.main;
      // Precise coverage is one mode for the whole process: switching it off would spoil NODE_V8_COVERAGE's.
      const recompile = ctx.main.stalledMs() > BLOCKED_AFTER_MS && !process.env.NODE_V8_COVERAGE;
      const started = (): void => {
        ctx.print(`Profiling the main thread for ${seconds} s...`);
        if (recompile) ctx.print('The loop is blocked: its optimized code is dropped and compiled again, so that the profile can name the blocking function.');
      };
      // Profiler.start and Profiler.stop must reach the same session, or the profile is lost.
      const recorded = await inspector.hold(() => recordProfile(inspector, seconds, recompile, started));
      await handle.writeFile(JSON.stringify(recorded));
      const samples = recorded.samples?.length ?? 0;
      ctx.print(`✓ wrote ${file} (${samples} samples over ${((recorded.endTime - recorded.startTime) / 1e6).toFixed(2)} s); open it in Chrome DevTools or VS Code`);
      const hot = hottestFunctions(recorded, 10);
      const place = (fn: HotFunction): string => (fn.url ? `${displayUrl(fn.url)}:${fn.line}` : '');
      if (hot.length > 0) ctx.print(table(HOT_HEADER, hotRows(hot, place)));
    }));
  },
});

// The snapshot arrives as chunk events ahead of the answer, so one session must carry the whole exchange.
function takeSnapshot(inspector: MainInspector, handle: FileHandle, timeoutMs: number): Promise<void> {
  return inspector.hold(async (subscribe) => {
    // Chunks go to disk as they come; a failed write must not become an unhandled rejection in this thread.
    let writing: Promise<void> = Promise.resolve();
    let failure: Error | undefined;
    subscribe('HeapProfiler.addHeapSnapshotChunk', (message: { params: { chunk: string } }) => {
      writing = writing.then(() => (failure ? undefined : handle.writeFile(message.params.chunk))).catch((error: Error) => { failure ??= error; });
    });
    await inspector.post('HeapProfiler.enable');
    try {
      await inspector.post('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, timeoutMs);
    } finally {
      await inspector.post('HeapProfiler.disable').catch((error: Error) => debug('HeapProfiler.disable: %s', error.message));
    }
    await writing;
    if (failure) throw failure;
  });
}

function freeMemory(): number {
  const free = os.freemem();
  // availableMemory() is the cgroup limit (v1 or v2) less the cgroup's usage; Node 21 lacks it, and 0 can mean "could not read".
  const available = typeof process.availableMemory === 'function' ? process.availableMemory() : 0;
  return available > 0 ? Math.min(free, available) : free;
}

/** `heapsnapshot [PATH]`: a heap snapshot of the main thread, streamed to a file. */
export const heapsnapshot = command({
  name: 'heapsnapshot',
  description: "Write a .heapsnapshot of the main thread's heap; the main thread freezes while it is taken",
  args: ['[PATH]'],
  async run(ctx, { args: [pathText] }) {
    await exclusively('a heap snapshot', async () => {
      const answer = await ctx.main.inspector.post('Runtime.evaluate', { expression: 'process.memoryUsage().heapUsed', returnByValue: true, silent: true });
      const heapUsed = Number(answer.result?.value);
      if (!(heapUsed > 0)) throw new Error(`cannot read the main thread's heap size: ${answer.exceptionDetails?.text ?? 'no answer'}`);
      const free = freeMemory();
      if (free < 2 * heapUsed) {
        throw new UsageError(`not taking a heap snapshot: the main thread's heap uses ${megabytes(heapUsed)}, a snapshot needs at least as much again, and only ${megabytes(free)} is free (twice the heap is required)`);
      }
      await writeOutput(pathText, 'heapsnapshot', async (file, handle) => {
        ctx.print(`Taking a heap snapshot of ${megabytes(heapUsed)}: the main thread freezes until it is written, and the process needs at least ${megabytes(heapUsed)} more memory, several times that for a heap of many small objects (${megabytes(free)} free)...`);
        const started = Date.now();
        await takeSnapshot(ctx.main.inspector, handle, SNAPSHOT_BASE_MS + (heapUsed / 1024 ** 2) * SNAPSHOT_MS_PER_MB);
        const { size } = await handle.stat();
        ctx.print(`✓ wrote ${file} (${megabytes(size)}) in ${((Date.now() - started) / 1000).toFixed(1)} s; open it in Chrome DevTools (Memory tab)`);
      });
    });
  },
});
