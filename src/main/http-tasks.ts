import diagnosticsChannel from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import createDebug from 'debug';
import { FetchRequest, IncomingRequest, OutgoingRequest, statusText, type UndiciRequest } from './http-requests';
import { registry } from './registry';

const debug = createDebug('aiomonitor:http');

/** Shared by every copy of the package in the process, so that the channels get one subscriber however many monitors run. */
interface HttpWatch {
  version: 1;
  users: number;
  stop: (() => void) | null;
}

const KEY = Symbol.for('aiomonitor.http');

// Properties of the app's responses and sockets: cheaper than WeakMaps on a path every request takes.
const TASK = Symbol('aiomonitor.httpTask');
const OPEN = Symbol('aiomonitor.openRequests');
type Tagged = { [TASK]?: IncomingRequest; [OPEN]?: IncomingRequest[] };

// Outgoing requests by the object the channels name them with; weak, so a request nobody reports the end of cannot leak.
const outgoing = new WeakMap<object, OutgoingRequest | FetchRequest>();

// Every handler below runs on every request of the app: they only note objects; ps formats them when asked.

function onServerRequest(message: unknown): void {
  const { request, response, socket, server } = message as { request: IncomingMessage; response: ServerResponse; socket: Socket; server: Server };
  const task = new IncomingRequest(request, response, socket, server);
  const tracer = registry().tracer;
  if (tracer) {
    // Node's parser calls in here: the stack would hold no frame of the app, and capturing it costs microseconds a request.
    // Under its connection's link, not the current one: on a keep-alive connection that is the previous request's.
    const tracing = tracer.begin('http-in', task.name, { withStack: false, under: socket });
    task.link = tracing.link;
    // The channel publishes right before the server emits 'request', so the handler runs in this callback under the link.
    tracing.enter();
  }
  task.open();
  // Most requests end with their response sent, which a channel reports; the others end with their connection,
  // which is watched once per connection rather than once per request: keep-alive clients send many.
  (response as Tagged)[TASK] = task;
  const open = (socket as Tagged)[OPEN];
  if (open) open.push(task);
  else {
    (socket as Tagged)[OPEN] = [task];
    socket.on('close', onConnectionClose);
  }
}

function onResponseFinish(message: unknown): void {
  const { response, socket } = message as { response: Tagged; socket: Tagged };
  const task = response[TASK];
  if (!task) return;
  task.answered();
  const open = socket[OPEN];
  // HTTP/1 answers in order, so the finished request is almost always the first one open.
  const at = open ? open.indexOf(task) : -1;
  if (at >= 0) open!.splice(at, 1);
}

function onConnectionClose(this: Tagged): void {
  const open = this[OPEN];
  if (!open) return;
  this[OPEN] = undefined;
  for (const task of open) task.closed();
}

function onClientRequest(message: unknown): void {
  const { request } = message as { request: ClientRequest };
  const task = new OutgoingRequest(request);
  const tracer = registry().tracer;
  if (tracer) task.link = tracer.begin('http-out', task.name).link;
  task.open();
  outgoing.set(request, task);
  // 'close' comes once the response was read, or the request failed or was destroyed.
  request.on('close', () => task.closed());
}

function onClientError(message: unknown): void {
  const { request, error } = message as { request: ClientRequest; error: Error };
  const task = outgoing.get(request);
  if (task instanceof OutgoingRequest) task.error ??= error;
}

function onFetchCreate(message: unknown): void {
  const { request } = message as { request: UndiciRequest };
  const task = new FetchRequest(request);
  const tracer = registry().tracer;
  if (tracer) task.link = tracer.begin('http-out', task.describe()).link;
  task.open();
  outgoing.set(request, task);
}

function onFetchHeaders(message: unknown): void {
  const { request, response } = message as { request: object; response: { statusCode: number } };
  const task = outgoing.get(request);
  if (task instanceof FetchRequest) task.status = response.statusCode;
}

function onFetchTrailers(message: unknown): void {
  const task = outgoing.get((message as { request: object }).request);
  if (task instanceof FetchRequest) task.finish('done', { detail: task.status === undefined ? 'complete' : statusText(task.status) });
}

function onFetchError(message: unknown): void {
  const { request, error } = message as { request: object; error: Error };
  const task = outgoing.get(request);
  if (task instanceof FetchRequest) task.failed(error);
}

// Channels that a Node version lacks are simply never published; subscribing to them is harmless.
const CHANNELS: [string, (message: unknown) => void][] = [
  ['http.server.request.start', onServerRequest],
  ['http.server.response.finish', onResponseFinish],
  ['http.client.request.start', onClientRequest],
  ['http.client.request.error', onClientError],
  ['undici:request:create', onFetchCreate],
  ['undici:request:headers', onFetchHeaders],
  ['undici:request:trailers', onFetchTrailers],
  ['undici:request:error', onFetchError],
];

// diagnostics_channel rethrows a subscriber's exception on the next tick, where it would crash the app.
function guarded(handler: (message: unknown) => void): (message: unknown) => void {
  return (message) => {
    try {
      handler(message);
    } catch (error) {
      debug('%s failed: %O', handler.name, error);
    }
  };
}

function watch(): () => void {
  const subscribers = CHANNELS.map(([name, handler]): [string, (message: unknown) => void] => [name, guarded(handler)]);
  for (const [name, subscriber] of subscribers) diagnosticsChannel.subscribe(name, subscriber);
  debug('watching HTTP requests');
  return () => {
    for (const [name, subscriber] of subscribers) diagnosticsChannel.unsubscribe(name, subscriber);
    // Without the channels nobody would tell when a fetch ends: drop the requests this watch listed.
    for (const task of registry().live) {
      if (task instanceof IncomingRequest || task instanceof OutgoingRequest || task instanceof FetchRequest) {
        task.finish('ended', { detail: 'no longer watched: the last monitor closed' });
      }
    }
    debug('stopped watching HTTP requests');
  };
}

/** Lists the app's HTTP requests in ps while at least one monitor runs (one subscription per process); returns the release function. */
export function acquireHttpTasks(): () => void {
  const holder = globalThis as unknown as Record<symbol, HttpWatch | undefined>;
  let state = holder[KEY];
  if (!state) {
    state = { version: 1, users: 0, stop: null };
    Object.defineProperty(globalThis, KEY, { value: state, enumerable: false, configurable: true });
  }
  const shared = state;
  if (shared.users++ === 0) shared.stop = watch();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--shared.users === 0) {
      shared.stop?.();
      shared.stop = null;
    }
  };
}
