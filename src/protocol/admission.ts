import type net from 'node:net';
import { createDebug } from '../shared/log';
import { readFirstLine } from './reader';

const debug = createDebug('aiomonitor:admission');

/** Who may open a session, and for how long it may stay silent. */
export interface AdmissionRules {
  token: string | null;
  /** Sessions admitted at once; connections still at the token prompt do not count. */
  maxSessions: number;
  /** Time without input from the client after which a session is closed; 0 keeps silent sessions open. */
  idleTimeoutMs: number;
  /** How long a connection has to send the token; TOKEN_GRACE_MS unless a test shortens it. */
  tokenGraceMs?: number;
}

/** The prompt a session shows first when a token is required. */
export const TOKEN_PROMPT = 'token: ';
/**
 * How long a new connection has to send the token, as OpenSSH's LoginGraceTime: a client that sends it
 * does so at once (a human pastes it), so a stranger holding the prompt, or trickling a byte a second, is
 * closed after this, whatever it sends.
 */
export const TOKEN_GRACE_MS = 10_000;
/**
 * Connections at the token prompt at once, apart from the admitted sessions (OpenSSH's MaxStartups starts
 * at 10). A newcomer past it closes the one that has waited longest rather than being turned away itself,
 * so strangers holding the prompt cannot keep out someone who has the token.
 */
export const MAX_WAITING_FOR_TOKEN = 10;
const MAX_TOKEN_LINE = 1024;

/** Compares secrets in time that does not depend on where they differ (hashes make the lengths equal). */
export function sameSecret(given: string, expected: string): boolean {
  // Loaded here: an app whose monitor has no token need not load crypto on its main thread.
  const { createHash, timingSafeEqual } = require('node:crypto') as typeof import('node:crypto');
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function turnAway(socket: net.Socket, message: string): void {
  if (socket.destroyed || socket.writableEnded) return;
  // Keep reading what the client still sends (even from a session that had stopped reading it): closing with
  // unread data makes the kernel send a reset, which can wipe out the answer before the client reads it.
  socket.on('data', () => {});
  socket.resume();
  socket.once('end', () => socket.destroy());
  socket.end(`✗ ${message}\r\n`);
  // A client that never closes, or stops reading, must not hold the socket open.
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** The door of one server: who comes in, who waits at the token prompt, and for how long. */
export interface Door {
  /** Lets a new connection in, or turns it away with one line; `serve` gets the bytes sent after the token line. */
  admit(socket: net.Socket, serve: (first: Buffer) => void): void;
  /** Closes every connection, admitted or still at the token prompt. */
  destroyAll(): void;
}

/** A door that applies `rules` to every connection of one server. */
export function openDoor(rules: AdmissionRules): Door {
  const admitted = new Set<net.Socket>();
  // Oldest first (a Map keeps insertion order), each with what sends it away.
  const waiting = new Map<net.Socket, (message: string) => void>();
  const tooMany = (): string => `too many sessions: ${rules.maxSessions} are open (MONITOR_MAX_SESSIONS); close one and try again`;

  function enter(socket: net.Socket, first: Buffer, serve: (first: Buffer) => void): void {
    admitted.add(socket);
    socket.once('close', () => admitted.delete(socket));
    if (rules.idleTimeoutMs > 0) {
      // Only what the client sends counts: output (a loop --watch redraw) must not keep a forgotten session open.
      const seconds = Math.round(rules.idleTimeoutMs / 1000);
      const idle = setTimeout(() => turnAway(socket, `closing this session after ${seconds} s without input (MONITOR_IDLE_TIMEOUT)`), rules.idleTimeoutMs).unref();
      socket.on('data', () => idle.refresh());
      socket.once('close', () => clearTimeout(idle));
    }
    serve(first);
  }

  function askToken(socket: net.Socket, token: string, serve: (first: Buffer) => void): void {
    if (waiting.size >= MAX_WAITING_FOR_TOKEN) {
      const [oldest, sendAway] = waiting.entries().next().value as [net.Socket, (message: string) => void];
      debug('%d connections at the token prompt: closing the oldest', waiting.size);
      waiting.delete(oldest);
      sendAway(`too many connections are waiting for the token (${MAX_WAITING_FOR_TOKEN}); this one waited longest; connect again and send the token at once`);
    }
    const graceMs = rules.tokenGraceMs ?? TOKEN_GRACE_MS;
    const leave = (message: string): void => {
      stopReading();
      clearTimeout(grace);
      waiting.delete(socket);
      turnAway(socket, message);
    };
    // Not refreshed by input: a client trickling bytes gets no more time than a silent one.
    const grace = setTimeout(() => leave(`no token within ${Math.round(graceMs / 1000)} s; connect again and send the token first`), graceMs).unref();
    waiting.set(socket, leave);
    socket.once('close', () => { clearTimeout(grace); waiting.delete(socket); });
    socket.write(TOKEN_PROMPT);
    const stopReading = readFirstLine(socket, MAX_TOKEN_LINE, (line) => {
      if (line.kind === 'too-long' || !sameSecret(line.text, token)) return leave('wrong token');
      // The sessions may have filled up while this one typed its token.
      if (admitted.size >= rules.maxSessions) return leave(tooMany());
      clearTimeout(grace);
      waiting.delete(socket);
      enter(socket, line.rest, serve);
    });
  }

  return {
    admit(socket, serve) {
      socket.on('error', () => {});
      if (admitted.size >= rules.maxSessions) turnAway(socket, tooMany());
      else if (rules.token) askToken(socket, rules.token, serve);
      else enter(socket, Buffer.alloc(0), serve);
    },
    destroyAll() {
      for (const socket of [...admitted, ...waiting.keys()]) socket.destroy();
    },
  };
}
