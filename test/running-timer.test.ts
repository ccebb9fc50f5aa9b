import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { attach, idOf, type Client } from './helpers';

// As examples/stuck.js, faster: crunchNumbers blocks the loop for half a second every 0.7 s.
const STUCK = `
setInterval(function pollQueue() {}, 5000);
setInterval(function crunchNumbers() {
  const until = Date.now() + 500;
  while (Date.now() < until);
}, 700);
console.log('ready');
`;

// An app whose loop is stuck in an immediate's callback once it is told to (SIGUSR2), until the test ends.
const STUCK_IN_IMMEDIATE = `
process.on('SIGUSR2', () => setImmediate(function spinForever() { for (;;); }));
setInterval(function pollQueue() {}, 5000);
console.log('ready');
`;

const psWhileRunning = (client: Client): Promise<string> => client.commandUntil('ps', /running for/);

interface PsJson { tasks: { id: number; description: string; runningMs: number | null }[] }

describe('the timer whose callback blocks the loop', () => {
  test('ps lists it as running, under its ID, and where ID answers while it blocks', async (t) => {
    const { client } = await attach(t, STUCK);
    const id = idOf(await client.command('ps'), /interval +crunchNumbers every 700 ms/);
    // where may land after the block it was asked in: try again in the next block.
    for (let blocks = 0; ; blocks++) {
      const listing = await psWhileRunning(client);
      assert.match(listing, new RegExp(`^${id} +interval +crunchNumbers every 700 ms, running for [\\d.]+ m?s\\r?$`, 'm'));
      assert.match(listing, /^\d+ +interval +pollQueue every 5000 ms, next in/m);
      const where = await client.command(`where ${id}`);
      if (blocks < 10 && !/state: running/.test(where)) continue;
      assert.match(where, new RegExp(`^interval ${id}: crunchNumbers every 700 ms, running for [\\d.]+ m?s`));
      assert.match(where, /^ {2}state: running for [\d.]+ m?s: its callback has not returned yet\r?$/m);
      assert.match(where, /callback defined at .*app\.js:3:/);
      break;
    }
    const json = await client.commandUntil('ps --json', (output) => (JSON.parse(output) as PsJson).tasks.some((task) => task.runningMs !== null));
    const tasks = (JSON.parse(json) as PsJson).tasks;
    const running = tasks.find((task) => task.id === Number(id));
    assert.ok(running && typeof running.runningMs === 'number' && running.runningMs >= 0, json);
    assert.match(running.description, /^crunchNumbers every 700 ms, running for/);
    assert.equal(tasks.find((task) => task.description.startsWith('pollQueue'))?.runningMs, null);
  });

  test('an immediate whose callback never returns is listed as running', async (t) => {
    const { app, client } = await attach(t, STUCK_IN_IMMEDIATE);
    app.child.kill('SIGUSR2');
    assert.match(await psWhileRunning(client), /^\d+ +immediate +spinForever, running for \d+(\.\d)? m?s\r?$/m);
  });
});
