import type { ClientRequest, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { duration } from '../shared/text';
import { addLive, recordEnd, registry, type EndedTask, type LiveTask, type TraceLink, type Cancelled } from './registry';
import type { Outcome } from '../shared/rows';

/** The part of undici's internal Request that its diagnostics channels carry and that fetch requests are seen through. */
export interface UndiciRequest {
  method: string;
  origin: string | URL;
  path: string;
  completed: boolean;
  aborted: boolean;
  /** Set once the request is connected; aborts it, and the app's fetch() rejects. */
  abort?: ((error: Error) => void) | null;
  /** An error undici aborts the request with as soon as it connects. */
  error?: Error | null;
}

// A plain Error: undici replaces an AbortError with its own "Request was cancelled", which would hide who did it.
function cancelError(what: string): Error {
  return new Error(`${what} was cancelled from the monitor`);
}

// IPv4 clients of a server listening on :: show up as ::ffff:1.2.3.4; users know them by their IPv4 address.
function peer(address: string | undefined, port: number | undefined): string {
  if (!address) return 'an unknown address';
  const host = address.startsWith('::ffff:') ? address.slice(7) : address;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function connectionFacts(socket: Socket | null | undefined): [string, string][] {
  if (!socket) return [['connection', 'none yet']];
  return [['bytes read on its connection', String(socket.bytesRead)], ['bytes written on its connection', String(socket.bytesWritten)]];
}

// Node sets `res` on a ClientRequest once the response headers arrive; its types do not declare it.
function responseOf(request: ClientRequest): IncomingMessage | undefined {
  return (request as ClientRequest & { res?: IncomingMessage }).res ?? undefined;
}

function errorText(error: Error): string {
  return error.message || error.name;
}

/** What incoming and outgoing requests have in common: when they began, how they end, who cancelled them. */
abstract class HttpTask implements LiveTask {
  abstract readonly object: object;
  abstract readonly type: string;
  abstract readonly name: string;
  abstract readonly started: number;
  // Declared, not initialized: most requests are never traced nor cancelled, and each initializer costs every request.
  declare link?: TraceLink;
  declare cancelledBy?: string;
  declare ended?: boolean;

  // Requests end by the thousand a second: the history keeps the failed ones and counts the others.
  get countWhenDone(): boolean {
    return true;
  }

  abstract describe(): string;
  abstract facts(): [string, string][];
  abstract cancel(by: string): Cancelled;

  /** Lists it in ps. */
  open(): void {
    addLive(this);
  }

  /** Removes it from ps and records how it ended; only the first call counts. */
  finish(outcome: Outcome, end?: Pick<EndedTask, 'detail' | 'stack' | 'cancelledBy'>): void {
    if (this.ended) return;
    this.ended = true;
    registry().live.delete(this);
    recordEnd(this, outcome, end);
  }

  protected commonFacts(): [string, string][] {
    const facts: [string, string][] = [['running for', duration(Date.now() - this.started)]];
    if (this.cancelledBy) facts.push(['cancelled by', this.cancelledBy]);
    return facts;
  }
}

/** What the monitor keeps of a connection to a server of the app, once per connection rather than once per request. */
export interface Connection {
  socket: Socket;
  server: Server;
  // Read when the connection is first seen: once the client has gone, its socket no longer knows where it came from.
  from: string | undefined;
  fromPort: number | undefined;
  /** The responses of the requests in flight on it, oldest first. */
  open: ServerResponse[];
}

/**
 * A request a server of the app is handling, from the moment its handler is called until its response is sent or
 * its connection closes. Made only when ps looks at it or it ends abnormally: a request that is answered costs no object.
 */
export class IncomingRequest extends HttpTask {
  readonly type = 'http-in';
  readonly object: IncomingMessage;
  readonly socket: Socket;
  readonly server: Server;

  constructor(readonly response: ServerResponse, readonly started: number, readonly connection: Connection) {
    super();
    this.object = response.req;
    this.socket = connection.socket;
    this.server = connection.server;
  }

  get name(): string {
    return `${this.object.method} ${this.object.url}`;
  }

  describe(): string {
    return `${this.name} from ${peer(this.connection.from, this.connection.fromPort)}`;
  }

  facts(): [string, string][] {
    const { response } = this;
    const answer = response.writableFinished ? `status ${response.statusCode} sent`
      : response.headersSent ? `status ${response.statusCode}, body still being written` : 'not started: no headers sent yet';
    const { method, url, httpVersion } = this.object;
    return [['method', `${method}`], ['URL', `${url}`], ['HTTP version', httpVersion], ['from', peer(this.connection.from, this.connection.fromPort)],
      ...this.commonFacts(), ['response', answer], ...connectionFacts(this.socket)];
  }

  functions(): [string, Function][] {
    return this.server.listeners('request').map((fn): [string, Function] => ["server's 'request' listener", fn as Function]);
  }

  cancel(by: string): Cancelled {
    if (this.socket.destroyed) return { ok: false, message: `${this.describe()} has already ended; run ps to see what is still running` };
    this.cancelledBy = by;
    this.socket.destroy();
    // Its connection closes on a later turn of the loop, which a busy app may take long to reach: it has ended for ps
    // and the history now, however its socket then goes.
    const { open } = this.connection;
    const at = open.indexOf(this.response);
    if (at >= 0) open.splice(at, 1);
    this.finish('cancelled', { cancelledBy: by, detail: 'its connection was destroyed from the monitor' });
    return { ok: true, message: `destroyed the connection of ${this.describe()}: the client sees it end without a response` };
  }

  /** Called when its response has been sent. */
  answered(): void {
    this.finish('done');
  }

  /** Called when its connection closes, whether its response was sent or not. */
  closed(): void {
    const { response, socket } = this;
    if (this.cancelledBy) return this.finish('cancelled', { cancelledBy: this.cancelledBy, detail: 'its connection was destroyed from the monitor' });
    if (response.writableFinished) return this.finish('done');
    const what = response.headersSent ? 'the response ended' : 'the response was sent';
    const error = (socket as Socket & { errored?: Error | null }).errored;
    if (error) return this.finish('error', { detail: `connection failed before ${what}: ${errorText(error)}`, stack: error.stack });
    const who = socket.readableEnded ? 'client closed the connection' : 'connection was destroyed';
    this.finish('error', { detail: `${who} before ${what}` });
  }
}

/** An outgoing `http.request`/`https.request`, from its creation until it closes. */
export class OutgoingRequest extends HttpTask {
  readonly type = 'http-out';
  readonly started = Date.now();
  /** The error Node reported for it, if any. */
  error?: Error;

  constructor(readonly object: ClientRequest) {
    super();
  }

  get name(): string {
    const request = this.object;
    // A request through a proxy carries the absolute URL as its path.
    if (/^[a-z]+:\/\//i.test(request.path)) return `${request.method} ${request.path}`;
    const host = request.getHeader('host') ?? request.host;
    return `${request.method} ${request.protocol}//${host}${request.path}`;
  }

  describe(): string {
    return this.name;
  }

  facts(): [string, string][] {
    const { socket } = this.object;
    const res = responseOf(this.object);
    const connected = socket?.remoteAddress ? `connected to ${peer(socket.remoteAddress, socket.remotePort)}` : 'not connected yet';
    const answer = !res ? 'none yet' : `status ${res.statusCode}${res.complete ? ', complete' : ', body still arriving'}`;
    return [['method', this.object.method], ['URL', this.name.slice(this.object.method.length + 1)], ...this.commonFacts(), ['made with', 'http.request'], ['connection', connected], ['headers sent', this.object.headersSent ? 'yes' : 'no'], ['response', answer], ...connectionFacts(socket)];
  }

  functions(): [string, Function][] {
    return ['response', 'error'].flatMap((event) => this.object.listeners(event).map((fn): [string, Function] => [`'${event}' listener`, fn as Function]));
  }

  cancel(by: string): Cancelled {
    const request = this.object;
    if (request.destroyed) return { ok: false, message: `${this.name} has already ended; run ps to see what is still running` };
    // Node throws an 'error' nobody listens to as an uncaught exception, which would end the whole process.
    if (request.listenerCount('error') === 0) return { ok: false, message: `${this.name} has no 'error' listener: destroying it would crash the app; cancel what waits for it instead` };
    this.cancelledBy = by;
    request.destroy(cancelError(this.name));
    // It closes on a later turn of the loop: it has ended for ps and the history now, however it then goes.
    this.finish('cancelled', { cancelledBy: by, detail: 'destroyed from the monitor' });
    return { ok: true, message: `destroyed ${this.name}: the app's request fails with "cancelled from the monitor"` };
  }

  /** Called when the request closes: its response was read, or it failed, or it was destroyed. */
  closed(): void {
    const response = responseOf(this.object);
    if (this.cancelledBy) return this.finish('cancelled', { cancelledBy: this.cancelledBy, detail: 'destroyed from the monitor' });
    if (this.error) return this.finish('error', { detail: errorText(this.error), stack: this.error.stack });
    if (response?.complete) return this.finish('done');
    this.finish('error', { detail: response ? `closed before the response ended (status ${response.statusCode})` : 'closed before a response arrived' });
  }
}

/** A request of `fetch` (or of undici itself), from its creation until its response ends or it fails. */
export class FetchRequest extends HttpTask {
  readonly type = 'http-out';
  readonly started = Date.now();
  /** The status of the response, once its headers arrived. */
  status?: number;

  constructor(readonly object: UndiciRequest) {
    super();
  }

  get name(): string {
    return `${this.object.method} ${String(this.object.origin)}${this.object.path}`;
  }

  describe(): string {
    return `fetch ${this.name}`;
  }

  facts(): [string, string][] {
    const connected = typeof this.object.abort === 'function' ? 'yes' : 'not yet';
    const answer = this.status === undefined ? 'none yet' : `status ${this.status}, body still arriving`;
    const { method, origin, path } = this.object;
    return [['method', method], ['URL', `${String(origin)}${path}`], ...this.commonFacts(), ['made with', 'fetch (undici)'], ['connected', connected], ['response', answer]];
  }

  cancel(by: string): Cancelled {
    const request = this.object;
    if (request.completed || request.aborted) return { ok: false, message: `fetch ${this.name} has already ended; run ps to see what is still running` };
    this.cancelledBy = by;
    const error = cancelError(`fetch ${this.name}`);
    if (typeof request.abort === 'function') {
      request.abort(error);
      // undici reports the failure on a later turn of the loop: it has ended for ps and the history now.
      this.finish('cancelled', { cancelledBy: by, detail: 'aborted from the monitor' });
      return { ok: true, message: `aborted fetch ${this.name}: the app's fetch() rejects` };
    }
    // undici aborts a request with this error the moment it connects; until then there is nothing to abort.
    request.error = error;
    this.finish('cancelled', { cancelledBy: by, detail: 'aborted from the monitor while it was connecting' });
    return { ok: true, message: `fetch ${this.name} is still connecting; it is aborted as soon as it connects, and the app's fetch() rejects then` };
  }

  /** Called when undici reports it failed or was aborted. */
  failed(error: Error): void {
    if (this.cancelledBy) return this.finish('cancelled', { cancelledBy: this.cancelledBy, detail: 'aborted from the monitor' });
    this.finish('error', { detail: errorText(error), stack: error.stack });
  }
}
