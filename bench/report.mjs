// The machine a run happened on, and the final markdown table (ready to paste into the README).
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** CPU model, cores, Node.js version, OS and date: what a reader needs to compare two runs. */
export function describeMachine() {
  let cpu = os.cpus()[0]?.model?.trim() || 'unknown CPU';
  try {
    // /proc/cpuinfo names the model even where os.cpus() reports an empty one (some VMs, some ARM boards).
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    // Not Linux: os.cpus() is what there is.
  }
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  return `${cpu}, ${cores} cores, Node.js ${process.version}, ${os.type()} ${os.release()}, ${new Date().toISOString().slice(0, 10)}`;
}

const cell = (text = '') => String(text).replaceAll('|', '\\|');

/** Rows are { measure, result, change?, target?, met?, note? }; `met` undefined means no target. */
export function renderTable(rows) {
  const lines = [
    '| measurement | median (min–max, n) | vs bare node | target | |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    const mark = row.met === undefined ? '' : row.met ? '✓' : '✗';
    lines.push(`| ${cell(row.measure)} | ${cell(row.result)} | ${cell(row.change)} | ${cell(row.target)} | ${mark} |`);
  }
  const notes = rows.filter((row) => row.note).map((row) => `- ${row.measure}: ${row.note}`);
  return [...lines, ...(notes.length ? ['', ...notes] : [])].join('\n');
}
