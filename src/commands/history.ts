import type { EndedRow } from '../shared/rows';
import { ago, duration, plural, printable, printableLines, table } from '../shared/text';
import { formatChain } from './creation-chain';
import { isoTime, JSON_OPTION, printJson } from './json';
import { command, rowLimit, taskId, UsageError } from './types';

/** A finished task as JSON documents show it. */
function endedJson(task: EndedRow): Record<string, unknown> {
  return {
    id: task.id, type: task.type, name: task.name, description: task.summary, outcome: task.outcome,
    detail: task.detail ?? null, cancelledBy: task.cancelledBy ?? null,
    startedAt: isoTime(task.started), endedAt: isoTime(task.ended), ranMs: task.ended - task.started,
  };
}

const NOTHING_YET = 'No finished tasks yet. Named tasks and failed HTTP requests are kept when they end; with tracing on (trace on), timers and handles too.';

/** `ps-terminated`: tasks that finished, failed or were cancelled. */
export const psTerminated = command({
  name: 'ps-terminated',
  aliases: ['pt', 'pst'],
  description: 'List finished tasks, newest first: how each ended (done, error, cancelled) and when',
  options: {
    filter: { type: 'string', alias: 'f', value: 'TEXT', description: 'only tasks whose type, description or outcome contains TEXT' },
    limit: { type: 'string', alias: 'n', value: 'N', description: 'show only the newest N' },
    json: JSON_OPTION,
  },
  async run(ctx, { flags }) {
    const limit = rowLimit('ps-terminated', flags.limit);
    const history = await ctx.main.read('ended');
    let tasks = history.tasks.reverse();
    const counted = Object.entries(history.doneCounts).map(([type, count]) => `${count} ${type}`).join(', ');
    const countedLine = counted && `Requests that ended normally are counted, not kept: ${counted}.`;
    const filter = typeof flags.filter === 'string' ? flags.filter.toLowerCase() : undefined;
    if (filter) tasks = tasks.filter((task) => `${task.type} ${task.summary} ${task.outcome} ${task.detail ?? ''}`.toLowerCase().includes(filter));
    const shown = tasks.slice(0, limit);
    if (flags.json) return printJson(ctx, 'ps-terminated', { total: tasks.length, tasks: shown.map(endedJson), doneCounts: history.doneCounts });
    if (tasks.length === 0) {
      ctx.print(filter ? 'No finished task matches.' : NOTHING_YET);
      if (countedLine) ctx.print(countedLine);
      return;
    }
    const outcomes = new Map<string, number>();
    for (const task of tasks) outcomes.set(task.outcome, (outcomes.get(task.outcome) ?? 0) + 1);
    const counts = [...outcomes].map(([outcome, count]) => `${count} ${outcome}`).join(', ');
    ctx.print(`${plural(tasks.length, 'finished task')} (${counts}), newest first${shown.length < tasks.length ? `; showing ${shown.length}` : ''}`);
    ctx.print(table(['ID', 'TYPE', 'ENDED', 'RAN', 'OUTCOME', 'DESCRIPTION'], shown.map((task) => [
      String(task.id), task.type, ago(task.ended), duration(task.ended - task.started), task.outcome,
      task.detail ? `${task.summary}: ${task.detail}` : task.summary,
    ])));
    if (countedLine) ctx.print(countedLine);
  },
});

/** `where-terminated ID`: how and where a finished task ended. */
export const whereTerminated = command({
  name: 'where-terminated',
  aliases: ['wt'],
  description: 'Show how a finished task ended: its error and where it was thrown, or who cancelled it and from where',
  args: ['ID'],
  idsFrom: 'ps-terminated',
  options: { json: JSON_OPTION },
  async run(ctx, { args: [text], flags }) {
    const id = taskId(text);
    const task = await ctx.main.read('endedTask', id);
    const chain = task?.chain ? formatChain(task.chain) : null;
    if (!task) throw new UsageError(`no finished task ${id}: it is still running (see ps), never existed, or is older than the history keeps; run ps-terminated to see the IDs`);
    if (flags.json) return printJson(ctx, 'where-terminated', { task: { ...endedJson(task), stack: task.stack }, chain });
    const detail = task.detail && printable(task.detail);
    ctx.print(`${task.type} ${id}: ${printable(task.summary)}`);
    ctx.print(`  ${task.outcome} at ${ago(task.ended)}, after running ${duration(task.ended - task.started)}`);
    if (task.cancelledBy) ctx.print(`  cancelled by: ${task.cancelledBy}`);
    if (detail) ctx.print(`  ${task.outcome === 'error' ? 'error' : 'detail'}: ${detail}`);
    if (task.frames.length > 0) {
      ctx.print(`${task.outcome === 'cancelled' ? 'Cancelled from' : 'Ended'} (most recent call last):`);
      for (const frame of task.frames) ctx.print(`    ${printable(frame)}`);
      if (task.outcome === 'error' && detail) ctx.print(`  ${detail}`);
    }
    if (chain) ctx.print(printableLines(chain));
  },
});
