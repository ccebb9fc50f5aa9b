/** Building elements and formatting numbers for the page; text always goes in as text, never as HTML. */
import type { FrameDoc } from './documents';

type Child = Node | string | number | null | undefined | false;

/** An element with attributes (class, title, data-*, ...) and children; strings become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  append(element, ...children);
  return element;
}

/** Appends children, skipping the empty ones (null, undefined, false). */
export function append(parent: Element, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'number' ? String(child) : child);
  }
}

/** Replaces an element's children. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** The element with this id, which index.html has. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html has no #${id}`);
  return element as T;
}

/** A table with a header row; each row is its cells. */
export function table(header: Child[], rows: HTMLTableRowElement[]): HTMLTableElement {
  return h('table', {}, h('thead', {}, h('tr', {}, ...header.map((cell) => (cell instanceof HTMLElement && cell.tagName === 'TH' ? cell : h('th', {}, cell))))), h('tbody', {}, ...rows));
}

/** A table row of plain cells. */
export function row(...cells: Child[]): HTMLTableRowElement {
  return h('tr', {}, ...cells.map((cell) => (cell instanceof HTMLTableCellElement ? cell : h('td', {}, cell))));
}

/** A duration as a person reads it: 850 ms, 3.2 s, 4 min 10 s, 2 h 5 min. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** Bytes in MiB with one decimal. */
export function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** An ISO time as the local wall-clock time, HH:MM:SS. */
export function clock(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour12: false });
}

/** A stack frame as the prompt prints one: function (file:line:column). */
export function frameText(frame: FrameDoc): string {
  return `${frame.functionName || '(anonymous)'} (${frame.file}:${frame.line}:${frame.column})`;
}

/** A stack, most recent call first, one frame a line. */
export function stackText(frames: FrameDoc[]): string {
  return frames.map((frame) => `    at ${frameText(frame)}`).join('\n');
}

/** Sets a section's note line: quiet text such as "main thread busy", or nothing. */
export function note(element: HTMLElement, text: string, kind: 'quiet' | 'error' = 'quiet'): void {
  element.textContent = text;
  element.className = `note ${kind}`;
  element.hidden = text === '';
}
