/** The Tools tab: stacktrace, a CPU profile, a heap snapshot and a heap profile, each a button over its command. */
import { failure, getDoc, postDoc } from './api';
import type { OutputFileDoc, StacktraceDoc } from './documents';
import { byId, fill, h, mib, row, stackText, table } from './dom';

/** Wires the Tools tab's buttons. */
export function startTools(): void {
  const stackButton = byId<HTMLButtonElement>('stacktrace-run');
  const stackOut = byId('stacktrace-out');
  stackButton.addEventListener('click', () => void run(stackButton, stackOut, 'Reading the stack...', async () => {
    const doc = await getDoc<StacktraceDoc>(['stacktrace']);
    return h('div', {}, h('p', {}, doc.message), doc.frames.length ? h('pre', {}, stackText(doc.frames)) : null);
  }));

  const profileButton = byId<HTMLButtonElement>('profile-run');
  const profileSeconds = byId<HTMLInputElement>('profile-seconds');
  const profileOut = byId('profile-out');
  profileButton.addEventListener('click', () => void run(profileButton, profileOut, `Profiling the main thread for ${profileSeconds.value} s...`, async () => {
    const doc = await postDoc<OutputFileDoc>(['profile', profileSeconds.value]);
    const hot = (doc.hot ?? []).map((fn) => row(h('td', { class: 'num' }, fn.selfMs.toFixed(1)), h('td', { class: 'num' }, `${fn.percent.toFixed(1)}%`), fn.name, h('td', { class: 'wide' }, h('code', {}, fn.url ? `${fn.url}:${fn.line}` : ''))));
    return h('div', {},
      written(doc, `${doc.samples ?? 0} samples${doc.seconds === undefined ? '' : ` over ${doc.seconds.toFixed(2)} s`}`),
      hot.length ? table(['SELF MS', 'SELF %', 'FUNCTION', 'LOCATION'], hot) : null);
  }));

  const snapshotButton = byId<HTMLButtonElement>('heapsnapshot-run');
  const snapshotOut = byId('heapsnapshot-out');
  snapshotButton.addEventListener('click', () => void run(snapshotButton, snapshotOut, 'Taking a heap snapshot: the main thread freezes until it is written...', async () => {
    const doc = await postDoc<OutputFileDoc>(['heapsnapshot']);
    return written(doc, [doc.bytes === undefined ? '' : mib(doc.bytes), doc.seconds === undefined ? '' : `in ${Math.round(doc.seconds * 1000)} ms`].filter(Boolean).join(' '));
  }));

  const heapButton = byId<HTMLButtonElement>('heapprofile-run');
  const heapSeconds = byId<HTMLInputElement>('heapprofile-seconds');
  const heapOut = byId('heapprofile-out');
  heapButton.addEventListener('click', () => void run(heapButton, heapOut, `Sampling allocations for ${heapSeconds.value} s; the app keeps running...`, async () => {
    const doc = await postDoc<OutputFileDoc>(['heapprofile', heapSeconds.value]);
    const sites = (doc.sites ?? []).map((site) => row(h('td', { class: 'num' }, mib(site.selfSize)), h('td', { class: 'num' }, `${site.percent.toFixed(1)}%`), site.name, h('td', { class: 'wide' }, h('code', {}, site.url ? `${site.url}:${site.line}` : ''))));
    return h('div', {},
      written(doc, `${doc.samples ?? 0} samples${doc.sampledBytes === undefined ? '' : `, ${mib(doc.sampledBytes)} allocated and not yet collected`}`),
      sites.length ? table(['SELF SIZE', 'SELF %', 'FUNCTION', 'LOCATION'], sites) : null);
  }));
}

/** The file a command wrote, with its download link (the file itself sits in the monitor's private directory for a while). */
function written(doc: OutputFileDoc, what: string): HTMLElement {
  const name = doc.file.split(/[\\/]/).pop() ?? doc.file;
  return h('p', { class: 'ok', title: doc.file }, `✓ ${name}${what ? ` (${what})` : ''} `, h('a', { href: doc.download, download: name, class: 'download' }, 'Download'));
}

/** Runs one tool: its button is off while it runs, and its answer (or its one-line error) replaces its output. */
async function run(button: HTMLButtonElement, out: HTMLElement, waiting: string, answer: () => Promise<HTMLElement>): Promise<void> {
  button.disabled = true;
  fill(out, h('p', { class: 'aside' }, waiting));
  try {
    fill(out, await answer());
  } catch (error) {
    const { text, kind } = failure(error);
    fill(out, h('p', { class: `note ${kind}` }, text));
  } finally {
    button.disabled = false;
  }
}
