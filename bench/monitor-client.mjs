// A minimal client of the monitor prompt, as `nc` would be, that times each command from the
// moment its line is written to the moment the next prompt arrives.
import net from 'node:net';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';

const PROMPT = 'monitor >>> ';
const CONNECT_TIMEOUT_MS = 15_000;
/** Far above every target, so a hung monitor ends the measurement instead of the bench. */
const COMMAND_TIMEOUT_MS = 20_000;

/** Connects to the monitor on 127.0.0.1:`port` (retrying while it starts) and waits for the first prompt. */
export async function connectMonitor(port) {
  const deadline = Date.now() + CONNECT_TIMEOUT_MS;
  for (;;) {
    const socket = net.connect(port, '127.0.0.1');
    try {
      await once(socket, 'connect');
      const client = new MonitorClient(socket);
      await client.untilPrompt();
      return client;
    } catch (error) {
      socket.destroy();
      if (Date.now() > deadline) throw new Error(`cannot reach the monitor on 127.0.0.1:${port}: ${error.message}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

class MonitorClient {
  #socket;
  #data = '';
  /** Where the next search for the prompt starts, so a long `ps` answer is not rescanned on every chunk. */
  #scanFrom = 0;
  #waiter = null;
  #closed = false;

  constructor(socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      this.#data += chunk;
      this.#check(performance.now());
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#closed = true;
      this.#waiter?.reject(new Error('the monitor closed the connection'));
    });
  }

  #check(at) {
    if (!this.#waiter) return;
    const index = this.#data.indexOf(PROMPT, this.#scanFrom);
    if (index < 0) {
      this.#scanFrom = Math.max(0, this.#data.length - PROMPT.length + 1);
      return;
    }
    const text = this.#data.slice(0, index);
    this.#data = this.#data.slice(index + PROMPT.length);
    this.#scanFrom = 0;
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter.resolve({ text, at });
  }

  /** Resolves with the text before the next prompt and the time (performance.now()) its last chunk arrived. */
  untilPrompt() {
    if (this.#closed) return Promise.reject(new Error('the monitor closed the connection'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = null;
        reject(new Error(`no prompt from the monitor within ${COMMAND_TIMEOUT_MS} ms; received: ${JSON.stringify(this.#data.slice(-300))}`));
      }, COMMAND_TIMEOUT_MS);
      const settle = (fn) => (value) => { clearTimeout(timer); fn(value); };
      this.#waiter = { resolve: settle(resolve), reject: settle(reject) };
      this.#check(performance.now());
    });
  }

  /** Sends `line` and returns its answer and how long it took, in milliseconds. */
  async command(line) {
    const answered = this.untilPrompt();
    const sent = performance.now();
    this.#socket.write(`${line}\n`);
    const { text, at } = await answered;
    return { text, ms: at - sent };
  }

  close() {
    this.#socket.destroy();
  }
}
