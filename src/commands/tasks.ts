import type { CancelOutcome, TaskRow } from '../shared/rows';
import { functionLocations } from '../worker/locations';
import { duration, plural, printable, printableLines, table } from '../shared/text';
import { describeChain } from './creation-chain';
import { JSON_OPTION, printJson } from './json';
import { command, rowLimit, taskId, UsageError } from './types';

function countByType(rows: TaskRow[]): Record<string, number> {
  const byType: Record<string, number> = {};
  for (const row of rows) byType[row.type] = (byType[row.type] ?? 0) + 1;
  return byType;
}

function summaryLine(rows: TaskRow[], shown: number): string {
  const parts = Object.entries(countByType(rows)).map(([type, count]) => plural(count, type));
  const more = shown < rows.length ? `; showing ${shown}` : '';
  return `${plural(rows.length, 'task')}${parts.length ? ` (${parts.join(', ')})` : ''}${more}`;
}

const SORTS: Record<string, (a: TaskRow, b: TaskRow) => number> = {
  // Oldest first; tasks of unknown age (timers and handles seen without tracing) last.
  age: (a, b) => (b.age ?? -1) - (a.age ?? -1) || a.id - b.id,
  type: (a, b) => a.type.localeCompare(b.type) || a.id - b.id,
  name: (a, b) => (a.name ?? a.summary).localeCompare(b.name ?? b.summary) || a.id - b.id,
};

/** A task as JSON documents show it. */
export function taskJson(row: TaskRow): Record<string, unknown> {
  return { id: row.id, type: row.type, ref: row.ref, description: row.summary, name: row.name ?? null, ageMs: row.age ?? null, runningMs: row.running ?? null };
}

/** `ps`: what keeps the event loop alive. */
export const ps = command({
  name: 'ps',
  aliases: ['p'],
  description: 'List the tasks: named tasks, HTTP requests in flight, timers, servers, sockets, child processes, workers, requests',
  options: {
    filter: { type: 'string', alias: 'f', value: 'TEXT', description: 'only tasks whose type or description contains TEXT' },
    all: { type: 'boolean', alias: 'a', description: "also list unref'd timers, which do not keep the process alive" },
    sort: { type: 'string', alias: 's', value: 'age|type|name', description: 'order by age (oldest first), type or name instead of ID' },
    limit: { type: 'string', alias: 'n', value: 'N', description: 'show only the first N rows' },
    json: JSON_OPTION,
  },
  async run(ctx, { flags }) {
    const all = flags.all === true;
    const sortKey = flags.sort === undefined ? undefined : String(flags.sort);
    if (sortKey !== undefined && !Object.hasOwn(SORTS, sortKey)) throw new UsageError(`ps: --sort takes age, type or name, got ${JSON.stringify(sortKey)}`);
    const limit = rowLimit('ps', flags.limit);
    let rows = await ctx.main.read('list', all);
    const filter = typeof flags.filter === 'string' ? flags.filter.toLowerCase() : undefined;
    if (filter) rows = rows.filter((row) => `${row.type} ${row.summary}`.toLowerCase().includes(filter));
    if (sortKey) rows.sort(SORTS[sortKey]);
    const shown = rows.slice(0, limit);
    if (flags.json) return printJson(ctx, 'ps', { total: rows.length, byType: countByType(rows), tasks: shown.map(taskJson) });
    ctx.print(summaryLine(rows, shown.length));
    if (shown.length === 0) return;
    const withAge = shown.some((row) => row.age !== undefined);
    const header = ['ID', 'TYPE', ...(all ? ['REF'] : []), ...(withAge ? ['AGE'] : []), 'DESCRIPTION'];
    ctx.print(table(header, shown.map((row) => [
      String(row.id),
      row.type,
      ...(all ? [row.ref ? 'yes' : 'no'] : []),
      ...(withAge ? [row.age === undefined ? '' : duration(row.age)] : []),
      row.summary,
    ])));
  },
});

/** `where ID`: what the process knows about where a task comes from. */
export const where = command({
  name: 'where',
  aliases: ['w'],
  description: 'Show where a task comes from: the source location of its callback or listeners, and what it is',
  args: ['ID'],
  idsFrom: 'ps',
  options: { json: JSON_OPTION },
  async run(ctx, { args: [text], flags }) {
    const id = taskId(text);
    const found = await ctx.main.read('inspect', id);
    if (!found) throw new UsageError(`no task ${id}: it has ended or never existed; run ps to see the current IDs; ended tasks are in ps-terminated`);
    const { detail, labels } = found;
    const chain = describeChain(found.chain);
    const locations = labels.length ? await ctx.main.budgeted(() => functionLocations(ctx.main, id)) : [];
    if (flags.json) {
      return printJson(ctx, 'where', {
        task: taskJson(detail),
        facts: Object.fromEntries(detail.facts),
        functions: labels.map((label, i) => ({ label, location: locations[i] ?? null })),
        chain,
      });
    }
    ctx.print(`${detail.type} ${id}: ${printable(detail.summary)}`);
    for (const [name, value] of detail.facts) ctx.print(`  ${name}: ${printable(value)}`);
    labels.forEach((label, i) => ctx.print(`  ${label} defined at ${printable(locations[i] ?? 'unknown')}`));
    if (chain) ctx.print(printableLines(chain));
  },
});

/** `cancel ID`: ends a task. */
export const cancel = command({
  name: 'cancel',
  aliases: ['ca'],
  description: "Cancel a task: abort a named task's signal or an HTTP request, clear a timer, close a socket or server, end a child process or worker",
  args: ['ID'],
  idsFrom: 'ps',
  options: { json: { type: 'boolean', description: 'print what was done as one line of JSON (schema in the README)' } },
  async run(ctx, { args: [text], flags }) {
    const outcome: CancelOutcome = await ctx.main.call('cancel', taskId(text), ctx.peer);
    if (flags.json) return printJson(ctx, 'cancel', { ...outcome });
    ctx.print(`${outcome.ok ? '✓' : '✗'} ${printable(outcome.message)}`);
  },
});
