import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { statusLine, statusReport } from '../src/commands/status';
import type { StatusReport } from '../src/shared/rows';
import type { Block } from '../src/worker/watchdog';
import { attach } from './helpers';

const NOW = Date.parse('2026-01-01T12:01:05.200Z');
const FACTS = { pid: 42, uptimeMs: 60_000 };
const block = (endsAgoMs: number): Block => ({ id: 1, startedAt: NOW - endsAgoMs - 150, durationMs: 150, frames: null, where: 'x' });

test('status: the state from the watchdog and the heartbeat alone', () => {
  const rows: [Parameters<typeof statusReport>, StatusReport][] = [
    [[null, 12, [], NOW, FACTS], { state: 'idle', stalledMs: 12, pid: 42, uptimeMs: 60_000, blocks: 0 }],
    [[null, 12, [block(5000), block(100)], NOW, FACTS], { state: 'idle', stalledMs: 12, pid: 42, uptimeMs: 60_000, blocks: 2 }],
    [[null, 30, [block(100), block(600)], NOW, FACTS], { state: 'busy', stalledMs: 30, pid: 42, uptimeMs: 60_000, blocks: 2 }],
    [[{ startedAt: NOW - 3200, stalledMs: 3200, where: 'spin (/app/x.js:3:5)', debugger: false }, 3200, [], NOW, FACTS],
      { state: 'blocked', stalledMs: 3200, blockedForMs: 3200, blockedSince: '2026-01-01T12:01:02.000Z', where: 'spin (/app/x.js:3:5)', pid: 42, uptimeMs: 60_000, blocks: 0 }],
    [[{ startedAt: NOW - 300, stalledMs: 300, where: null, debugger: false }, 300, [], NOW, FACTS],
      { state: 'blocked', stalledMs: 300, blockedForMs: 300, blockedSince: '2026-01-01T12:01:04.900Z', pid: 42, uptimeMs: 60_000, blocks: 0 }],
    [[{ startedAt: NOW - 9000, stalledMs: 9000, where: '(paused in a debugger)', debugger: true }, 9000, [block(100), block(200)], NOW, FACTS],
      { state: 'debugger', stalledMs: 9000, pid: 42, uptimeMs: 60_000, blocks: 2 }],
  ];
  for (const [args, expected] of rows) assert.deepEqual(statusReport(...args), expected, JSON.stringify(args[0]));
});

test('status: one line for each state', () => {
  const base = { pid: 42, uptimeMs: 1, blocks: 0 };
  const rows: [StatusReport, string][] = [
    [{ state: 'idle', stalledMs: 12, ...base }, 'idle: the event loop turned 12 ms ago'],
    [{ state: 'busy', stalledMs: 40, ...base }, 'busy: the event loop was blocked 2 or more times in the last second; it turned 40 ms ago'],
    [{ state: 'blocked', stalledMs: 3200, blockedForMs: 3200, blockedSince: '2026-01-01T12:01:02.000Z', where: 'spin (/app/x.js:3:5)', ...base }, 'blocked for 3.2 s (since 12:01:02), in spin (/app/x.js:3:5)'],
    [{ state: 'blocked', stalledMs: 300, blockedForMs: 300, blockedSince: '2026-01-01T12:01:04.900Z', ...base }, 'blocked for 300 ms (since 12:01:04)'],
    [{ state: 'blocked', stalledMs: 300, blockedForMs: 300, blockedSince: '2026-01-01T12:01:04.900Z', where: 'evil\u001b[2J', ...base }, 'blocked for 300 ms (since 12:01:04), in evil\\x1b[2J'],
    [{ state: 'debugger', stalledMs: 9000, ...base }, 'paused in a debugger: the event loop last turned 9.0 s ago'],
  ];
  for (const [report, line] of rows) assert.equal(statusLine(report, NOW), line);
});

const SPIN_APP = (flag: string): string => `
function spin() { for (;;); }
const poll = setInterval(() => { if (require('node:fs').existsSync(${JSON.stringify(flag)})) { clearInterval(poll); spin(); } }, 20);
console.log('ready');
`;

test('status in a live monitor: idle, then blocked with where, as text and as JSON', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiomonitor-status-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const flag = path.join(dir, 'spin');
  const { app, client } = await attach(t, SPIN_APP(flag), { env: { XDG_RUNTIME_DIR: dir } });
  assert.match(await client.command('status'), /^idle: the event loop turned \d+ ms ago\r\n$/);
  const idle = JSON.parse(await client.command('status --json')) as Record<string, unknown>;
  assert.equal(idle.command, 'status');
  assert.equal(idle.state, 'idle');
  assert.equal(idle.pid, app.child.pid);
  assert.equal(typeof idle.stalledMs, 'number');
  assert.equal(typeof idle.uptimeMs, 'number');
  assert.equal(typeof idle.blocks, 'number');
  assert.equal('blockedForMs' in idle, false);
  fs.writeFileSync(flag, '');
  const text = await client.commandUntil('status', /in spin \(/);
  assert.match(text, /^blocked for [\d.]+ m?s \(since \d\d:\d\d:\d\d\), in spin \(.*app\.js:2:\d+\)\r\n$/);
  const blocked = JSON.parse(await client.command('status --json')) as Record<string, unknown>;
  assert.equal(blocked.state, 'blocked');
  assert.equal(typeof blocked.blockedForMs, 'number');
  assert.match(String(blocked.blockedSince), /^\d{4}-\d\d-\d\dT/);
  assert.match(String(blocked.where), /^spin \(/);
  assert.match(await client.command('status now'), /^✗ /);
  assert.match(await client.command('help'), /\bstatus\s+Say in one line whether/);
});
