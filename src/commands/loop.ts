import type { DelayStats, LoopReport } from '../shared/rows';
import type { Block } from '../worker/watchdog';
import { ago, frame as describeFrame, msCell, percent, plural, printable, size, table } from '../shared/text';
import { isoTime, JSON_OPTION, printJson } from './json';
import { command, taskId, UsageError } from './types';

/** Blocks grouped by stack, most total time first. */
function topBlocks(blocks: Block[]): { count: number; totalMs: number; longestMs: number; where: string }[] {
  const groups = new Map<string, { count: number; totalMs: number; longestMs: number; where: string }>();
  for (const block of blocks) {
    // The whole stack decides the group: the same function reached from two places is two problems.
    const key = block.frames ? block.frames.map(describeFrame).join('|') : block.where;
    const group = groups.get(key) ?? { count: 0, totalMs: 0, longestMs: 0, where: block.where };
    group.count++;
    group.totalMs += block.durationMs;
    group.longestMs = Math.max(group.longestMs, block.durationMs);
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => b.totalMs - a.totalMs);
}

/** `blocks`: the stalls of the event loop, caught in the act. */
export const blocks = command({
  name: 'blocks',
  aliases: ['b'],
  description: 'List the times the event loop was blocked, with where, newest first; blocks ID shows the whole stack',
  args: ['[ID]'],
  idsFrom: 'blocks',
  options: {
    top: { type: 'boolean', alias: 't', description: 'group the blocks by stack, with count and total time' },
    json: JSON_OPTION,
  },
  run(ctx, { args: [text], flags }) {
    const seen = ctx.watchdog.blocks();
    const toJson = (b: Block): Record<string, unknown> => ({ id: b.id, startedAt: isoTime(b.startedAt), durationMs: b.durationMs, where: b.where, frames: b.frames ?? null });
    if (text !== undefined) {
      const id = taskId(text);
      const block = seen.find((b) => b.id === id);
      if (!block) throw new UsageError(`no block ${id}: the last ${seen.length} are kept; run blocks to see their IDs`);
      if (flags.json) return printJson(ctx, 'blocks', { blocks: [toJson(block)] });
      ctx.print(`block ${id}: ${block.durationMs} ms, started ${ago(block.startedAt)}`);
      if (!block.frames) ctx.print(`  ${printable(block.where)}`);
      for (const f of block.frames ?? []) ctx.print(printable(`    at ${describeFrame(f)}`));
      return;
    }
    const stalled = ctx.watchdog.stalledMs();
    if (flags.json) {
      return printJson(ctx, 'blocks', { blockedNowMs: stalled, blocks: seen.map(toJson), ...(flags.top ? { groups: topBlocks(seen) } : {}) });
    }
    if (stalled > 0) ctx.print(`The event loop is blocked right now, for ${stalled} ms so far.`);
    if (seen.length === 0) {
      ctx.print('No blocks so far.');
      return;
    }
    if (flags.top) {
      ctx.print(`${plural(seen.length, 'block')}, grouped by stack, most total time first`);
      ctx.print(table(['COUNT', 'TOTAL', 'LONGEST', 'WHERE'], topBlocks(seen).map((g) => [String(g.count), `${g.totalMs} ms`, `${g.longestMs} ms`, g.where])));
      return;
    }
    ctx.print(`${plural(seen.length, 'block')}, newest first`);
    ctx.print(table(['ID', 'WHEN', 'DURATION', 'WHERE'], seen.map((b) => [String(b.id), ago(b.startedAt), `${b.durationMs} ms`, b.where])));
  },
});

function delayRow(label: string, stats: DelayStats): string[] {
  return [label, ...[stats.p50, stats.p90, stats.p99, stats.max].map(msCell), String(stats.samples)];
}

function describeLoop(report: LoopReport, stalledMs: number): string {
  const resources = Object.entries(report.resources).sort((a, b) => b[1] - a[1]).map(([type, count]) => `${type} ${count}`);
  return [
    table(['EVENT LOOP DELAY (ms)', 'P50', 'P90', 'P99', 'MAX', 'SAMPLES'], [delayRow('last minute', report.lastMinute), delayRow('since start', report.sinceStart)]),
    `Utilization: ${percent(report.utilization.lastMinute)} last minute, ${percent(report.utilization.sinceStart)} since start`,
    stalledMs > 0 ? `Blocked right now, for ${stalledMs} ms so far` : 'Not blocked now',
    `Active handles and requests: ${resources.join(', ') || 'none'}`,
  ].join('\n');
}

const WATCH_MS = 1000;

/** `loop`: event-loop delay, utilization and what is active. */
export const loop = command({
  name: 'loop',
  description: 'Show event-loop delay percentiles, utilization, the current stall and active handles; --watch redraws',
  options: {
    watch: { type: 'boolean', alias: 'w', description: 'redraw every second until Enter' },
    json: JSON_OPTION,
  },
  async run(ctx, { flags }) {
    if (flags.json) {
      const report = await ctx.main.read('loop');
      return printJson(ctx, 'loop', { blockedNowMs: ctx.watchdog.stalledMs(), ...report });
    }
    const draw = async (): Promise<string> => {
      const report = await ctx.main.read('loop');
      if (!report) throw new UsageError('the monitor has stopped measuring the loop');
      return describeLoop(report, ctx.watchdog.stalledMs());
    };
    if (!flags.watch) {
      ctx.print(await draw());
      return;
    }
    do {
      // Clear the screen and home the cursor, so each second replaces the last.
      ctx.print(`\x1b[H\x1b[2J${await draw()}\n\n(Enter stops)`);
    } while (!(await ctx.waitForInput(WATCH_MS)));
  },
});

/** `mem`: memory of the process and the main thread's heap. */
export const mem = command({
  name: 'mem',
  description: "Show process memory, the main thread's V8 heap spaces, and garbage collections by kind since the first mem",
  options: { json: JSON_OPTION },
  async run(ctx, { flags }) {
    const report = await ctx.main.read('mem');
    if (flags.json) return printJson(ctx, 'mem', { ...report, gc: report.gc && { ...report.gc, since: isoTime(report.gc.since) } });
    const { memory, heapSpaces, gc } = report;
    ctx.print(`Process: rss ${size(memory.rss)}, heap ${size(memory.heapUsed)} used of ${size(memory.heapTotal)}, external ${size(memory.external)}, array buffers ${size(memory.arrayBuffers)}`);
    ctx.print(table(['HEAP SPACE', 'SIZE', 'USED', 'AVAILABLE'], heapSpaces.map((s) => [s.name, size(s.size), size(s.used), size(s.available)])));
    if (!gc) return;
    const kinds = Object.entries(gc.kinds);
    const since = `since the first mem, ${ago(gc.since)}`;
    ctx.print(kinds.length === 0
      ? `No garbage collections ${since}; run mem again later to see them.`
      : `Garbage collections ${since}:\n${table(['KIND', 'COUNT', 'TOTAL ms'], kinds.map(([kind, seen]) => [kind, String(seen.count), msCell(seen.totalMs)]))}`);
  },
});
