import diagnosticsChannel from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createDebug } from '../shared/log';
import { FetchRequest, IncomingRequest, OutgoingRequest, type Connection, type UndiciRequest } from './http-requests';
import { processWide } from './process-wide';
import { countDone, registry } from './registry';

const debug = createDebug('aiomonitor:http');

/** Shared by every copy of the package in the process, so that the channels get one subscriber however many monitors run. */
interface HttpWatch {
  version: 1;
  users: number;
  stop: (() => void) | null;
}

// Properties of the app's responses and sockets: cheaper than WeakMaps on a path every request takes.
const STARTED = Symbol('aiomonitor.httpStarted');
const REQUEST = Symbol('aiomonitor.httpRequest');
const CONNECTION = Symbol('aiomonitor.httpConnection');
type TaggedResponse = ServerResponse & { [STARTED]?: number; [REQUEST]?: IncomingRequest };
type TaggedSocket = Socket & { [CONNECTION]?: Connection };

// Connections of the app's servers that have carried a request, until they close.
const connections = new Set<Connection>();

// Outgoing requests by the object the channels name them with; weak, so a request nobody reports the end of cannot leak.
const outgoing = new WeakMap<object, OutgoingRequest | FetchRequest>();

// Every handler below runs on every request of the app. An incoming request costs a timestamp and a place in its
// connection's list; its task object is made only when ps looks at it or it ends abnormally.

function incomingTask(response: TaggedResponse, connection: Connection): IncomingRequest {
  return (response[REQUEST] ??= new IncomingRequest(response, response[STARTED] ?? Date.now(), connection));
}

/** The requests in flight on every connection, for ps. */
function* incomingTasks(): Iterable<IncomingRequest> {
  for (const connection of connections) for (const response of connection.open) yield incomingTask(response, connection);
}

// Counted for metrics without the objects that listing them makes.
incomingTasks.count = (): Record<string, number> => {
  let open = 0;
  for (const connection of connections) open += connection.open.length;
  return { 'http-in': open };
};

function onServerRequest(message: unknown): void {
  const { request, response, socket, server } = message as { request: IncomingMessage; response: TaggedResponse; socket: TaggedSocket; server: Server };
  response[STARTED] = Date.now();
  let connection = socket[CONNECTION];
  if (!connection) {
    connection = { socket, server, from: socket.remoteAddress, fromPort: socket.remotePort, open: [] };
    socket[CONNECTION] = connection;
    connections.add(connection);
    socket.on('close', onConnectionClose);
  }
  connection.open.push(response);
  const tracer = registry().tracer;
  if (tracer) {
    // Node's parser calls in here: the stack would hold no frame of the app, and capturing it costs microseconds a request.
    // Under its connection's link, not the current one: on a keep-alive connection that is the previous request's.
    const tracing = tracer.begin('http-in', `${request.method} ${request.url}`, { withStack: false, under: socket });
    incomingTask(response, connection).link = tracing.link;
    // The channel publishes right before the server emits 'request', so the handler runs in this callback under the link.
    tracing.enter();
  }
}

function onResponseFinish(message: unknown): void {
  const { response, socket } = message as { response: TaggedResponse; socket: TaggedSocket };
  const open = socket[CONNECTION]?.open;
  // HTTP/1 answers in order, so the finished request is almost always the first one open.
  const at = open ? (open[0] === response ? 0 : open.indexOf(response)) : -1;
  if (at < 0) return;
  open!.splice(at, 1);
  const task = response[REQUEST];
  if (task) task.answered();
  else countDone('http-in');
}

function onConnectionClose(this: TaggedSocket): void {
  const connection = this[CONNECTION];
  if (!connection) return;
  this[CONNECTION] = undefined;
  connections.delete(connection);
  for (const response of connection.open.splice(0)) incomingTask(response, connection).closed();
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
  // Answered normally: counted, not kept, so there is nothing to describe.
  if (task instanceof FetchRequest) task.finish('done');
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
  registry().sources.add(incomingTasks);
  debug('watching HTTP requests');
  return () => {
    for (const [name, subscriber] of subscribers) diagnosticsChannel.unsubscribe(name, subscriber);
    registry().sources.delete(incomingTasks);
    // Without the channels nobody would tell when a request ends: drop the requests this watch listed.
    const unwatched = { detail: 'no longer watched: the last monitor closed' };
    for (const connection of connections) {
      connection.socket.off('close', onConnectionClose);
      (connection.socket as TaggedSocket)[CONNECTION] = undefined;
      for (const response of connection.open) incomingTask(response, connection).finish('ended', unwatched);
    }
    connections.clear();
    for (const task of registry().live) {
      if (task instanceof OutgoingRequest || task instanceof FetchRequest) task.finish('ended', unwatched);
    }
    debug('stopped watching HTTP requests');
  };
}

/** Lists the app's HTTP requests in ps while at least one monitor runs (one subscription per process); returns the release function. */
export function acquireHttpTasks(): () => void {
  const shared = processWide('httpTasks', (): HttpWatch => ({ version: 1, users: 0, stop: null }));
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
