import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDebug } from '../shared/log';

const debug = createDebug('aiomonitor:client');

/** Lines kept in a history file. */
export const HISTORY_SIZE = 1000;

/**
 * The history file of the prompt (`name` "history") or the console ("console-history"):
 * `$XDG_STATE_HOME/aiomonitor/NAME` when that is set, else `~/.aiomon_NAME` (`~/.aiomon_history`).
 */
export function historyPath(name: 'history' | 'console-history', env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_STATE_HOME) return path.join(env.XDG_STATE_HOME, 'aiomonitor', name);
  return path.join(env.HOME || os.homedir(), `.aiomon_${name.replace('-', '_')}`);
}

/** A history file's text (oldest line first) as readline wants it: newest first, blank lines dropped, at most `size`. */
export function parseHistory(text: string, size = HISTORY_SIZE): string[] {
  return text.split('\n').filter((line) => line.trim() !== '').reverse().slice(0, size);
}

/** readline's history (newest first) as a file's text, oldest line first. */
export function formatHistory(lines: readonly string[], size = HISTORY_SIZE): string {
  const kept = lines.slice(0, size).filter((line) => !line.includes('\n'));
  return kept.length ? `${[...kept].reverse().join('\n')}\n` : '';
}

/** Reads a history file; an absent or unreadable file is an empty history. */
export function loadHistory(file: string): string[] {
  try {
    return parseHistory(fs.readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
}

/** Writes a history file with mode 0600 (what was typed may name secrets); a failure costs only the history. */
export function saveHistory(file: string, lines: readonly string[]): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, formatHistory(lines), { mode: 0o600 });
    fs.renameSync(temporary, file);
  } catch (error) {
    debug('cannot save the history in %s: %s', file, (error as Error).message);
  }
}
