/**
 * The few pieces of the DevTools protocol `aiomon` speaks to a process's inspector: finding the target
 * of an inspector port over HTTP (`/json/list`) and calling methods over its WebSocket.
 */
import http from 'node:http';
import WebSocket from 'ws';

/** A call was not answered in time; the process may be blocked in native code or gone. */
export class CallTimeoutError extends Error {
  override name = 'CallTimeoutError';
}

/** The host to connect to for a listening address: a wildcard address is reached through loopback. */
export function connectHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The WebSocket URL of the inspector at host:port, or null when what listens there is not an inspector
 * (another server, a refused or silent connection).
 */
export function probeInspector(host: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const request = http.get({ host, port, path: '/json/list', timeout: timeoutMs, headers: { host: `${urlHost(host)}:${port}` } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { if (body.length < 65_536) body += chunk; });
      response.on('end', () => resolve(parseTargetList(body, host, port)));
      response.on('error', () => resolve(null));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(null));
  });
}

/** The first target's WebSocket URL in a `/json/list` answer, pointed at the address that answered; null if there is none. */
export function parseTargetList(body: string, host: string, port: number): string | null {
  try {
    const targets = JSON.parse(body) as Array<{ webSocketDebuggerUrl?: unknown }>;
    const url = Array.isArray(targets) ? targets.find((target) => typeof target?.webSocketDebuggerUrl === 'string')?.webSocketDebuggerUrl : undefined;
    if (typeof url !== 'string') return null;
    return `ws://${urlHost(host)}:${port}${new URL(url).pathname}`;
  } catch {
    return null;
  }
}

type Pending = { resolve(result: Record<string, unknown>): void; reject(error: Error): void; timer: NodeJS.Timeout };

/** One WebSocket session with an inspector. */
export class InspectorSession {
  #socket: WebSocket;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #listeners = new Map<string, Array<(params: Record<string, unknown>) => void>>();
  #watchers = new Map<string, Array<(params: Record<string, unknown>) => void>>();
  #closed: Error | undefined;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on('message', (data) => this.#receive(String(data)));
    socket.on('close', () => this.#fail(new Error('the inspector closed the connection')));
    socket.on('error', (error) => this.#fail(error));
  }

  /** Connects to the inspector's WebSocket URL. */
  static open(url: string, timeoutMs: number): Promise<InspectorSession> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { handshakeTimeout: timeoutMs, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
      socket.once('open', () => resolve(new InspectorSession(socket)));
      socket.once('error', reject);
    });
  }

  /** Calls a method and resolves with its result; rejects with its error or a CallTimeoutError. */
  call(method: string, params: Record<string, unknown> = {}, timeoutMs = 5000): Promise<Record<string, unknown>> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new CallTimeoutError(`${method} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Sends a method without waiting for its answer (one that may never come, as the inspector's own close). */
  send(method: string, params: Record<string, unknown> = {}): void {
    if (!this.#closed) this.#socket.send(JSON.stringify({ id: this.#nextId++, method, params }));
  }

  /** Resolves with the parameters of the next `event`; rejects with a CallTimeoutError. */
  next(event: string, timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const list = this.#listeners.get(event) ?? [];
      const listener = (params: Record<string, unknown>): void => {
        clearTimeout(timer);
        resolve(params);
      };
      const timer = setTimeout(() => {
        list.splice(list.indexOf(listener), 1);
        reject(new CallTimeoutError(`no ${event} within ${timeoutMs} ms`));
      }, timeoutMs);
      list.push(listener);
      this.#listeners.set(event, list);
    });
  }

  /** Calls `listener` with the parameters of every `event` until the returned function is called. */
  on(event: string, listener: (params: Record<string, unknown>) => void): () => void {
    const list = this.#watchers.get(event) ?? [];
    list.push(listener);
    this.#watchers.set(event, list);
    return () => { list.splice(list.indexOf(listener), 1); };
  }

  /** Ends the connection once what was sent has gone out. */
  close(): Promise<void> {
    if (this.#socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.#socket.terminate(); }, 1000);
      this.#socket.once('close', () => { clearTimeout(timer); resolve(); });
      this.#socket.close();
    });
  }

  #receive(text: string): void {
    let message: { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message?: string } };
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.id !== undefined) {
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.error) pending.reject(new Error(message.error.message ?? 'the inspector refused the call'));
      else pending.resolve(message.result ?? {});
    } else if (message.method) {
      for (const watcher of this.#watchers.get(message.method) ?? []) watcher(message.params ?? {});
      const list = this.#listeners.get(message.method);
      if (list?.length) list.shift()!(message.params ?? {});
    }
  }

  #fail(error: Error): void {
    this.#closed ??= error;
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }
}
