import assert from 'node:assert/strict';
import { test } from 'node:test';
import { installDiagnosticsHook } from '../src/main/diagnostics-hook';
import type { DiagnosticsHook } from '../src/shared/contract';
import { waitFor } from './helpers';

function hook(): DiagnosticsHook {
  installDiagnosticsHook();
  return (globalThis as Record<symbol, unknown>)[Symbol.for('aiomonitor.diagnostics')] as DiagnosticsHook;
}

test('a profile start that comes after the monitor gave up does nothing', () => {
  assert.throws(() => hook().startProfile(1000, false, Date.now() - 1, 60_000), /the monitor stopped waiting/);
  assert.equal(hook().stopProfile(true), null, 'no profile runs');
});

test('a profile nobody comes back for stops by itself', async () => {
  hook().startProfile(1000, false, Date.now() + 1000, 50);
  assert.throws(() => hook().startProfile(1000, false, Date.now() + 1000, 50), /already running/);
  const startsAgain = (): boolean => {
    try {
      hook().startProfile(1000, false, Date.now() + 1000, 60_000);
      return true;
    } catch {
      return false;
    }
  };
  await waitFor(startsAgain, () => 'the abandoned profile to stop');
  const profile = JSON.parse(hook().stopProfile(true) ?? 'null') as { nodes: unknown[] } | null;
  assert.ok(profile && Array.isArray(profile.nodes));
});
