import type { FileHandle } from 'node:fs/promises';
import type { HeapProfiler, Profiler } from 'node:inspector';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDebug } from '../shared/log';
import { diagnosticsExpression, type DiagnosticsHook } from '../shared/contract';
import { HOT_HEADER, hotRows, hottestFunctions, type HotFunction } from '../worker/cpuprofile';
import { SITE_HEADER, sampledBytes, siteRows, topAllocationSites, type AllocationSite } from '../worker/heapprofile';
import { type MainInspector } from '../worker/inspector';
import { writeOutput, type ExitGuard } from '../worker/output-file';
import { BLOCKED_AFTER_MS, displayUrl } from '../worker/stack';
import { duration, size, table } from '../shared/text';
import { JSON_OPTION, printJson } from './json';
import { command, UsageError } from './types';
import { deadlines } from '../worker/deadlines';

const debug = createDebug('aiomonitor:diagnostics');

/** How long `profile` records when SECONDS is not given. */
export const DEFAULT_SECONDS = 5;
/** How long `heapprofile` samples when SECONDS is not given. */
export const DEFAULT_HEAP_SECONDS = 10;
const MIN_SECONDS = 0.1;
const MAX_SECONDS = 600;
const SAMPLING_INTERVAL_US = 1000;
// V8's default: a sample every 32 KiB allocated on average, cheap enough for an app in production.
const HEAP_SAMPLING_INTERVAL_BYTES = 32 * 1024;
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

/** Runs a method of the main thread's diagnostics hook; its exception becomes this thread's error. */
async function callHook<M extends keyof DiagnosticsHook>(inspector: MainInspector, method: M, args: Parameters<DiagnosticsHook[M]>, timeoutMs = deadlines.mainMs): Promise<ReturnType<DiagnosticsHook[M]>> {
  const answer = await inspector.post('Runtime.evaluate', { expression: diagnosticsExpression(method, args), returnByValue: true, silent: true }, timeoutMs);
  if (answer.exceptionDetails) throw new Error(answer.exceptionDetails.exception?.description?.split('\n')[0] ?? answer.exceptionDetails.text);
  return answer.result?.value as ReturnType<DiagnosticsHook[M]>;
}

/** What removes a file when the process ends (on the main thread, which outlives this one at exit). */
export function exitGuard(inspector: MainInspector): ExitGuard {
  return {
    track: (file) => callHook(inspector, 'track', [file]),
    untrack: (file) => callHook(inspector, 'untrack', [file]),
  };
}

