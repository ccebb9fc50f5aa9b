import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { attach, REGISTER, ROOT, WAIT_MS } from './helpers';

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { expr: string; datasource: { uid: string } }[];
}

const dashboard = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'grafana-dashboard.json'), 'utf8')) as {
  title: string;
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
};
const exprs = dashboard.panels.flatMap((panel) => panel.targets ?? []).map((target) => target.expr);

test('the Grafana dashboard is importable: a Prometheus data source variable, and every panel queries through it', () => {
  assert.ok(dashboard.title && dashboard.uid);
  const source = dashboard.templating.list.find((variable) => variable.type === 'datasource');
  assert.deepEqual(source && { name: source.name, query: source.query }, { name: 'datasource', query: 'prometheus' });
  const ids = dashboard.panels.map((panel) => panel.id);
  assert.equal(new Set(ids).size, ids.length, 'panel IDs are unique');
  for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
    assert.equal(panel.datasource?.uid, '${datasource}', panel.title);
    assert.ok(panel.targets && panel.targets.length > 0, panel.title);
    for (const target of panel.targets) assert.equal(target.datasource.uid, '${datasource}', panel.title);
    assert.ok(panel.gridPos.x + panel.gridPos.w <= 24, panel.title);
  }
  assert.ok(exprs.length >= 20);
});

// Busy enough to show every figure: it answers requests it makes itself, and makes garbage.
const BUSY_APP = `
const http = require('node:http');
const server = http.createServer((req, res) => res.end('x'.repeat(1000))).listen(0, '127.0.0.1', () => {
  setInterval(() => http.get('http://127.0.0.1:' + server.address().port + '/', (res) => res.resume()), 50);
  console.log('ready');
});
let garbage = [];
setInterval(() => { garbage = Array.from({ length: 20000 }, (_, i) => ({ i })); globalThis.gc(); }, 100);
`;

test('every metric the dashboard queries is in the output of metrics', { timeout: WAIT_MS * 2 }, async (t) => {
  const { client } = await attach(t, BUSY_APP, { nodeArgs: ['--expose-gc', '-r', REGISTER], env: { DEBUG: '' } });
  const names = new Set(exprs.flatMap((expr) => expr.match(/\b(?:nodejs|process|aiomonitor)_[a-z0-9_]+/g) ?? []));
  assert.ok(names.size >= 20, [...names].join(' '));
  const has = (text: string, name: string): boolean => text.split('\r\n').some((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
  // Garbage collections are counted from the first metrics on: the next answers have them.
  const text = await client.commandUntil('metrics', (output) => has(output, 'nodejs_gc_duration_seconds_count'));
  assert.deepEqual([...names].filter((name) => !has(text, name)), []);
});
