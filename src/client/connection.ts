import net from 'node:net';
import type { Endpoint } from '../shared/config';
import { describeEndpoint } from '../shared/config';

/** The monitor's prompt, which ends every answer. */
export const PROMPT = 'monitor >>> ';
const TOKEN_PROMPT = 'token: ';
const IAC_IP = Buffer.from([255, 244]);
/** How long `openPrompt` waits for the banner by default. */
export const CONNECT_TIMEOUT_MS = 5000;

/** The connection failed or ended; the message is one line for the user. */
export class ConnectionError extends Error {
  override name = 'ConnectionError';
}

/** The monitor asks for a token and none was given. */
export class TokenRequiredError extends ConnectionError {
  override name = 'TokenRequiredError';
}

/** A command prompt session, driven line by line. */
export interface PromptConnection {
  /** What the monitor printed before its first prompt (its banner), without the prompt. */
  banner: string;
  /** Sends one line and resolves with everything printed until the next prompt (LF line ends, no prompt). */
  run(line: string): Promise<string>;
  /** Asks the monitor to stop the command that runs, as Ctrl-C in telnet does. */
  interrupt(): void;
  /**
   * Sends an empty line while a command runs, for a command that waits for Enter (`loop --watch`). When no
   * command takes it, the monitor answers it with a bare prompt of its own, which is dropped.
   */
  sendEnter(): void;
  /** Called with output as it arrives, while a command runs (for commands that print as they go). */
  onOutput(listener: ((text: string) => void) | null): void;
  /** Ends the session. */
  close(): void;
  /** The socket, for callers that need its events. */
  socket: net.Socket;
}

/** Connects to a monitor's command prompt, sends the token first when given, and waits for the banner. */
export function openPrompt(endpoint: Endpoint, options: { token?: string; timeoutMs?: number } = {}): Promise<PromptConnection> {
  const where = describeEndpoint(endpoint);
  const socket = 'path' in endpoint ? net.connect(endpoint.path) : net.connect(endpoint.port, endpoint.host);
  socket.setEncoding('utf8');
  let buffer = '';
  let waiter: { resolve(text: string): void; reject(error: Error): void } | undefined;
  let listener: ((text: string) => void) | null = null;
  let ended: Error | undefined;
  let opened = false;
  // Empty lines sent by sendEnter that no command may have taken: as many bare prompts may still come.
  let loose = 0;
  // Drops the bare prompts that answer loose empty lines; false while the buffer may be the start of one.
  const dropLoose = (): boolean => {
    while (loose > 0 && buffer.startsWith(PROMPT)) {
      buffer = buffer.slice(PROMPT.length);
      loose -= 1;
    }
    return !(loose > 0 && buffer.length < PROMPT.length && PROMPT.startsWith(buffer));
  };

  const settle = (): void => {
    if (!waiter) return;
    if (!opened && options.token === undefined && buffer === TOKEN_PROMPT) {
      fail(new TokenRequiredError(`the monitor at ${where} asks for a token: set MONITOR_TOKEN, or type it when asked`));
      socket.destroy();
      return;
    }
    if (!dropLoose()) return;
    const end = buffer.lastIndexOf(PROMPT);
    if (end >= 0 && end + PROMPT.length === buffer.length) {
      let text = buffer.slice(0, end);
      // An empty line sent while the command ran, and answered after it, ends its answer with a bare prompt.
      while (loose > 0 && text.endsWith(PROMPT)) {
        text = text.slice(0, -PROMPT.length);
        loose -= 1;
      }
      text = text.replace(/\r\n/g, '\n');
      buffer = '';
      const current = waiter;
      waiter = undefined;
      current.resolve(text);
    }
  };
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    if (listener && waiter && dropLoose()) {
      // Everything but what may be the start of the next prompt goes out at once.
      // Bare prompts answering loose empty lines may follow the answer's own prompt: keep room for them too.
      const keep = Math.min(buffer.length, PROMPT.length * (loose + 1));
      const safe = buffer.length - keep;
      if (safe > 0) {
        listener(buffer.slice(0, safe).replace(/\r\n/g, '\n'));
        buffer = buffer.slice(safe);
      }
    }
    settle();
  });
  const fail = (error: Error): void => {
    ended ??= error;
    const current = waiter;
    waiter = undefined;
    current?.reject(ended);
  };
  socket.on('error', (error: NodeJS.ErrnoException) => {
    const reason = error.code === 'ECONNREFUSED' || error.code === 'ENOENT' ? 'nothing listens there' : error.message;
    fail(new ConnectionError(`cannot reach the monitor at ${where}: ${reason}`));
  });
  socket.on('close', () => {
    // What the monitor said last (a refusal such as "wrong token") is the reason.
    const said = buffer.replace(/\r\n/g, '\n').trim().split('\n').pop()?.replace(TOKEN_PROMPT, '').replace(/^✗ /, '');
    fail(new ConnectionError(said ? `the monitor at ${where} closed the session: ${said}` : `the monitor at ${where} closed the session`));
  });

  const next = (): Promise<string> => new Promise<string>((resolve, reject) => {
    if (ended) return reject(ended);
    waiter = { resolve, reject };
    settle();
  });

  return new Promise<PromptConnection>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ConnectionError(`the monitor at ${where} did not answer within ${Math.round((options.timeoutMs ?? CONNECT_TIMEOUT_MS) / 1000)} s`));
    }, options.timeoutMs ?? CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      if (options.token !== undefined) socket.write(`${options.token}\n`);
    });
    next().then((banner) => {
      clearTimeout(timer);
      opened = true;
      resolve({
        banner: banner.replace(/^token: /, ''),
        socket,
        run(line) {
          if (ended) return Promise.reject(ended);
          const answer = next();
          socket.write(`${line}\n`);
          return answer;
        },
        interrupt: () => { if (!ended) socket.write(IAC_IP); },
        sendEnter: () => {
          if (ended || !waiter) return;
          loose += 1;
          socket.write('\n');
        },
        onOutput: (given) => { listener = given; },
        close: () => { socket.end(); socket.destroy(); },
      });
    }, (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}