function readSeconds(name: string, text: string | undefined, defaultSeconds: number): number {
  if (text === undefined) return defaultSeconds;
  const seconds = /^(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : NaN;
  if (!(seconds >= MIN_SECONDS && seconds <= MAX_SECONDS)) {
    throw new UsageError(`${name}: SECONDS must be a number from ${MIN_SECONDS} to ${MAX_SECONDS}, not ${JSON.stringify(text)}; usage: ${name} [SECONDS] [PATH]`);
  }
  return seconds;
}

class ProfileInterrupted extends Error {}

/** A profiler of the main thread, driven through the diagnostics hook on the main thread's own session. */
interface Sampler {
  /** Starts it; resolves with why it did not start, or null. */
  start(maxMs: number): Promise<string | null>;
  /** Stops it: with `keep`, resolves with the profile's JSON, or null when someone else stopped it meanwhile. */
  stop(keep: boolean): Promise<string | null>;
  /** What the user is told when the profile was lost. */
  lost: string;
}

/** Runs `sampler` for `seconds` and returns its profile's JSON; Ctrl-C stops it and throws the profile away. */
async function sampleFor(sampler: Sampler, seconds: number, interrupted: AbortSignal, started: () => void): Promise<string> {
  const refusal = await sampler.start(seconds * 1000 + 2 * STOP_DEADLINE_MS);
  if (refusal !== null) throw new UsageError(refusal);
  started();
  try {
    await sleep(seconds * 1000, undefined, { signal: interrupted });
  } catch {
    // Only an abort rejects the sleep.
    sampler.stop(false).catch((error: Error) => debug('stopping a profile: %s', error.message));
    throw new ProfileInterrupted();
  }
  const json = await sampler.stop(true);
  if (json === null) throw new Error(sampler.lost);
  return json;
}

/** The CPU profiler (see diagnostics-hook); `recompile` asks for precise per-line ticks. */
function cpuSampler(inspector: MainInspector, recompile: boolean): Sampler {
  return {
    start: async (maxMs) => {
      await callHook(inspector, 'startProfile', [SAMPLING_INTERVAL_US, recompile, Date.now() + STOP_DEADLINE_MS, maxMs], STOP_DEADLINE_MS);
      return null;
    },
    stop: (keep) => callHook(inspector, 'stopProfile', [keep], keep ? STOP_DEADLINE_MS : undefined),
    lost: 'the profile was lost: the main thread stopped the profiler',
  };
}

/** `profile [SECONDS] [PATH]`: a CPU profile of the main thread, taken from the monitor thread. */
export const profile = command({
  name: 'profile',
  description: 'Record a CPU profile of the main thread, even while it is blocked, to a .cpuprofile file and print the hottest functions',
  args: ['[SECONDS]', '[PATH]'],
  options: { json: JSON_OPTION },
  async run(ctx, { args: [secondsText, pathText], flags }) {
    const seconds = readSeconds('profile', secondsText, DEFAULT_SECONDS);
    const { inspector } = ctx.main;
    await exclusively('a CPU profile', () => writeOutput(pathText, 'cpuprofile', exitGuard(inspector), async (file, handle) => {
      // Precise coverage is one mode for the whole process: switching it off would spoil NODE_V8_COVERAGE's.
      const recompile = ctx.main.stalledMs() > BLOCKED_AFTER_MS && !process.env.NODE_V8_COVERAGE;
      const started = (): void => {
        if (flags.json) return;
        ctx.print(`Profiling the main thread for ${seconds} s...`);
        if (recompile) ctx.print('The loop is blocked: its optimized code is dropped and compiled again, so that the profile can name the blocking function.');
      };
      let recorded: Profiler.Profile;
      try {
        recorded = JSON.parse(await sampleFor(cpuSampler(inspector, recompile), seconds, ctx.interrupted, started)) as Profiler.Profile;
      } catch (error) {
        if (error instanceof ProfileInterrupted) throw new UsageError(`profile interrupted; nothing was written, ${file} is removed`);
        throw error;
      }
      await handle.writeFile(JSON.stringify(recorded));
      const samples = recorded.samples?.length ?? 0;
      const recordedSeconds = (recorded.endTime - recorded.startTime) / 1e6;
      const hot = hottestFunctions(recorded, 10);
      if (flags.json) return printJson(ctx, 'profile', { file, samples, seconds: recordedSeconds, hot });
      ctx.print(`✓ wrote ${file} (${samples} samples over ${recordedSeconds.toFixed(2)} s); open it in Chrome DevTools or VS Code`);
      const place = (fn: HotFunction): string => (fn.url ? `${displayUrl(fn.url)}:${fn.line}` : '');
      if (hot.length > 0) ctx.print(table(HOT_HEADER, hotRows(hot, place)));
    }));
  },
});

// Node 20's types lack the samples, which V8 has listed since 2019.
type SampledHeap = HeapProfiler.SamplingHeapProfile & { samples?: unknown[] };

/** V8's sampling heap profiler, of which the process has one: it refuses to start while someone else samples. */
function heapSampler(inspector: MainInspector): Sampler {
  return {
    start: (maxMs) => callHook(inspector, 'startHeapProfile', [HEAP_SAMPLING_INTERVAL_BYTES, Date.now() + STOP_DEADLINE_MS, maxMs], STOP_DEADLINE_MS),
    stop: (keep) => callHook(inspector, 'stopHeapProfile', [keep], keep ? STOP_DEADLINE_MS : undefined),
    lost: 'the heap profile was lost: the sampling heap profiler was stopped on the main thread',
  };
}

/** `heapprofile [SECONDS] [PATH]`: V8's sampling heap profiler on the main thread, which goes on running meanwhile. */
export const heapprofile = command({
  name: 'heapprofile',
  description: "Sample the main thread's allocations (it keeps running) to a .heapprofile file and print where the most memory was allocated",
  args: ['[SECONDS]', '[PATH]'],
  options: { json: JSON_OPTION },
  async run(ctx, { args: [secondsText, pathText], flags }) {
    const seconds = readSeconds('heapprofile', secondsText, DEFAULT_HEAP_SECONDS);
    const { inspector } = ctx.main;
    await exclusively('a heap profile', () => writeOutput(pathText, 'heapprofile', exitGuard(inspector), async (file, handle) => {
      const started = (): void => { if (!flags.json) ctx.print(`Sampling the main thread's allocations for ${seconds} s; the app keeps running...`); };
      let recorded: SampledHeap;
      try {
        recorded = JSON.parse(await sampleFor(heapSampler(inspector), seconds, ctx.interrupted, started)) as SampledHeap;
      } catch (error) {
        if (error instanceof ProfileInterrupted) throw new UsageError(`heapprofile interrupted; nothing was written, ${file} is removed`);
        throw error;
      }
      await handle.writeFile(JSON.stringify(recorded));
      const samples = recorded.samples?.length ?? 0;
      const sites = topAllocationSites(recorded, 10);
      if (flags.json) return printJson(ctx, 'heapprofile', { file, samples, sampledBytes: sampledBytes(recorded.head), sites });
      ctx.print(`✓ wrote ${file} (${samples} samples, ${size(sampledBytes(recorded.head))} allocated and not yet collected); open it in Chrome DevTools (Memory tab)`);
      const place = (site: AllocationSite): string => (site.url ? `${displayUrl(site.url)}:${site.line}` : '');
      if (sites.length > 0) ctx.print(table(SITE_HEADER, siteRows(sites, place)));
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
  options: { json: JSON_OPTION },
  async run(ctx, { args: [pathText], flags }) {
    await exclusively('a heap snapshot', async () => {
      const answer = await ctx.main.inspector.post('Runtime.evaluate', { expression: 'process.memoryUsage().heapUsed', returnByValue: true, silent: true });
      const heapUsed = Number(answer.result?.value);
      if (!(heapUsed > 0)) throw new Error(`cannot read the main thread's heap size: ${answer.exceptionDetails?.text ?? 'no answer'}`);
      const free = freeMemory();
      if (free < 2 * heapUsed) {
        throw new UsageError(`not taking a heap snapshot: the main thread's heap uses ${size(heapUsed)}, a snapshot needs at least as much again, and only ${size(free)} is free (twice the heap is required)`);
      }
      await writeOutput(pathText, 'heapsnapshot', exitGuard(ctx.main.inspector), async (file, handle) => {
        if (!flags.json) ctx.print(`Taking a heap snapshot of ${size(heapUsed)}: the main thread freezes until it is written, and the process needs at least ${size(heapUsed)} more memory, several times that for a heap of many small objects (${size(free)} free)...`);
        const started = Date.now();
        await takeSnapshot(ctx.main.inspector, handle, SNAPSHOT_BASE_MS + (heapUsed / 1024 ** 2) * SNAPSHOT_MS_PER_MB);
        const { size: written } = await handle.stat();
        if (flags.json) return printJson(ctx, 'heapsnapshot', { file, bytes: written, seconds: (Date.now() - started) / 1000 });
        ctx.print(`✓ wrote ${file} (${size(written)}) in ${duration(Date.now() - started)}; open it in Chrome DevTools (Memory tab)`);
      });
    });
  },
});
