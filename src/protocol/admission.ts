import type net from 'node:net';
import { createTelnetDecoder } from './telnet';

/** Who may open a session, and for how long it may stay silent. */
export interface AdmissionRules {
  token: string | null;
  maxSessions: number;
  /** 0 keeps silent sessions open. */
  idleTimeoutMs: number;
}

/** The prompt a session shows first when a token is required. */
export const TOKEN_PROMPT = 'token: ';
const MAX_TOKEN_LINE = 1024;

/** Compares secrets in time that does not depend on where they differ (hashes make the lengths equal). */
export function sameSecret(given: string, expected: string): boolean {
  // Loaded here: an app whose monitor has no token need not load crypto on its main thread.
  const { createHash, timingSafeEqual } = require('node:crypto') as typeof import('node:crypto');
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function turnAway(socket: net.Socket, message: string): void {
  // Keep reading what the client still sends: closing with unread data makes the kernel send a reset,
  // which can wipe out the answer before the client reads it.
  socket.on('data', () => {});
  socket.once('end', () => socket.destroy());
  socket.end(`✗ ${message}\r\n`);
  // A client that never closes, or stops reading, must not hold the socket open.
  setTimeout(() => socket.destroy(), 1000).unref();
}

/**
 * Lets a new connection in, or turns it away with one line: past the session limit, or with a wrong token.
 * `open` holds the sessions admitted so far; `serve` gets the bytes the client sent after its token line.
 */
export function admit(socket: net.Socket, open: Set<net.Socket>, rules: AdmissionRules, serve: (first: Buffer) => void): void {
  socket.on('error', () => {});
  if (open.size >= rules.maxSessions) {
    turnAway(socket, `too many sessions: ${rules.maxSessions} are open (MONITOR_MAX_SESSIONS); close one and try again`);
    return;
  }
  open.add(socket);
  socket.once('close', () => open.delete(socket));
  if (rules.idleTimeoutMs > 0) {
    socket.setTimeout(rules.idleTimeoutMs);
    socket.once('timeout', () => turnAway(socket, `closing this session after ${Math.round(rules.idleTimeoutMs / 1000)} s without input (MONITOR_IDLE_TIMEOUT)`));
  }
  const { token } = rules;
  if (!token) {
    serve(Buffer.alloc(0));
    return;
  }
  socket.write(TOKEN_PROMPT);
  let pending = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    pending = Buffer.concat([pending, chunk]);
    const end = pending.findIndex((byte) => byte === 10 || byte === 13);
    if (end < 0) {
      if (pending.length > MAX_TOKEN_LINE) { socket.off('data', onData); turnAway(socket, 'wrong token'); }
      return;
    }
    socket.off('data', onData);
    const typed = Buffer.concat(createTelnetDecoder()(pending.subarray(0, end)).parts.filter((part): part is Buffer => Buffer.isBuffer(part)));
    let rest = pending.subarray(end + 1);
    // The rest of a CR LF or CR NUL line ending belongs to the token line.
    if (pending[end] === 13 && (rest[0] === 10 || rest[0] === 0)) rest = rest.subarray(1);
    if (!sameSecret(typed.toString('utf8'), token)) turnAway(socket, 'wrong token');
    else serve(rest);
  };
  socket.on('data', onData);
}
