/**
 * Text from the app or its clients (a function's name, a task's name, a URL) as one safe line: control
 * characters become escapes, so that none can break the output's lines or drive the user's terminal.
 */
export function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Several lines of such text, each made printable. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}

/** Lays rows out in left-aligned columns under a header; cells are made printable. */
export function table(header: string[], data: string[][]): string {
  const rows = data.map((row) => row.map(printable));
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** "1 timeout" or "3 timeouts" ("2 children"). */
export function plural(count: number, word: string): string {
  if (count === 1) return `${count} ${word}`;
  return `${count} ${word === 'child' ? 'children' : `${word}s`}`;
}

/** A duration as people read it: `340 ms`, `12.5 s`, `7 min`, `3.2 h`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** A past moment as its UTC clock time and how long ago: `12:04:31 (5 s ago)`. */
export function ago(at: number): string {
  const seconds = Math.max(0, Math.round((Date.now() - at) / 1000));
  const clock = new Date(at).toISOString().slice(11, 19);
  return `${clock} (${seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`} ago)`;
}

/** A size in bytes as people read it: `45.2 MiB`, `1.3 GiB` (binary units, as the numbers are). */
export function size(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** A share from 0 to 1 as a percentage: `12.5%`. */
export function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** A frame of a JavaScript stack, as the monitor prints it: `work (/app/server.js:12:5)`. */
export function frame(at: { functionName: string; file: string; line: number; column: number }): string {
  return `${at.functionName || '<anonymous>'} (${at.file}:${at.line}:${at.column})`;
}

/** A number of ms for a column whose header says ms: `12.5`. */
export function msCell(ms: number): string {
  return ms.toFixed(1);
}

/** A column of numbers right-aligned under its title, for table(). */
export function alignRight(title: string, cells: string[]): string[] {
  const width = Math.max(title.length, ...cells.map((cell) => cell.length));
  return cells.map((cell) => cell.padStart(width));
}
