/** The Finished tab: `ps-terminated --json` as a table, `where-terminated ID` on a click. */
import { failure, getDoc } from './api';
import type { EndedDetailDoc, EndedDoc, EndedListDoc } from './documents';
import { byId, clock, duration, fill, h, row, table } from './dom';
import { pollListing, type Poll } from './poll';

/** Starts the Finished tab; `isShown` says whether it is the visible one. */
export function startFinished(isShown: () => boolean): Poll {
  const list = byId('finished-list');
  const summary = byId('finished-summary');
  const trouble = byId('finished-note');
  const detail = byId('finished-detail');
  const filter = byId<HTMLInputElement>('finished-filter');
  let selected: number | undefined;

  const showDetail = async (id: number): Promise<void> => {
    fill(detail, h('p', { class: 'empty' }, `Reading where-terminated ${id}...`));
    try {
      fill(detail, detailView(await getDoc<EndedDetailDoc>(['where-terminated', id])));
    } catch (error) {
      const { text, kind } = failure(error);
      fill(detail, h('p', { class: `note ${kind}` }, text));
    }
  };

  let doc: EndedListDoc | undefined;
  const render = (): void => {
    if (!doc) return;
    const rows = doc.tasks.map((task) => {
      const tr = row(String(task.id), task.type, clock(task.endedAt), duration(task.ranMs), h('td', { class: `outcome ${task.outcome}` }, task.outcome),
        h('td', { class: 'wide' }, task.description, task.detail ? h('span', { class: 'aside' }, `: ${task.detail}`) : null));
      tr.dataset.id = String(task.id);
      tr.className = task.id === selected ? 'selected clickable' : 'clickable';
      tr.addEventListener('click', () => { selected = task.id; render(); void showDetail(task.id); });
      return tr;
    });
    fill(list, rows.length ? table(['ID', 'TYPE', 'ENDED', 'RAN', 'OUTCOME', 'DESCRIPTION'], rows) : h('p', { class: 'empty' }, 'No finished tasks.'));
    const done = Object.entries(doc.doneCounts).map(([type, count]) => `${count} ${type}`).join(', ');
    summary.textContent = `${doc.total} finished task${doc.total === 1 ? '' : 's'}, newest first${done ? `; answered normally (counted, not kept): ${done}` : ''}`;
  };

  const reads = pollListing(3000, (text) => getDoc<EndedListDoc>(['ps-terminated'], { filter: text }), (read) => { doc = read; render(); }, trouble, filter, isShown);
  return reads;
}

function detailView(doc: EndedDetailDoc): HTMLElement {
  const task: EndedDoc & { stack: string | null } = doc.task;
  const facts: [string, string | null][] = [
    ['outcome', `${task.outcome} at ${clock(task.endedAt)}, after running ${duration(task.ranMs)}`],
    ['started', clock(task.startedAt)],
    [task.outcome === 'error' ? 'error' : 'detail', task.detail],
    ['cancelled by', task.cancelledBy],
  ];
  return h('div', {},
    h('h3', {}, `${task.type} ${task.id}: ${task.name || task.description}`),
    h('dl', {}, ...facts.filter(([, text]) => text).flatMap(([label, text]) => [h('dt', {}, label), h('dd', {}, text)])),
    task.stack ? h('div', {}, h('h4', {}, 'Stack'), h('pre', {}, task.stack)) : null,
    doc.chain ? h('div', {}, h('h4', {}, 'Creation chain'), h('pre', {}, doc.chain)) : null);
}
