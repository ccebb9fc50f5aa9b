import { functionsExpression } from '../shared/contract';
import type { MainThread } from './main-thread';
import { displayUrl } from './stack';
import { deadlines } from './deadlines';

const GROUP = 'aiomonitor-where';

interface Remote { name: string; value?: { objectId?: string; value?: { scriptId: string; lineNumber: number; columnNumber: number } } }

/**
 * Finds where each function that `hook.functionsOf(id)` returns is defined, as `file:line:column`,
 * reading V8's [[FunctionLocation]] (through [[TargetFunction]] for bound functions).
 */
export async function functionLocations(main: MainThread, id: number): Promise<string[]> {
  const { inspector } = main;
  const props = async (objectId: string): Promise<{ result: Remote[]; internalProperties?: Remote[] }> =>
    inspector.post('Runtime.getProperties', { objectId, ownProperties: true, objectGroup: GROUP });
  try {
    return await inspector.withDebugger(async ({ scripts }) => {
      const { result } = await inspector.post('Runtime.evaluate', { expression: functionsExpression(id), silent: true, objectGroup: GROUP });
      const items = (await props(result.objectId)).result.filter((item) => /^\d+$/.test(item.name));
      const locations: string[] = [];
      for (const item of items) {
        let objectId = item.value?.objectId;
        let where = 'unknown';
        for (let hops = 0; objectId && hops < 5; hops++) {
          const internal = (await props(objectId)).internalProperties ?? [];
          const location = internal.find((p) => p.name === '[[FunctionLocation]]')?.value?.value;
          if (location) {
            const url = scripts.get(location.scriptId);
            where = url === undefined ? 'native code' : `${displayUrl(url)}:${location.lineNumber + 1}:${location.columnNumber + 1}`;
            break;
          }
          objectId = internal.find((p) => p.name === '[[TargetFunction]]')?.value?.objectId;
          if (!objectId) where = 'native code';
        }
        locations.push(where);
      }
      return locations;
    }, { timeoutMs: deadlines.mainMs });
  } finally {
    // Harmless when the session already closed: a disconnect releases every object anyway.
    inspector.post('Runtime.releaseObjectGroup', { objectGroup: GROUP }).catch(() => {});
  }
}
