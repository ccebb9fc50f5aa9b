import http from 'node:http';
import { WAIT_MS } from './helpers';

/** An answer of the monitor's web server. */
export interface WebAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body as JSON, or undefined when it is not JSON. */
  json: Record<string, unknown> | undefined;
}

/** What a request sends besides its path: the method, headers (Host included) and body. */
export interface WebRequest {
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string | Buffer;
}

/** Sends one request to the web server on `port` as a browser or script would, Host header and all. */
export function webRequest(port: number, path: string, request: WebRequest = {}): Promise<WebAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: request.method ?? 'GET', headers: { Host: `localhost:${port}`, ...request.headers }, agent: false, timeout: WAIT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => {
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(body) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from the web server within ${WAIT_MS} ms`)));
    req.on('error', reject);
    req.end(request.body);
  });
}

/** Retries GET `path` until the web server answers (it starts with the monitor, on the app's first turn). */
export async function webReady(port: number, path = '/api/status'): Promise<WebAnswer> {
  const start = Date.now();
  for (;;) {
    try {
      return await webRequest(port, path);
    } catch (error) {
      if (Date.now() - start > WAIT_MS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** The headers a change from the monitor's own page carries: its Origin and CSRF token (from /api/session). */
export async function pageHeaders(port: number, extra: http.OutgoingHttpHeaders = {}): Promise<http.OutgoingHttpHeaders> {
  const session = await webRequest(port, '/api/session', { headers: extra });
  return { ...extra, Origin: `http://localhost:${port}`, 'X-CSRF-Token': String(session.json?.csrf) };
}
