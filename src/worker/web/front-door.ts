import type http from 'node:http';
import { isLoopback } from '../../shared/config';
import { sameSecret } from '../../protocol/admission';

/** The cookie a login sets. */
export const SESSION_COOKIE = 'aiomonitor_session';
/** Logins kept at once; the oldest gives way to a newer one. */
const MAX_LOGINS = 64;
/** How long a login lasts. */
const LOGIN_TTL_MS = 12 * 60 * 60 * 1000;

/** Who sent a request: anyone (no token is set), a scraper with the token, or a browser that logged in. */
export type Visitor = { kind: 'open' } | { kind: 'bearer' } | { kind: 'login'; id: string };

/** The web server's checks at the door: Host, who the visitor is, logins, and what a change must carry. */
export interface FrontDoor {
  /** Why a request with this Host header is not served (a DNS-rebinding page), or null. */
  hostRefusal(req: http.IncomingMessage): string | null;
  /** The visitor the request proves to be, or null when it proves nothing and a token is required. */
  visitor(req: http.IncomingMessage): Visitor | null;
  /** Whether a token is required. */
  tokenRequired: boolean;
  /** Logs in with `given`: the cookie to set, or null for a wrong token. */
  login(given: string): string | null;
  /** The CSRF token of a visitor, which every change from a browser must send back in X-CSRF-Token. */
  csrf(visitor: Visitor): string;
  /** Why a change (a POST) is refused: a foreign or missing Origin, or a wrong CSRF token; null when it may go on. */
  changeRefusal(req: http.IncomingMessage, visitor: Visitor): string | null;
}

/** The host and port of a Host header (`[::1]:50103` -> `::1`, 50103), or null when it is not one. */
export function parseHostHeader(header: string): { name: string; port: number | null } | null {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(header.trim());
  if (!match) return null;
  return { name: match[1].replace(/^\[|\]$/g, '').toLowerCase(), port: match[2] === undefined ? null : Number(match[2]) };
}

function cookies(req: http.IncomingMessage): Map<string, string> {
  const found = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) found.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return found;
}

/**
 * Opens the door of a web server bound to `host`:`port`. On a loopback address any web page the user opens could
 * reach it through DNS rebinding, so the Host header must name a loopback address or localhost, with this port.
 * Elsewhere a token is required anyway, and a rebinding page never has it.
 */
export function openFrontDoor(host: string, port: number, token: string | null): FrontDoor {
  // Loaded with the first connection (see server.ts), not with the monitor thread.
  const { createHmac, randomBytes } = require('node:crypto') as typeof import('node:crypto');
  const secret = randomBytes(32);
  const logins = new Map<string, number>();
  const loopbackOnly = isLoopback(host);
  const door: FrontDoor = {
    tokenRequired: token !== null,
    hostRefusal(req) {
      if (!loopbackOnly) return null;
      const given = parseHostHeader(req.headers.host ?? '');
      if (given && isLoopback(given.name) && (given.port === port || (given.port === null && port === 80))) return null;
      return `this monitor answers only to a loopback Host such as localhost:${port} or 127.0.0.1:${port}, not ${JSON.stringify((req.headers.host ?? '').slice(0, 80))}; open it by that address`;
    },
    visitor(req) {
      if (token === null) return { kind: 'open' };
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (bearer !== undefined) return sameSecret(bearer, token) ? { kind: 'bearer' } : null;
      const id = cookies(req).get(SESSION_COOKIE);
      const since = id === undefined ? undefined : logins.get(id);
      if (id === undefined || since === undefined) return null;
      if (Date.now() - since > LOGIN_TTL_MS) {
        logins.delete(id);
        return null;
      }
      return { kind: 'login', id };
    },
    login(given) {
      if (token === null || !sameSecret(given, token)) return null;
      const id = randomBytes(24).toString('base64url');
      logins.set(id, Date.now());
      // Maps keep insertion order: the first key is the oldest login.
      if (logins.size > MAX_LOGINS) logins.delete(logins.keys().next().value!);
      return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${LOGIN_TTL_MS / 1000}`;
    },
    csrf(visitor) {
      return createHmac('sha256', secret).update(visitor.kind === 'login' ? `login:${visitor.id}` : visitor.kind).digest('base64url');
    },
    changeRefusal(req, visitor) {
      const origin = req.headers.origin;
      // A script with the token in Authorization is no browser: no other site can make a browser send that header here.
      if (visitor.kind === 'bearer' && origin === undefined) return null;
      if (origin !== `http://${req.headers.host ?? ''}`) {
        return origin === undefined
          ? 'a change needs the Origin header a browser sends; use the page, or a script with Authorization: Bearer <token>'
          : `a change from another site (Origin ${JSON.stringify(origin.slice(0, 80))}) is refused; use the monitor's own page`;
      }
      if (visitor.kind === 'bearer') return null;
      const given = req.headers['x-csrf-token'];
      if (typeof given !== 'string' || !sameSecret(given, door.csrf(visitor))) {
        return 'a change needs the page\'s CSRF token in X-CSRF-Token; reload the page and try again';
      }
      return null;
    },
  };
  return door;
}
