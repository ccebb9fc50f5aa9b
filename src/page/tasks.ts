/** The Tasks tab: `ps --json` as a table with its filter and sorts, `where ID` on a click, `cancel ID` behind a question. */
import { failure, getDoc, postDoc } from './api';
import { ask } from './confirm';
import type { CancelDoc, PsDoc, TaskDoc, WhereDoc } from './documents';
import { byId, duration, fill, h, note, row, table } from './dom';
import { pollListing, type Poll } from './poll';

/** The columns ps can sort by, and the ps --sort value of each (ID is its default order). */
const COLUMNS: { title: string; sort?: string }[] = [
  { title: 'ID', sort: '' },
  { title: 'TYPE', sort: 'type' },
  { title: 'AGE', sort: 'age' },
  { title: 'RUNNING' },
  { title: 'DESCRIPTION', sort: 'name' },
  { title: '' },
];

/** Starts the Tasks tab; `isShown` says whether it is the visible one, `onCancelled` hears of each cancel. */
export function startTasks(isShown: () => boolean, onCancelled: () => void): Poll {
  const list = byId('tasks-list');
  const summary = byId('tasks-summary');
  const trouble = byId('tasks-note');
  const result = byId('tasks-result');
  const detail = byId('tasks-detail');
  const filter = byId<HTMLInputElement>('tasks-filter');
  const all = byId<HTMLInputElement>('tasks-all');
  let sort = '';
  let selected: number | undefined;
  let doc: PsDoc | undefined;

  const render = (): void => {
    if (!doc) return;
    const header = COLUMNS.map((column) => {
      if (column.sort === undefined) return h('th', {}, column.title);
      const th = h('th', { class: 'sortable', title: column.sort ? `sort by ${column.sort} (ps --sort ${column.sort})` : 'sort by ID' }, column.title, sort === column.sort ? ' ▲' : '');
      th.addEventListener('click', () => { sort = column.sort ?? ''; reads.now(); });
      return th;
    });
    const rows = doc.tasks.map((task) => taskRow(task, task.id === selected, () => { selected = task.id; render(); void showWhere(task.id); }, () => void cancel(task)));
    fill(list, rows.length ? table(header, rows) : h('p', { class: 'empty' }, 'No tasks match.'));
    const byType = Object.entries(doc.byType).map(([type, count]) => `${count} ${type}`).join(', ');
    summary.textContent = `${doc.total} task${doc.total === 1 ? '' : 's'}${byType ? ` (${byType})` : ''}`;
  };

  const showWhere = async (id: number): Promise<void> => {
    fill(detail, h('p', { class: 'empty' }, `Reading where ${id}...`));
    try {
      fill(detail, whereView(await getDoc<WhereDoc>(['where', id])));
    } catch (error) {
      const { text, kind } = failure(error);
      fill(detail, h('p', { class: `note ${kind}` }, text));
    }
  };

  const cancel = async (task: TaskDoc): Promise<void> => {
    if (!(await ask(`Cancel ${task.type} ${task.id}: ${task.description}?`, 'Cancel task'))) return;
    try {
      const answer = await postDoc<CancelDoc>(['cancel', task.id]);
      note(result, `${answer.ok ? '✓' : '✗'} ${answer.message}`, answer.ok ? 'quiet' : 'error');
      result.classList.toggle('ok', answer.ok);
    } catch (error) {
      const { text } = failure(error);
      note(result, text.startsWith('✗') ? text : `✗ ${text}`, 'error');
    }
    reads.now();
    onCancelled();
  };

  const reads = pollListing(2000, (text) => getDoc<PsDoc>(['ps'], { filter: text, sort, all: all.checked }), (read) => { doc = read; render(); }, trouble, filter, isShown);
  all.addEventListener('change', () => reads.now());
  return reads;
}

function taskRow(task: TaskDoc, selected: boolean, onSelect: () => void, onCancel: () => void): HTMLTableRowElement {
  const button = h('button', { class: 'small', title: `cancel ${task.id}` }, 'Cancel');
  button.addEventListener('click', (event) => { event.stopPropagation(); onCancel(); });
  const tr = row(
    String(task.id),
    task.type + (task.ref ? '' : ' (unref)'),
    task.ageMs === null ? '' : duration(task.ageMs),
    task.runningMs === null ? '' : h('td', { class: 'running' }, `running ${duration(task.runningMs)}`),
    h('td', { class: 'wide' }, task.description),
    h('td', {}, button),
  );
  tr.dataset.id = String(task.id);
  tr.className = selected ? 'selected clickable' : 'clickable';
  tr.addEventListener('click', onSelect);
  return tr;
}

function whereView(doc: WhereDoc): HTMLElement {
  const facts = Object.entries(doc.facts);
  return h('div', {},
    h('h3', {}, `${doc.task.type} ${doc.task.id}: ${doc.task.description}`),
    facts.length ? h('dl', {}, ...facts.flatMap(([label, text]) => [h('dt', {}, label), h('dd', {}, text)])) : null,
    doc.functions.length ? h('dl', {}, ...doc.functions.flatMap((fn) => [h('dt', {}, `${fn.label} defined at`), h('dd', {}, h('code', {}, fn.location))])) : null,
    doc.chain ? h('div', {}, h('h4', {}, 'Creation chain'), h('pre', {}, doc.chain)) : h('p', { class: 'aside' }, 'No creation chain: turn tracing on (trace on) before the task is created to record one.'));
}
