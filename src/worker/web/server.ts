import type http from 'node:http';
import net from 'node:net';
import { COMMANDS } from '../../commands';
import { exitGuard } from '../../commands/diagnostics';
import { describeFailure } from '../../commands/dispatch';
import type { Endpoint } from '../../shared/config';
import { createDebug } from '../../shared/log';
import { listen } from '../../protocol/listen';
import type { SessionEnvironment } from '../session';
import { runCommandRoute, runForRequest } from './command-route';
import { openDownloads, sendPageFile, type Downloads } from './files';
import { openFrontDoor, type FrontDoor, type Visitor } from './front-door';
import { loginPage } from './login-page';
import { readBody, redirect, send, sendError, sendJson } from './respond';

const debug = createDebug('aiomonitor:web');

/** Connections open at once; a newcomer past it closes the longest-idle one, or is refused when all are busy. */
export const MAX_WEB_CONNECTIONS = 32;
// A wrong token is answered this late, so that guessing it over many connections is slow.
const WRONG_TOKEN_DELAY_MS = 500;

/** A listening web server: the page, its API over the commands, and /metrics. */
export interface WebServer {
  endpoint: Endpoint;
  /** Stops listening, ends every connection and removes the downloads. */
  close(): Promise<void>;
}

/** Everything a request is answered with. */
interface Site {
  env: SessionEnvironment;
  title: string;
  door: FrontDoor;
  downloads: Downloads;
}

async function serveMetrics(res: http.ServerResponse, site: Site, interrupted: AbortSignal): Promise<void> {
  const metrics = COMMANDS.find((cmd) => cmd.name === 'metrics');
  if (!metrics) return sendError(res, 404, 'this monitor has no metrics command');
  try {
    const printed = await runForRequest(site.env, metrics, { args: [], flags: {} }, 'a metrics scraper', interrupted);
    send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', `${printed.join('\n')}\n`);
  } catch (error) {
    const failure = describeFailure(error, 'metrics');
    sendError(res, failure.kind === 'busy' ? 503 : 500, failure.message);
  }
}

async function serveLogin(req: http.IncomingMessage, res: http.ServerResponse, door: FrontDoor): Promise<void> {
  if (!door.tokenRequired) return redirect(res, '/');
  if (req.method !== 'POST') return send(res, 200, 'text/html; charset=utf-8', loginPage(false));
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`) return sendError(res, 403, 'a login from another site is refused; log in on the monitor\'s own page');
  const body = await readBody(req, res);
  if (body === null) return;
  const given = new URLSearchParams(body.toString('utf8')).get('token') ?? '';
  const cookie = door.login(given);
  if (cookie) return redirect(res, '/', { 'Set-Cookie': cookie });
  setTimeout(() => send(res, 401, 'text/html; charset=utf-8', loginPage(true)), WRONG_TOKEN_DELAY_MS).unref();
}

function refuseStranger(res: http.ServerResponse, pathname: string): void {
  if (pathname === '/' || pathname === '/index.html') return redirect(res, '/login');
  if (pathname === '/metrics') return sendError(res, 401, 'this monitor needs its token: send Authorization: Bearer <MONITOR_TOKEN>', { 'WWW-Authenticate': 'Bearer realm="aiomonitor"' });
  sendError(res, 401, 'this monitor needs its token: log in at /login, or send Authorization: Bearer <MONITOR_TOKEN>');
}

function sessionFacts(site: Site, visitor: Visitor): Record<string, unknown> {
  return { csrf: site.door.csrf(visitor), pid: process.pid, node: process.version, title: site.title };
}

async function route(req: http.IncomingMessage, res: http.ServerResponse, site: Site): Promise<void> {
  const refusal = site.door.hostRefusal(req);
  if (refusal) return sendError(res, 403, refusal);
  if (req.method !== 'GET' && req.method !== 'POST') return sendError(res, 405, `${String(req.method).slice(0, 20)} is not served; the page uses GET and POST`, { Allow: 'GET, POST' });
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://monitor');
  } catch {
    return sendError(res, 400, 'the request path is not a valid URL path');
  }
  const { pathname } = url;
  if (pathname === '/login') return serveLogin(req, res, site.door);
  // The page's script and style are the package's own files, and the login form needs the style.
  if (pathname.startsWith('/assets/') && req.method === 'GET') return sendPageFile(res, pathname.slice('/assets/'.length));
  const visitor = site.door.visitor(req);
  if (!visitor) return refuseStranger(res, pathname);
  if (req.method === 'POST') {
    const change = site.door.changeRefusal(req, visitor);
    if (change) return sendError(res, 403, change);
    // The body carries nothing, but a huge one must not be taken in.
    if ((await readBody(req, res)) === null) return;
  }
  const gone = new AbortController();
  res.on('close', () => { if (!res.writableFinished) gone.abort(); });
  if (req.method === 'GET' && (pathname === '/' || pathname === '/index.html')) return sendPageFile(res, 'index.html');
  if (req.method === 'GET' && pathname === '/metrics') return serveMetrics(res, site, gone.signal);
  if (req.method === 'GET' && pathname === '/api/session') return sendJson(res, 200, sessionFacts(site, visitor));
  if (pathname.startsWith('/api/')) return runCommandRoute(req, res, url, site.env, site.downloads);
  if (req.method === 'GET' && pathname.startsWith('/download/')) {
    let name: string;
    try {
      name = decodeURIComponent(pathname.slice('/download/'.length));
    } catch {
      return sendError(res, 400, 'the download name is not valid percent-encoding');
    }
    return site.downloads.send(res, name);
  }
  sendError(res, 404, `nothing at ${JSON.stringify(pathname.slice(0, 80))}; the page is at /, the metrics at /metrics`);
}

/**
 * Keeps at most MAX_WEB_CONNECTIONS open: a newcomer past it closes the connection idle longest (a browser's spare
 * keep-alive, or a stranger that sends nothing), so that strangers cannot keep the operator out; when every one is
 * answering a request, the newcomer is refused in one line.
 */
function admitConnections(server: http.Server): void {
  const open = new Map<net.Socket, { busy: number; since: number; served: number }>();
  const refuse = (socket: net.Socket, why: string): void => {
    socket.end(`HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${why}\n`);
    socket.destroySoon();
  };
  server.on('connection', (socket: net.Socket) => {
    if (open.size >= MAX_WEB_CONNECTIONS) {
      let idlest: net.Socket | undefined;
      for (const [candidate, state] of open) if (state.busy === 0 && (!idlest || state.since < open.get(idlest)!.since)) idlest = candidate;
      if (!idlest) return refuse(socket, `too many connections to this monitor's web server (${MAX_WEB_CONNECTIONS}, all answering); try again in a moment`);
      // A browser's spare keep-alive connection just goes (it opens another); one that never asked anything is told why.
      if (open.get(idlest)!.served === 0) refuse(idlest, `closed to let a newer connection in: this monitor's web server keeps at most ${MAX_WEB_CONNECTIONS}, and this one sent no request`);
      else idlest.destroy();
      open.delete(idlest);
    }
    open.set(socket, { busy: 0, since: Date.now(), served: 0 });
    socket.on('close', () => open.delete(socket));
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const state = open.get(req.socket);
    if (!state) return;
    state.busy++;
    state.served++;
    res.on('close', () => {
      state.busy--;
      state.since = Date.now();
    });
  });
}

