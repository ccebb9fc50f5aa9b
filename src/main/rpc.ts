import type { MessagePort } from 'node:worker_threads';
import { createDebug } from '../shared/log';
import { sharedNow, type FromWorker, type MainOperation, type ToWorker } from '../shared/contract';
import { cancelTask } from './cancel';
import type { CommandInput } from '../commands/types';
import { runCustomCommand } from './custom-commands';
import type { InspectHook } from './inspect-hook';
import { switchTracing } from './trace';

const debug = createDebug('aiomonitor:main');

type Handler = (...args: any[]) => unknown;

// Each handler gets the signal the monitor thread aborts when the user stops waiting, then the call's arguments.
function handlers(hook: InspectHook): Record<MainOperation, Handler> {
  return {
    cancel: (_signal: AbortSignal, id: number, by: string) => cancelTask(hook, id, by),
    command: (signal: AbortSignal, name: string, input: CommandInput, json: boolean) => runCustomCommand(name, input, json, signal),
    trace: (_signal: AbortSignal, on: boolean) => switchTracing(on),
  };
}

/** Status messages of the monitor thread: whether it listens. */
export type WorkerStatus = Exclude<FromWorker, { type: 'call' } | { type: 'abort' }>;

/** Answers the monitor thread's calls; they run here, on the app's event loop, between its callbacks. */
export function serveCalls(link: MessagePort, hook: InspectHook, onStatus: (message: WorkerStatus) => void): void {
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
      const value = await table[message.op](controller.signal, ...message.args);
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
