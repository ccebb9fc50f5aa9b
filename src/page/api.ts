/**
 * The page's only way to the monitor: the /api routes of the web contract. Every answer is the command's
 * JSON document or a one-line error; a 401 sends the browser to the login form.
 */
import type { SessionDoc } from './documents';

/** A route that answered with an error: its HTTP status (0 when the monitor did not answer at all) and its one line. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }

  /** 503: the main thread did not answer within its deadline, or the read budget is used up. */
  get busy(): boolean {
    return this.status === 503;
  }
}

// The session's facts, asked once (again after a failure): every POST waits for its CSRF token.
let session: Promise<SessionDoc> | undefined;
// Several polls meet the same 401 at once; a second assign() would abort the first navigation.
let leaving = false;

/** Query values: a string becomes `?name=value`, true becomes a flag (`?name=1`), and empty values are left out. */
export type Params = Record<string, string | boolean | undefined>;

function url(route: (string | number)[], params: Params = {}): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === true) query.set(name, '1');
    else if (typeof value === 'string' && value !== '') query.set(name, value);
  }
  const path = route.map((part) => encodeURIComponent(String(part))).join('/');
  const search = query.toString();
  return `api/${path}${search ? `?${search}` : ''}`;
}

async function send<T>(target: string, init: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(target, { ...init, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'the monitor does not answer: is the app still running?');
  }
  if (response.status === 401) {
    if (!leaving) window.location.assign('login');
    leaving = true;
    // The page is going away: leave the caller waiting rather than showing an error for a moment.
    return new Promise<T>(() => {});
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const message = typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string' ? (body as { error: string }).error : `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, message);
  }
  if (body === undefined) throw new ApiError(response.status, `${target} answered something other than JSON`);
  return body as T;
}

/** GET /api/<route...>?params: a read command's JSON document. */
export function getDoc<T>(route: (string | number)[], params?: Params): Promise<T> {
  return send<T>(url(route, params), { method: 'GET' });
}

/** POST /api/<route...> with the session's CSRF token: a change command's JSON document. */
export async function postDoc<T>(route: (string | number)[]): Promise<T> {
  const { csrf } = await openSession();
  return send<T>(url(route), { method: 'POST', headers: { 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' }, body: '{}' });
}

/** GET /api/session (once, unless it failed), whose CSRF token the POSTs carry. */
export function openSession(): Promise<SessionDoc> {
  session ??= getDoc<SessionDoc>(['session']).catch((error: unknown) => {
    session = undefined;
    throw error;
  });
  return session;
}

/** What to show for a failed request: the quiet busy note for a 503, the error's line otherwise. */
export function failure(error: unknown): { text: string; kind: 'quiet' | 'error' } {
  if (error instanceof ApiError && error.busy) return { text: `main thread busy: ${error.message}`, kind: 'quiet' };
  return { text: `✗ ${error instanceof Error ? error.message : String(error)}`, kind: 'error' };
}
