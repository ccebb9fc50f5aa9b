import type { TaskDetail, TaskRow } from '../main/tasks';
import { functionLocations } from '../worker/locations';
import { plural, table } from './format';
import { command, taskId, UsageError } from './types';

function summaryLine(rows: TaskRow[]): string {
  const byType = new Map<string, number>();
  for (const row of rows) byType.set(row.type, (byType.get(row.type) ?? 0) + 1);
  const parts = [...byType].map(([type, count]) => plural(count, type));
  return `${plural(rows.length, 'task')}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/** `ps`: what keeps the event loop alive. */
export const ps = command({
  name: 'ps',
  aliases: ['p'],
  description: 'List the tasks that keep the event loop alive: timers, servers, sockets, child processes, workers, requests',
  options: {
    filter: { type: 'string', alias: 'f', value: 'TEXT', description: 'only tasks whose type or description contains TEXT' },
    all: { type: 'boolean', alias: 'a', description: "also list unref'd timers, which do not keep the process alive" },
  },
  async run(ctx, { flags }) {
    const all = flags.all === true;
    let rows = await ctx.main.query<TaskRow[]>(`list(${all})`);
    const filter = typeof flags.filter === 'string' ? flags.filter.toLowerCase() : undefined;
    if (filter) rows = rows.filter((row) => `${row.type} ${row.summary}`.toLowerCase().includes(filter));
    ctx.print(summaryLine(rows));
    if (rows.length === 0) return;
    const header = all ? ['ID', 'TYPE', 'REF', 'DESCRIPTION'] : ['ID', 'TYPE', 'DESCRIPTION'];
    ctx.print(table(header, rows.map((row) => {
      const cells = [String(row.id), row.type, row.summary];
      if (all) cells.splice(2, 0, row.ref ? 'yes' : 'no');
      return cells;
    })));
  },
});

/** `where ID`: what the process knows about where a task comes from. */
export const where = command({
  name: 'where',
  aliases: ['w'],
  description: 'Show where a task comes from: the source location of its callback or listeners, and what it is',
  args: ['ID'],
  async run(ctx, { args: [text] }) {
    const id = taskId(text);
    const found = await ctx.main.query<{ detail: TaskDetail; labels: string[] } | null>(`inspect(${id})`);
    if (!found) throw new UsageError(`no task ${id}: it has ended or never existed; run ps to see the current IDs`);
    const { detail, labels } = found;
    ctx.print(`${detail.type} ${id}: ${detail.summary}`);
    for (const [name, value] of detail.facts) ctx.print(`  ${name}: ${value}`);
    if (labels.length > 0) {
      const locations = await functionLocations(ctx.main, id);
      labels.forEach((label, i) => ctx.print(`  ${label} defined at ${locations[i] ?? 'unknown'}`));
    }
    const chain = await ctx.main.query<string | null>(`chain(${id})`);
    if (chain) ctx.print(chain);
  },
});

/** `cancel ID`: ends a task. */
export const cancel = command({
  name: 'cancel',
  aliases: ['ca'],
  description: 'Cancel a task: clear a timer, close a socket or server, terminate a child process or worker',
  args: ['ID'],
  async run(ctx, { args: [text] }) {
    ctx.print(await ctx.main.call<string>('cancel', taskId(text), ctx.peer));
  },
});
