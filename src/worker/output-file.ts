import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createDebug } from '../shared/log';
import { UsageError } from '../commands/types';

const debug = createDebug('aiomonitor:output');

// Exclusive: never overwrite, not even a file created meanwhile; no following a symlink in the last component.
const CREATE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
// A snapshot holds every string of the app (its secrets, its environment): for this user's eyes only.
const PRIVATE_MODE = 0o600;

/** An output file created for a command, and how to keep the main thread's exit from leaving it behind. */
export interface OutputFile {
  /** The real absolute path, symlinks resolved, as it is shown to the user. */
  file: string;
  handle: FileHandle;
}

/** Removes a file when the process ends before the file is complete (called on the main thread). */
export interface ExitGuard {
  track(file: string): Promise<void>;
  untrack(file: string): Promise<void>;
}

function defaultName(extension: string, attempt: number): string {
  const d = new Date();
  const digits = (parts: number[]): string => parts.map((n) => String(n).padStart(2, '0')).join('');
  const stamp = `${digits([d.getFullYear(), d.getMonth() + 1, d.getDate()])}-${digits([d.getHours(), d.getMinutes(), d.getSeconds()])}`;
  return `aiomonitor-${process.pid}-${stamp}${attempt > 1 ? `-${attempt}` : ''}.${extension}`;
}

function cannotCreate(file: string, error: NodeJS.ErrnoException): UsageError {
  if (error.code === 'EEXIST') return new UsageError(`${file} already exists and is never overwritten; give another PATH`);
  const dir = path.dirname(file);
  const reasons: Record<string, string> = {
    ENOENT: `directory ${dir} does not exist`,
    ENOTDIR: `${dir} is not a directory`,
    ELOOP: 'it is a symbolic link',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'read-only file system',
  };
  return new UsageError(`cannot create ${file}: ${reasons[error.code ?? ''] ?? error.message}`);
}

function inside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative));
}

/** The real path of the directory `file` goes into, or the reason it cannot be created there. */
async function realDirectory(dir: string, file: string): Promise<string> {
  try {
    return await fs.promises.realpath(dir);
  } catch (error) {
    throw cannotCreate(file, error as NodeJS.ErrnoException);
  }
}

/**
 * Where PATH points, directories' symlinks resolved: { dir, name }, name undefined for a default name in dir.
 * A relative PATH is the app's working directory's and must stay inside it, symlinks included: `..` out of
 * it is refused. An absolute PATH is the operator's explicit choice.
 */
async function locate(text: string | undefined): Promise<{ dir: string; name: string | undefined }> {
  const cwd = await realDirectory(process.cwd(), path.join(process.cwd(), '.'));
  if (text === undefined) return { dir: cwd, name: undefined };
  const target = path.resolve(cwd, text);
  const isDir = await fs.promises.stat(target).then((stats) => stats.isDirectory(), () => false);
  const dir = await realDirectory(isDir ? target : path.dirname(target), target);
  if (!path.isAbsolute(text) && !inside(cwd, dir)) {
    throw new UsageError(`${text} leads out of the app's working directory ${cwd}; give a path inside it, or an absolute path`);
  }
  return { dir, name: isDir ? undefined : path.basename(target) };
}

async function open(file: string): Promise<FileHandle> {
  try {
    return await fs.promises.open(file, CREATE_FLAGS, PRIVATE_MODE);
  } catch (error) {
    throw cannotCreate(file, error as NodeJS.ErrnoException);
  }
}

/** Creates the output file (mode 0600, exclusively) before any work starts, so that a bad PATH costs nothing. */
async function createOutput(text: string | undefined, extension: string): Promise<OutputFile> {
  const { dir, name } = await locate(text);
  if (name !== undefined) {
    const file = path.join(dir, name);
    return { file, handle: await open(file) };
  }
  // Default names carry the second only, so a quick second run gets a suffix instead of a refusal.
  for (let attempt = 1; ; attempt++) {
    const file = path.join(dir, defaultName(extension, attempt));
    try {
      return { file, handle: await open(file) };
    } catch (error) {
      if (!(error instanceof UsageError && error.message.endsWith('is never overwritten; give another PATH')) || attempt >= 20) throw error;
    }
  }
}

/**
 * Runs `work` on a freshly created output file. The file is removed if the work fails or is interrupted,
 * and, through `guard`, if the process ends before the work is done: no empty or partial file is left.
 */
export async function writeOutput<T>(text: string | undefined, extension: string, guard: ExitGuard, work: (file: string, handle: FileHandle) => Promise<T>): Promise<T> {
  const { file, handle } = await createOutput(text, extension);
  // A main thread stuck in native code cannot take the file now; the work will find it stuck as well.
  await guard.track(file).catch((error: Error) => debug('track %s: %s', file, error.message));
  try {
    return await work(file, handle).finally(() => handle.close());
  } catch (error) {
    await fs.promises.unlink(file).catch((failure: Error) => debug('unlink %s: %s', file, failure.message));
    throw error;
  } finally {
    await guard.untrack(file).catch((error: Error) => debug('untrack %s: %s', file, error.message));
  }
}