/** The HTTP side of the web server, which the first connection brings up. */
function serveHttp(endpoint: { host: string; port: number }, { token, title }: { token: string | null; title: string }, env: SessionEnvironment): { server: http.Server; downloads: Downloads } {
  // Loaded here: a monitor nobody opens the page of never pays for Node's HTTP server, nor for crypto.
  const { createServer } = require('node:http') as typeof import('node:http');
  const downloads = openDownloads(exitGuard(env.main.inspector));
  const site: Site = { env, title, door: openFrontDoor(endpoint.host, endpoint.port, token), downloads };
  const server = createServer({ maxHeaderSize: 16 * 1024, headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000, connectionsCheckingInterval: 1_000 }, (req, res) => {
    route(req, res, site).catch((error: Error) => {
      debug('request %s failed: %O', req.url, error);
      sendError(res, 500, `the monitor could not answer: ${error.message.split('\n')[0]}`);
    });
  });
  admitConnections(server);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: net.Socket) => {
    debug('client error: %s', error.message);
    if (!socket.writable) return socket.destroy();
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${status.slice(4).toLowerCase()}: this is aiomonitor's web server; open it in a browser\n`);
  });
  // The connections come from our own TCP server; 'listening' starts the checks of headersTimeout and requestTimeout.
  server.emit('listening');
  return { server, downloads };
}

/** Starts the web server in this (monitor) thread: it listens at once, and serves HTTP from the first connection. */
export async function listenWeb(wanted: { endpoint: Endpoint; freeIfTaken: boolean }, options: { token: string | null; title: string }, env: SessionEnvironment): Promise<WebServer> {
  let served: ReturnType<typeof serveHttp> | undefined;
  let endpoint: { host: string; port: number } | undefined;
  const tcp = net.createServer((socket) => {
    if (!endpoint) return socket.destroy();
    served ??= serveHttp(endpoint, options, env);
    served.server.emit('connection', socket);
  });
  endpoint = (await listen(tcp, 'the web page', wanted.endpoint, { freeIfTaken: wanted.freeIfTaken })) as { host: string; port: number };
  tcp.on('error', (error) => debug('server error: %O', error));
  return {
    endpoint,
    close: () => new Promise<void>((done) => {
      tcp.close(() => done());
      if (served) {
        served.server.close();
        served.server.closeAllConnections();
        served.downloads.close();
      }
    }),
  };
}
