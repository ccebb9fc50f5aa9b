import net from 'node:net';
import readline from 'node:readline';
import { describeEndpoint, type Endpoint } from '../shared/config';
import { PROMPT } from './connection';
import { HISTORY_SIZE, loadHistory, saveHistory } from './history';
import type { Terminal } from './interactive';

const TOKEN_PROMPT = 'token: ';

/** How to reach a console: its own endpoint, or a monitor prompt whose `console` command opens it. */
export interface ConsoleRoute {
  endpoint: Endpoint;
  viaPrompt: boolean;
  /** The token to answer `token: ` with, if the server asks; undefined asks the user through `askToken`. */
  token?: string;
  askToken(): Promise<string>;
}

/** Splits the console's output into what is complete (up to the last line break) and the line still open, the REPL's prompt. */
export function splitPrompt(text: string): { lines: string; open: string } {
  const end = text.lastIndexOf('\n') + 1;
  return { lines: text.slice(0, end), open: text.slice(end) };
}

/**
 * A REPL console over its socket: on a terminal with readline editing and history (the console's prompt, the
 * line it leaves open, becomes readline's); from a pipe, a plain copy both ways. Resolves with the exit code:
 * 0 when the console ended, 1 when it could not be opened.
 */
export function runConsole(route: ConsoleRoute, terminal: Terminal, historyFile: string): Promise<number> {
  const { input, output, errors } = terminal;
  const where = describeEndpoint(route.endpoint);
  const socket = 'path' in route.endpoint ? net.connect(route.endpoint.path) : net.connect(route.endpoint.port, route.endpoint.host);
  socket.setEncoding('utf8');
  // Before the console: answering `token: `, then (via the prompt) waiting for the banner's prompt to type `console`.
  let phase: 'token' | 'banner' | 'console' = 'token';
  let pending = '';
  let rl: readline.Interface | undefined;
  let failed = false;
  let shown = false;

  const show = (text: string): void => {
    const { lines, open } = splitPrompt(pending + text.replace(/\r\n/g, '\n'));
    pending = open;
    if (!rl) {
      output.write(lines);
      return;
    }
    // Clear the line the user is typing on, print above it, then show the open line as the prompt again.
    readline.clearLine(output, 0);
    readline.cursorTo(output, 0);
    output.write(lines);
    rl.setPrompt(open);
    rl.prompt(true);
  };

  const start = (): void => {
    phase = 'console';
    if (!input.isTTY) {
      input.on('data', (chunk) => socket.write(chunk));
      input.on('end', () => socket.end());
      return;
    }
    rl = readline.createInterface({ input, output, prompt: '', terminal: true, history: loadHistory(historyFile), historySize: HISTORY_SIZE, removeHistoryDuplicates: true });
    rl.on('history', (lines: string[]) => saveHistory(historyFile, lines));
    rl.on('line', (line) => {
      // The open line was the prompt this line was typed at: it is on the screen, done.
      pending = '';
      rl?.setPrompt('');
      socket.write(`${line}\n`);
    });
    // The console drops the expression typed so far on Ctrl-C, as a terminal's REPL does.
    rl.on('SIGINT', () => {
      const state = rl as unknown as { line: string; cursor: number };
      state.line = '';
      state.cursor = 0;
      pending = '';
      output.write('^C\n');
      socket.write('\x03');
    });
    rl.on('close', () => { if (!socket.destroyed) socket.write('\x04'); });
  };

  const onData = async (chunk: string): Promise<void> => {
    let text = chunk;
    if (phase === 'token') {
      pending += text;
      if (pending.length < TOKEN_PROMPT.length && TOKEN_PROMPT.startsWith(pending)) return;
      text = pending;
      pending = '';
      if (text.startsWith(TOKEN_PROMPT)) {
        text = text.slice(TOKEN_PROMPT.length);
        socket.pause();
        try {
          socket.write(`${route.token ?? (await route.askToken())}\n`);
        } catch (error) {
          errors.write(`aiomon: ${(error as Error).message}\n`);
          failed = true;
          socket.destroy();
          return;
        }
        socket.resume();
      }
      phase = route.viaPrompt ? 'banner' : 'console';
      if (!route.viaPrompt) start();
    }
    if (phase === 'banner') {
      pending += text;
      const end = pending.indexOf(PROMPT);
      if (end < 0) return;
      text = pending.slice(end + PROMPT.length);
      pending = '';
      socket.write('console\n');
      start();
    }
    // Through the prompt, the console is over when the monitor's prompt comes back.
    const back = route.viaPrompt ? (pending + text).indexOf(PROMPT) : -1;
    if (back >= 0) {
      const said = (pending + text).slice(0, back);
      pending = '';
      if (/^✗ /m.test(said)) {
        errors.write(`aiomon: ${said.replace(/\r\n/g, '\n').trim().replace(/^✗ /, '')}\n`);
        failed = true;
      } else {
        show(said);
      }
      socket.end();
      socket.destroy();
      return;
    }
    // A refusal (a wrong token) comes instead of the console's first words.
    if (!shown && /^\s*✗ /.test(pending + text)) {
      pending += text;
      if (!pending.includes('\n')) return;
      errors.write(`aiomon: ${pending.trim().split('\n')[0].replace(/^✗ /, '')}\n`);
      pending = '';
      failed = true;
      socket.destroy();
      return;
    }
    if (text) shown = true;
    show(text);
  };
  socket.on('data', (chunk: string) => void onData(chunk));

  return new Promise<number>((resolve) => {
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'ECONNREFUSED' || error.code === 'ENOENT' ? 'nothing listens there' : error.message;
      errors.write(`aiomon: cannot reach the console at ${where}: ${reason}\n`);
      failed = true;
    });
    socket.on('close', () => {
      // What the server said last before closing before the console opened (a refusal such as wrong token) is the reason.
      if (phase !== 'console' && !failed) {
        errors.write(`aiomon: the console at ${where} closed the session${pending.trim() ? `: ${pending.trim().replace(/^✗ /, '')}` : ''}\n`);
        failed = true;
      } else if (pending) {
        output.write(`${pending}\n`);
      }
      rl?.close();
      input.pause();
      resolve(failed ? 1 : 0);
    });
  });
}
