import type { MessagePort } from 'node:worker_threads';
import { createDebug } from '../shared/log';
import { sharedNow, type CallArgs, type CallMessage, type CallName, type CallResult, type FromWorker, type ToWorker } from '../shared/contract';
import type { MainHook } from './inspect-hook';

const debug = createDebug('aiomonitor:main');

/** How the main thread runs each change: with the signal the monitor thread aborts when the user stops waiting, then the call's arguments. */
type Handlers = { [K in CallName]: (signal: AbortSignal, ...args: CallArgs<K>) => CallResult<K> | Promise<CallResult<K>> };

// The modules behind the changes load on the first change.
function handlers(hook: MainHook): Handlers {
  return {
    cancel: (_signal, id, by) => (require('./cancel') as typeof import('./cancel')).cancelTask(hook.find(id), id, by),
    command: (signal, name, input, json) => (require('./custom-commands') as typeof import('./custom-commands')).runCustomCommand(name, input, json, signal),
    trace: (_signal, on) => (require('./trace') as typeof import('./trace')).switchTracing(on),
  };
}

function run<K extends CallName>(table: Handlers, op: K, signal: AbortSignal, args: CallArgs<K>): CallResult<K> | Promise<CallResult<K>> {
  const handler: (signal: AbortSignal, ...args: CallArgs<K>) => CallResult<K> | Promise<CallResult<K>> = table[op];
  return handler(signal, ...args);
}

/** Status messages of the monitor thread: whether it listens. */
export type WorkerStatus = Exclude<FromWorker, CallMessage | { type: 'abort' }>;

/** Answers the monitor thread's calls; they run here, on the app's event loop, between its callbacks. */
export function serveCalls(link: MessagePort, hook: MainHook, onStatus: (message: WorkerStatus) => void): void {
  const table = handlers(hook);
  const running = new Map<number, AbortController>();
  link.on('message', async (message: FromWorker) => {
    if (message.type === 'abort') {
      running.get(message.id)?.abort(new DOMException('the monitor session stopped waiting for it (Ctrl-C, or it left)', 'AbortError'));
      return;
    }
    if (message.type !== 'call') return onStatus(message);
    let reply: ToWorker;
    if (sharedNow() > message.deadline) {
      link.postMessage({ type: 'reply', id: message.id, ok: false, message: 'expired', expired: true } satisfies ToWorker);
      return;
    }
    link.postMessage({ type: 'started', id: message.id } satisfies ToWorker);
    const controller = new AbortController();
    running.set(message.id, controller);
    try {
      const value = await run(table, message.op, controller.signal, message.args);
      reply = { type: 'reply', id: message.id, ok: true, value };
    } catch (error) {
      debug('call %s failed: %O', message.op, error);
      reply = { type: 'reply', id: message.id, ok: false, message: error instanceof Error ? error.message : String(error) };
    } finally {
      running.delete(message.id);
    }
    link.postMessage(reply);
  });
}
