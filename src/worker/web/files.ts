import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createDebug } from '../../shared/log';
import type { ExitGuard } from '../output-file';
import { send, sendError } from './respond';

const debug = createDebug('aiomonitor:web');

/** How long a profile or snapshot made from the page can be downloaded. */
export const DOWNLOAD_TTL_MS = 10 * 60 * 1000;
/** A download whose client takes nothing for this long is ended, so that clients that never read cannot hold every connection. */
export const STALLED_DOWNLOAD_MS = 15_000;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

// The page's files are built into dist/page: from the worker's bundle (dist/src/worker) or its modules (dist/src/worker/web).
function pageDir(): string | undefined {
  return [path.join(__dirname, '..', '..', 'page'), path.join(__dirname, '..', '..', '..', 'page')].find((dir) => fs.existsSync(path.join(dir, 'index.html')));
}

const cache = new Map<string, Buffer>();

/** Sends one file of the page (`index.html`, or a name under /assets/), read once and kept. */
export function sendPageFile(res: http.ServerResponse, name: string): void {
  const type = TYPES[path.extname(name)];
  const dir = pageDir();
  if (!dir) return sendError(res, 404, 'the web page is not built in this copy of aiomonitor; run npm run build in the package');
  // Flat names only: nothing outside the page's folder can be named.
  if (!type || !/^[\w.-]+$/.test(name) || name.startsWith('.')) return sendError(res, 404, `no such file: ${JSON.stringify(name.slice(0, 80))}`);
  let bytes = cache.get(name);
  if (!bytes) {
    try {
      bytes = fs.readFileSync(path.join(dir, name));
    } catch {
      return sendError(res, 404, `no such file: ${JSON.stringify(name)}`);
    }
    cache.set(name, bytes);
  }
  send(res, 200, type, bytes);
}

// The pipe stops reading the file while the client takes nothing, and at the file's end what is left waits in
// the socket's queue: neither moving is a stall.
function endIfStalled(res: http.ServerResponse, stream: fs.ReadStream, name: string): void {
  let progress = '';
  let movedAt = Date.now();
  const check = setInterval(() => {
    const now = `${stream.bytesRead} ${res.socket?.writableLength ?? 0}`;
    if (now !== progress) {
      progress = now;
      movedAt = Date.now();
    } else if (Date.now() - movedAt >= STALLED_DOWNLOAD_MS) {
      debug('download %s stalled: its client took nothing for %d ms', name, STALLED_DOWNLOAD_MS);
      res.destroy();
    }
  }, 1000);
  check.unref();
  res.on('close', () => clearInterval(check));
}

/** The files made for the page's downloads (profiles, snapshots), in a private directory, each for DOWNLOAD_TTL_MS. */
export interface Downloads {
  /** The directory to write into, created (mode 0700) on first use. */
  dir(): Promise<string>;
  /** Offers `file` (written into dir()) for download; returns its URL. */
  offer(file: string): string;
  /** Sends the file named `name` as an attachment, or 404. */
  send(res: http.ServerResponse, name: string): void;
  /** Removes every file and the directory. */
  close(): void;
}

/**
 * Opens the store of downloads; nothing is created until the first one. A snapshot holds the app's secrets: `guard`
 * removes each file when the process ends, since it may end without closing the monitor.
 */
export function openDownloads(guard: ExitGuard): Downloads {
  let made: Promise<string> | undefined;
  let madeDir: string | undefined;
  const offered = new Map<string, { file: string; timer: NodeJS.Timeout }>();
  const forget = (name: string): void => {
    const entry = offered.get(name);
    if (!entry) return;
    offered.delete(name);
    clearTimeout(entry.timer);
    guard.untrack(entry.file).catch((error: Error) => debug('untrack %s: %s', entry.file, error.message));
    fs.promises.unlink(entry.file).catch((error: Error) => debug('unlink %s: %s', entry.file, error.message));
  };
  return {
    dir: () => (made ??= fs.promises.mkdtemp(path.join(os.tmpdir(), 'aiomonitor-web-')).then((dir) => (madeDir = dir))),
    offer(file) {
      const name = path.basename(file);
      const timer = setTimeout(() => forget(name), DOWNLOAD_TTL_MS);
      timer.unref();
      offered.set(name, { file, timer });
      guard.track(file).catch((error: Error) => debug('track %s: %s', file, error.message));
      return `/download/${encodeURIComponent(name)}`;
    },
    send(res, name) {
      const entry = offered.get(name);
      if (!entry) return sendError(res, 404, `no download ${JSON.stringify(name.slice(0, 80))}: downloads are kept ${DOWNLOAD_TTL_MS / 60_000} minutes; make a new one`);
      fs.stat(entry.file, (error, stats) => {
        if (error) return sendError(res, 404, `the download ${name} is gone; make a new one`);
        res.writeHead(200, {
          'Content-Type': 'application/octet-stream',
          'Content-Length': stats.size,
          'Content-Disposition': `attachment; filename="${name}"`,
          'X-Content-Type-Options': 'nosniff',
          'Cache-Control': 'no-store',
        });
        const stream = fs.createReadStream(entry.file);
        endIfStalled(res, stream, name);
        stream.on('error', () => res.destroy());
        stream.pipe(res);
      });
    },
    close() {
      for (const name of [...offered.keys()]) forget(name);
      if (madeDir) fs.rmSync(madeDir, { recursive: true, force: true });
    },
  };
}
