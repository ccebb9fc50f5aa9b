/** Where typing a secret stands after some keys: still typing, entered, or given up (Ctrl-C, Ctrl-D). */
export interface SecretState {
  typed: string;
  done: 'entered' | 'cancelled' | null;
}

/** Applies keys typed in raw mode to a secret: Enter ends it, Backspace deletes, control keys other than these are ignored. */
export function typeSecret(state: SecretState, keys: string): SecretState {
  let { typed } = state;
  for (const key of keys) {
    if (key === '\r' || key === '\n') return { typed, done: 'entered' };
    if (key === '\x03' || key === '\x04') return { typed: '', done: 'cancelled' };
    if (key === '\x7f' || key === '\b') typed = [...typed].slice(0, -1).join('');
    else if (key === '\t' || key >= ' ') typed += key;
  }
  return { typed, done: null };
}

/** Asks for a secret on the terminal without echoing it; null when the user gives up with Ctrl-C or Ctrl-D. */
export function readSecret(question: string, input: NodeJS.ReadStream, output: NodeJS.WritableStream): Promise<string | null> {
  return new Promise((resolve) => {
    output.write(question);
    const wasRaw = input.isRaw;
    input.setRawMode(true);
    input.setEncoding('utf8');
    let state: SecretState = { typed: '', done: null };
    const onData = (keys: string): void => {
      state = typeSecret(state, keys);
      if (!state.done) return;
      input.off('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      resolve(state.done === 'entered' ? state.typed : null);
    };
    input.on('data', onData);
    input.resume();
  });
}
