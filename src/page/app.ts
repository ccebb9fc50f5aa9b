/** The web page's entry: the session's header, the tabs, and each part of the page started once. */
import { failure, openSession } from './api';
import { startBlocks } from './blocks';
import { startCharts } from './charts';
import { byId, note } from './dom';
import { startFinished } from './finished';
import { startStatus } from './banner';
import { startTasks } from './tasks';
import { startTools } from './tools';
import type { Poll } from './poll';

const TABS = ['tasks', 'finished', 'blocks', 'tools'] as const;
type Tab = (typeof TABS)[number];

function tabFromHash(): Tab {
  const name = window.location.hash.slice(1);
  return (TABS as readonly string[]).includes(name) ? (name as Tab) : 'tasks';
}

async function main(): Promise<void> {
  let shown: Tab = tabFromHash();
  const polls: Partial<Record<Tab, Poll>> = {};
  const show = (tab: Tab): void => {
    shown = tab;
    for (const name of TABS) {
      byId(`tab-${name}`).setAttribute('aria-selected', String(name === tab));
      byId(`section-${name}`).hidden = name !== tab;
    }
    polls[tab]?.now();
  };
  for (const name of TABS) {
    byId(`tab-${name}`).addEventListener('click', () => { window.location.hash = name; });
  }
  window.addEventListener('hashchange', () => show(tabFromHash()));
  show(shown);

  polls.finished = startFinished(() => shown === 'finished');
  polls.tasks = startTasks(() => shown === 'tasks', () => polls.finished?.now());
  polls.blocks = startBlocks(() => shown === 'blocks');
  startTools();
  startStatus(() => polls.blocks?.now());
  startCharts();
  document.addEventListener('visibilitychange', () => { if (!document.hidden) polls[shown]?.now(); });

  // Every part works from the first moment; the header waits for the session, and so do the changes (api.ts).
  const trouble = byId('status-note');
  try {
    const session = await openSession();
    byId('title').textContent = session.title;
    byId('pid').textContent = `pid ${session.pid}`;
    byId('node').textContent = `Node.js ${session.node}`;
    document.title = `${session.title} (pid ${session.pid}) - aiomonitor`;
  } catch (error) {
    const { text, kind } = failure(error);
    note(trouble, text, kind);
  }
}

void main();
