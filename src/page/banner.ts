/** The main thread's state from `status --json`, every second: the header's state and the blocked banner. */
import { failure, getDoc } from './api';
import type { StatusDoc } from './documents';
import { byId, clock, duration, fill, h, note } from './dom';
import { poll } from './poll';

/** Starts reading status every second; `onBlocksChanged` hears when a block begins and when one has been recorded. */
export function startStatus(onBlocksChanged: () => void): void {
  const banner = byId('banner');
  const state = byId('state');
  const uptime = byId('uptime');
  const trouble = byId('status-note');
  let last: StatusDoc | undefined;
  poll(1000, async () => {
    let doc: StatusDoc;
    try {
      doc = await getDoc<StatusDoc>(['status']);
    } catch (error) {
      const { text, kind } = failure(error);
      note(trouble, text, kind);
      return;
    }
    note(trouble, '');
    state.textContent = doc.state;
    state.className = `state ${doc.state}`;
    uptime.textContent = `up ${duration(doc.uptimeMs)}`;
    showBanner(banner, doc);
    if (last && (doc.blocks !== last.blocks || (doc.state === 'blocked') !== (last.state === 'blocked'))) onBlocksChanged();
    last = doc;
  });
}

function showBanner(banner: HTMLElement, doc: StatusDoc): void {
  if (doc.state === 'blocked') {
    const since = doc.blockedSince ? ` since ${clock(doc.blockedSince)}` : '';
    fill(banner,
      h('strong', {}, `Main thread blocked for ${duration(doc.blockedForMs ?? doc.stalledMs)}`),
      since,
      doc.where ? h('span', {}, ' at ', h('code', {}, doc.where)) : ' (reading its stack...)');
    banner.className = 'banner blocked';
    banner.hidden = false;
  } else if (doc.state === 'debugger') {
    fill(banner,
      h('strong', {}, 'Main thread paused in a debugger'),
      ` (its event loop last turned ${duration(doc.stalledMs)} ago); the monitor leaves it paused: resume it from the debugger.`);
    banner.className = 'banner debugger';
    banner.hidden = false;
  } else {
    banner.hidden = true;
  }
}
