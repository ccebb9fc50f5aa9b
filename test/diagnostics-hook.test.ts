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

test('a heap profile starts once, stops by itself when abandoned, and is refused while another session samples', async () => {
  assert.throws(() => hook().startHeapProfile(32768, Date.now() - 1, 60_000), /the monitor stopped waiting/);
  assert.equal(hook().stopHeapProfile(true), null, 'no heap profile runs');
  assert.equal(hook().startHeapProfile(32768, Date.now() + 1000, 50), null);
  assert.throws(() => hook().startHeapProfile(32768, Date.now() + 1000, 50), /a heap profile is already running/);
  const startsAgain = (): boolean => {
    try {
      return hook().startHeapProfile(32768, Date.now() + 1000, 60_000) === null;
    } catch {
      return false;
    }
  };
  await waitFor(startsAgain, () => 'the abandoned heap profile to stop');
  const profile = JSON.parse(hook().stopHeapProfile(true) ?? 'null') as { head: { children: unknown[] } } | null;
  assert.ok(profile && Array.isArray(profile.head.children));

  // V8 has one sampling heap profiler per isolate: the app's own must not be taken over.
  const { Session } = await import('node:inspector');
  const own = new Session();
  own.connect();
  try {
    own.post('HeapProfiler.enable');
    own.post('HeapProfiler.startSampling');
    assert.match(hook().startHeapProfile(32768, Date.now() + 1000, 60_000) ?? '', /^V8's sampling heap profiler is already running in this process/);
    assert.equal(hook().stopHeapProfile(true), null, 'nothing was started');
    let stopped: Error | null | undefined;
    own.post('HeapProfiler.stopSampling', (error) => { stopped = error; });
    assert.equal(stopped, null, "the app's profile goes on");
  } finally {
    own.disconnect();
  }
});
