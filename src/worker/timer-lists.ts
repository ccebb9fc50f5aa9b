import { createDebug } from '../shared/log';
import type { MainInspector } from './inspector';
import { HOOK_EXPRESSION } from '../shared/contract';

const debug = createDebug('aiomonitor:inspector');

const GROUP = 'aiomonitor-timers';

interface Property { name: string; value?: { objectId?: string; description?: string } }

async function properties(inspector: MainInspector, objectId: string): Promise<{ result: Property[]; internalProperties?: Property[] }> {
  return inspector.post('Runtime.getProperties', { objectId, ownProperties: true, objectGroup: GROUP });
}

/**
 * Hands the main thread's private timer lists to the inspect hook. Node keeps them in the closure of
 * lib/timers.js, which the inspector can read from the [[Scopes]] of `clearTimeout`; no public API lists
 * timers since Node 11. Returns false, and ps shows no timers, if a Node version ever moves them.
 */
export async function adoptTimerLists(inspector: MainInspector): Promise<boolean> {
  return inspector.hold(async () => {
    try {
      return await findAndAdopt(inspector);
    } finally {
      // The hook now holds the lists itself; the inspector's handles to them can go.
      await inspector.post('Runtime.releaseObjectGroup', { objectGroup: GROUP }).catch(() => {});
    }
  });
}

async function findAndAdopt(inspector: MainInspector): Promise<boolean> {
  const { result: fn } = await inspector.post('Runtime.evaluate', { expression: 'clearTimeout', silent: true, objectGroup: GROUP });
  const scopes = (await properties(inspector, fn.objectId)).internalProperties?.find((p) => p.name === '[[Scopes]]');
  if (!scopes?.value?.objectId) return false;
  for (const scope of (await properties(inspector, scopes.value.objectId)).result) {
    if (!scope.value?.objectId) continue;
    const vars = (await properties(inspector, scope.value.objectId)).result;
    const pick = (name: string): string | undefined => vars.find((v) => v.name === name)?.value?.objectId;
    const lists = pick('timerListMap');
    const immediates = pick('immediateQueue');
    const binding = pick('binding');
    if (!lists || !immediates || !binding) continue;
    const { result: hook } = await inspector.post('Runtime.evaluate', { expression: HOOK_EXPRESSION, silent: true, objectGroup: GROUP });
    await inspector.post('Runtime.callFunctionOn', {
      objectId: hook.objectId,
      functionDeclaration: 'function (lists, immediates, binding) { this.adoptTimers(lists, immediates, binding); }',
      arguments: [{ objectId: lists }, { objectId: immediates }, { objectId: binding }],
      silent: true,
    });
    return true;
  }
  debug('timer lists not found in the scopes of clearTimeout');
  return false;
}
