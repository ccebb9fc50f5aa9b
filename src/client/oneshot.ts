import type { PromptConnection } from './connection';

/** Whether a command's output reports a failure: a line starting with ✗, as every mistake at the prompt is. */
export function outputFailed(text: string): boolean {
  return text.split('\n').some((line) => line.startsWith('✗'));
}

/**
 * Runs one command line, printing its output as it arrives; resolves with the exit code: 0, or 1 when the
 * output has a ✗ line. Ctrl-C stops the command as at the prompt; a second one leaves at once.
 */
export async function runOneShot(connection: PromptConnection, line: string, out: NodeJS.WritableStream): Promise<number> {
  let failed = false;
  // A ✗ may sit at the start of any chunk's line; keep the end of the last line seen to judge across chunks.
  let lastLine = '';
  const show = (text: string): void => {
    out.write(text);
    const seen = lastLine + text;
    if (outputFailed(seen)) failed = true;
    lastLine = seen.slice(seen.lastIndexOf('\n') + 1);
  };
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    connection.interrupt();
  };
  process.on('SIGINT', onSigint);
  try {
    connection.onOutput(show);
    show(await connection.run(line));
  } finally {
    process.off('SIGINT', onSigint);
    connection.onOutput(null);
  }
  return failed ? 1 : 0;
}
