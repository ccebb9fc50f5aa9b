import type http from 'node:http';

/** Bytes of a request body the web server reads at most: a login form or an empty POST is far less. */
export const MAX_BODY_BYTES = 16 * 1024;

// The page loads its own script and style only, never frames or is framed, and sends nothing elsewhere.
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/** Sends a whole answer with the security headers every answer carries. */
export function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string | string[]> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Sends a JSON document. */
export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body), headers);
}

/** Sends `{"error": message}`: one line that says what was wrong and what to do. */
export function sendError(res: http.ServerResponse, status: number, message: string, headers: Record<string, string | string[]> = {}): void {
  sendJson(res, status, { error: message }, headers);
}

/** Sends a redirect to `location` (303: the browser follows it with a GET). */
export function redirect(res: http.ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  send(res, 303, 'text/plain; charset=utf-8', `see ${location}\n`, { Location: location, ...headers });
}

/** Reads the request's body, at most MAX_BODY_BYTES; resolves with null (having answered 413) when it is larger. */
export function readBody(req: http.IncomingMessage, res: http.ServerResponse): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length'] ?? 0);
  const tooLarge = (): null => {
    // The rest is not read: the connection closes after the answer.
    sendError(res, 413, `request body too large (over ${MAX_BODY_BYTES / 1024} KiB); the monitor's forms and changes need far less`, { Connection: 'close' });
    req.socket.end();
    return null;
  };
  if (declared > MAX_BODY_BYTES) return Promise.resolve(tooLarge());
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.pause();
        resolve(tooLarge());
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(null));
  });
}
