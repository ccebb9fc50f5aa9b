/** The Blocks tab: `blocks --top --json` as a timeline, a table and the grouped view; a block's stack on a click. */
import { failure, getDoc } from './api';
import type { BlockDoc, BlocksDoc } from './documents';
import { byId, clock, duration, fill, h, note, row, stackText, table } from './dom';
import { poll, type Poll } from './poll';

const WINDOW_MS = 5 * 60_000;

/** Starts the Blocks tab; `isShown` says whether it is the visible one. Blocks are the monitor thread's own: they answer during a block. */
export function startBlocks(isShown: () => boolean): Poll {
  const timeline = byId('blocks-timeline');
  const list = byId('blocks-list');
  const groups = byId('blocks-groups');
  const summary = byId('blocks-summary');
  const trouble = byId('blocks-note');
  const detail = byId('blocks-detail');
  let selected: number | undefined;
  let doc: BlocksDoc | undefined;

  const select = (block: BlockDoc): void => {
    selected = block.id;
    render();
    fill(detail,
      h('h3', {}, `block ${block.id}: ${duration(block.durationMs)}, started ${clock(block.startedAt)}`),
      h('pre', {}, block.frames ? stackText(block.frames) : block.where));
  };

  const render = (): void => {
    if (!doc) return;
    const now = Date.now();
    renderTimeline(timeline, doc, now, selected, select);
    const rows = doc.blocks.map((block) => {
      const tr = row(String(block.id), clock(block.startedAt), duration(block.durationMs), h('td', { class: 'wide' }, h('code', {}, block.where)));
      tr.dataset.id = String(block.id);
      tr.className = block.id === selected ? 'selected clickable' : 'clickable';
      tr.addEventListener('click', () => select(block));
      return tr;
    });
    fill(list, rows.length ? table(['ID', 'WHEN', 'DURATION', 'WHERE'], rows) : h('p', { class: 'empty' }, 'No blocks so far.'));
    const grouped = (doc.groups ?? []).map((g) => row(String(g.count), duration(g.totalMs), duration(g.longestMs), h('td', { class: 'wide' }, h('code', {}, g.where))));
    fill(groups, grouped.length ? table(['COUNT', 'TOTAL', 'LONGEST', 'WHERE'], grouped) : null);
    const count = doc.blocks.length;
    summary.textContent = `${count} block${count === 1 ? '' : 's'}, newest first${doc.blockedNowMs > 0 ? `; blocked right now, for ${duration(doc.blockedNowMs)} so far` : ''}`;
  };

  return poll(2000, async () => {
    try {
      doc = await getDoc<BlocksDoc>(['blocks'], { top: true });
      note(trouble, '');
    } catch (error) {
      const { text, kind } = failure(error);
      note(trouble, text, kind);
      return;
    }
    render();
  }, isShown);
}

/** Bars over the last five minutes (or since the oldest block kept), each as wide as its block lasted. */
function renderTimeline(timeline: HTMLElement, doc: BlocksDoc, now: number, selected: number | undefined, select: (block: BlockDoc) => void): void {
  const starts = doc.blocks.map((block) => Date.parse(block.startedAt));
  const from = Math.min(now - WINDOW_MS, ...starts);
  const span = now - from;
  const bars = doc.blocks.map((block, i) => {
    const bar = h('div', { class: block.id === selected ? 'bar selected' : 'bar', title: `block ${block.id}: ${duration(block.durationMs)} at ${block.where}`, 'data-id': String(block.id) });
    bar.style.left = `${((starts[i] - from) / span) * 100}%`;
    bar.style.width = `${Math.max((block.durationMs / span) * 100, 0.4)}%`;
    bar.addEventListener('click', () => select(block));
    return bar;
  });
  if (doc.blockedNowMs > 0) {
    const bar = h('div', { class: 'bar now', title: `blocked now, for ${duration(doc.blockedNowMs)}` });
    bar.style.left = `${Math.max(0, (now - doc.blockedNowMs - from) / span) * 100}%`;
    bar.style.width = `${Math.max((doc.blockedNowMs / span) * 100, 0.4)}%`;
    bars.push(bar);
  }
  fill(timeline,
    h('div', { class: 'track' }, ...bars),
    h('div', { class: 'axis' }, h('span', {}, clock(new Date(from).toISOString())), h('span', {}, 'now')));
}
