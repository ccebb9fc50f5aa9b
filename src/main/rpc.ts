import type { MessagePort } from 'node:worker_threads';
import createDebug from 'debug';
import { sharedNow, type FromWorker, type MainOperation, type ToWorker } from '../protocol/threads';
import { cancelTask } from './cancel';
import type { CommandInput } from '../commands/types';
import { runCustomCommand } from './custom-commands';
import type { InspectHook } from './inspect-hook';
import { switchTracing } from './trace';

const debug = createDebug('aiomonitor:main');

type Handler = (...args: any[]) => unknown;

function handlers(hook: InspectHook): Record<MainOperation, Handler> {
  return {
    cancel: (id: number, by: string) => cancelTask(hook, id, by),
    command: (name: string, input: CommandInput, json: boolean) => runCustomCommand(name, input, json),
    trace: (on: boolean) => switchTracing(on),
  };
}

/** Status messages of the monitor thread: whether it listens. */
export type WorkerStatus = Exclude<FromWorker, { type: 'call' }>;

/** Answers the monitor thread's calls; they run here, on the app's event loop, between its callbacks. */
export function serveCalls(link: MessagePort, hook: InspectHook, onStatus: (message: WorkerStatus) => void): void {
  const table = handlers(hook);
  link.on('message', async (message: FromWorker) => {
    if (message.type !== 'call') return onStatus(message);
    let reply: ToWorker;
    if (sharedNow() > message.deadline) {
      link.postMessage({ type: 'reply', id: message.id, ok: false, message: 'expired', expired: true } satisfies ToWorker);
      return;
    }
    link.postMessage({ type: 'started', id: message.id } satisfies ToWorker);
    try {
      const value = await table[message.op](...message.args);
      reply = { type: 'reply', id: message.id, ok: true, value };
    } catch (error) {
      debug('call %s failed: %O', message.op, error);
      reply = { type: 'reply', id: message.id, ok: false, message: error instanceof Error ? error.message : String(error) };
    }
    link.postMessage(reply);
  });
}
