import readline from 'node:readline';
import { catalogOf, completeLine, idsOf, type CatalogCommand } from './completion';
import { PROMPT, type PromptConnection } from './connection';
import { HISTORY_SIZE, loadHistory, saveHistory } from './history';
import { outputFailed } from './oneshot';

/** The words that leave the prompt, as the monitor's `exit` and its aliases do. */
const LEAVE = /^(exit|quit|q)$/i;

/** The terminal the prompt runs in. */
export interface Terminal {
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
  errors: NodeJS.WritableStream;
}

/** Runs command lines one after another: completion asks the monitor too, and a connection answers one line at a time. */
function serial(connection: PromptConnection): (line: string, onOutput?: (text: string) => void) => Promise<string> {
  let last: Promise<unknown> = Promise.resolve();
  return (line, onOutput) => {
    const answer = last.then(async () => {
      // Set for this line only: a completion's `ps --json` must not show up on the screen.
      connection.onOutput(onOutput ?? null);
      try {
        return await connection.run(line);
      } finally {
        connection.onOutput(null);
      }
    });
    last = answer.catch(() => {});
    return answer;
  };
}

/** Completion against what the monitor says about itself: its commands (`help --json`, read once) and IDs (`ps --json` and the like, on each Tab). */
function completer(run: (line: string) => Promise<string>, busy: () => boolean): readline.AsyncCompleter {
  let catalog: Promise<CatalogCommand[]> | undefined;
  // While a command runs, its answer comes first: Tab offers nothing then rather than wait.
  const ask = async (line: string): Promise<string> => (busy() ? '' : run(line));
  return (line, callback) => {
    void (async () => {
      const commands = await (catalog ??= ask('help --json').then((text) => catalogOf(text) ?? [], () => []));
      if (commands.length === 0) catalog = undefined; // asked while busy, or it failed: ask again on the next Tab
      let completion = completeLine(line, commands);
      if (completion.wantsIds) completion = completeLine(line, commands, idsOf(await ask(`${completion.wantsIds} --json`).catch(() => '')));
      return [completion.candidates.map((each) => `${each} `), completion.word] as [string[], string];
    })().then((result) => callback(null, result), () => callback(null, [[], line]));
  };
}

/**
 * The interactive prompt on a terminal: readline editing, history in `historyFile`, Tab completion, output as
 * it arrives. Ctrl-C stops the command that runs (or clears the line), Ctrl-D or `exit` leaves.
 * Resolves with the exit code: 0 when the user left, 1 when the monitor went away.
 */
export function runInteractive(connection: PromptConnection, terminal: Terminal, historyFile: string): Promise<number> {
  const { input, output, errors } = terminal;
  output.write(connection.banner.endsWith('\n') ? connection.banner : `${connection.banner}\n`);
  let running = false;
  const typedAhead: string[] = [];
  const run = serial(connection);
  const rl = readline.createInterface({
    input,
    output,
    prompt: PROMPT,
    terminal: true,
    history: loadHistory(historyFile),
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    completer: completer(run, () => running),
    tabSize: 4,
  });
  rl.on('history', (lines: string[]) => saveHistory(historyFile, lines));

  return new Promise<number>((resolve) => {
    let code = 0;
    let leaving = false;
    const leave = (exitCode: number, message?: string): void => {
      if (leaving) return;
      leaving = true;
      code = exitCode;
      if (message) errors.write(`\naiomon: ${message}\n`);
      rl.close();
    };
    rl.on('close', () => {
      leaving = true;
      connection.close();
      if (code === 0) output.write('\n');
      resolve(code);
    });
    connection.socket.on('close', () => leave(1, 'the monitor closed the session'));

    const execute = async (line: string): Promise<void> => {
      const text = line.trim();
      if (LEAVE.test(text)) return leave(0);
      if (text !== '') {
        running = true;
        try {
          output.write(await run(line, (chunk) => output.write(chunk)));
        } catch (error) {
          return leave(1, (error as Error).message);
        } finally {
          running = false;
        }
      }
      const next = typedAhead.shift();
      if (next !== undefined) {
        output.write(`${PROMPT}${next}\n`);
        return execute(next);
      }
      rl.prompt();
    };

    rl.on('line', (line) => {
      if (leaving) return;
      if (!running) return void execute(line);
      // A command waiting for Enter (loop --watch) gets it; a line typed ahead runs after the one that runs.
      connection.sendEnter();
      if (line.trim() !== '') typedAhead.push(line);
    });
    rl.on('SIGINT', () => {
      if (running) {
        typedAhead.length = 0;
        connection.interrupt();
        return;
      }
      // As in a shell: Ctrl-C drops what was typed and gives a fresh prompt.
      output.write('^C\n');
      const state = rl as unknown as { line: string; cursor: number };
      state.line = '';
      state.cursor = 0;
      rl.prompt();
    });
    rl.prompt();
  });
}

/**
 * The prompt fed from a pipe or file: each line runs in turn, its output printed as it comes. The prompt and
 * the lines are echoed, and the banner shown, only when stdout is a terminal.
 * Resolves with 0, or 1 when an output had a ✗ line or the monitor went away.
 */
export function runPiped(connection: PromptConnection, input: NodeJS.ReadableStream, output: NodeJS.WriteStream, errors: NodeJS.WritableStream): Promise<number> {
  const echo = output.isTTY === true;
  if (echo) output.write(connection.banner.endsWith('\n') ? connection.banner : `${connection.banner}\n`);
  const rl = readline.createInterface({ input, terminal: false });
  let failed = false;
  return (async () => {
    try {
      for await (const line of rl) {
        if (LEAVE.test(line.trim())) break;
        if (echo) output.write(`${PROMPT}${line}\n`);
        if (line.trim() === '') continue;
        let seen = '';
        connection.onOutput((chunk) => { seen += chunk; output.write(chunk); });
        const rest = await connection.run(line);
        output.write(rest);
        if (outputFailed(seen + rest)) failed = true;
      }
    } catch (error) {
      errors.write(`aiomon: ${(error as Error).message}\n`);
      return 1;
    } finally {
      rl.close();
      connection.close();
    }
    return failed ? 1 : 0;
  })();
}
