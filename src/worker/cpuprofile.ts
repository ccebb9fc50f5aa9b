import { alignRight, msCell, percent } from '../shared/text';
import type { Profiler } from 'node:inspector';

/** A function's share of a CPU profile, by self time (time on top of the stack). */
export interface HotFunction {
  /** The function's name; V8's own entries keep theirs, e.g. '(program)' or '(garbage collector)'. */
  name: string;
  /** Its script's URL as V8 reports it, '' for V8's own entries. */
  url: string;
  /** 1-based line of the function's definition. */
  line: number;
  selfMs: number;
  /** Share of all sampled time, 0 to 100. */
  percent: number;
}

/**
 * Microseconds each profile node spent on top of the stack. A sample lasts until the next one,
 * as in Chrome DevTools, so an irregular sampler (a thread stuck in a syscall) is weighted right;
 * a profile without a timeline falls back to hit counts times the average interval.
 */
export function selfTimes(profile: Profiler.Profile): Map<number, number> {
  const times = new Map<number, number>();
  const add = (id: number, us: number): void => { times.set(id, (times.get(id) ?? 0) + us); };
  const { samples, timeDeltas } = profile;
  if (samples && timeDeltas && samples.length > 0 && timeDeltas.length === samples.length) {
    let at = profile.startTime;
    const stamps = timeDeltas.map((delta) => (at += delta));
    samples.forEach((id, i) => {
      const next = i + 1 < stamps.length ? stamps[i + 1] : Math.max(profile.endTime, stamps[i]);
      // V8 may record a sample slightly out of order; a negative span would take time from another function.
      add(id, Math.max(0, next - stamps[i]));
    });
    return times;
  }
  const hits = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const interval = hits > 0 ? (profile.endTime - profile.startTime) / hits : 0;
  for (const node of profile.nodes) if (node.hitCount) add(node.id, node.hitCount * interval);
  return times;
}

/** The `limit` functions with the most self time, hottest first; a function reached along several call paths counts once. */
export function hottestFunctions(profile: Profiler.Profile, limit = 10): HotFunction[] {
  const times = selfTimes(profile);
  const total = [...times.values()].reduce((sum, us) => sum + us, 0);
  const byFunction = new Map<string, { frame: Profiler.ProfileNode['callFrame']; us: number }>();
  for (const node of profile.nodes) {
    const us = times.get(node.id);
    if (!us) continue;
    const { functionName, scriptId, url, lineNumber, columnNumber } = node.callFrame;
    const key = `${scriptId}\0${url}\0${lineNumber}\0${columnNumber}\0${functionName}`;
    const entry = byFunction.get(key);
    if (entry) entry.us += us;
    else byFunction.set(key, { frame: node.callFrame, us });
  }
  return [...byFunction.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, limit)
    .map(({ frame, us }) => ({
      name: frame.functionName || '(anonymous)',
      url: frame.url,
      line: frame.lineNumber + 1,
      selfMs: us / 1000,
      percent: total > 0 ? (us / total) * 100 : 0,
    }));
}

/** The titles of hotRows' columns. */
export const HOT_HEADER = ['SELF MS', 'SELF %', 'FUNCTION', 'LOCATION'];

/** Table rows for `hot`, numbers right-aligned under their titles; `place` says where a function is. */
export function hotRows(hot: HotFunction[], place: (fn: HotFunction) => string): string[][] {
  const ms = alignRight(HOT_HEADER[0], hot.map((fn) => msCell(fn.selfMs)));
  const percents = alignRight(HOT_HEADER[1], hot.map((fn) => percent(fn.percent / 100)));
  return hot.map((fn, i) => [ms[i], percents[i], fn.name, place(fn)]);
}
