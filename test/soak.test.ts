import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { PROMPT } from '../src/worker/session';
import { connect, startApp, waitFor, WAIT_MS } from './helpers';

// Sessions in a row against one app: a resource test, not a timing test. After a warm-up, 500 sessions
// must leave the app with the file descriptors it had and little more memory.

const APP = `
setInterval(function keepAlive() {}, 1000);
console.log('ready');
`;
const WARM_UP = 10;
const SESSIONS = 500;
/** Descriptors the app may hold beyond its baseline once every session has closed. */
const FD_TOLERANCE = 2;
const RSS_GROWTH_LIMIT = 30 * 1024 * 1024;

/** The app's open file descriptors (Linux). */
function openFds(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** What the descriptors are, e.g. `socket ×3, pipe ×2, /dev/null ×1`. */
function describeFds(pid: number): string {
  const kinds = new Map<string, number>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try { target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`).replace(/:\[\d+\]$/, ''); } catch { target = '(closed)'; }
    kinds.set(target, (kinds.get(target) ?? 0) + 1);
  }
  return [...kinds].map(([kind, count]) => `${kind} ×${count}`).join(', ');
}

/** The app's resident memory in bytes (Linux). */
function rss(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  assert.ok(kib, `no VmRSS line in /proc/${pid}/status:\n${status}`);
  return Number(kib) * 1024;
}

/**
 * One session as a user has it: connect, wait for the prompt, `ps`, wait for the answer, `exit`, wait for the
 * monitor to close the connection. Each step waits on the data it needs, never on a timer.
 */
function session(port: number, index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    let stage: 'banner' | 'ps' | 'exit' = 'banner';
    let answerFrom = 0;
    let exitFrom = 0;
    let failure: Error | undefined;
    const fail = (message: string): void => {
      failure ??= new Error(`session ${index}: ${message}; received: ${JSON.stringify(received)}`);
      socket.destroy();
    };
    const timer = setTimeout(() => fail(`no progress past the ${stage} stage in ${WAIT_MS} ms`), WAIT_MS);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (stage === 'banner' && received.endsWith(PROMPT)) {
        stage = 'ps';
        answerFrom = received.length;
        socket.write('ps\r\n');
      } else if (stage === 'ps' && received.length > answerFrom && received.endsWith(PROMPT)) {
        const answer = received.slice(answerFrom, -PROMPT.length);
        if (!/^\d+ tasks? \(/.test(answer) || !/interval\s+keepAlive every 1000 ms/.test(answer)) {
          fail(`ps did not list the app's interval: ${JSON.stringify(answer)}`);
          return;
        }
        stage = 'exit';
        exitFrom = received.length;
        socket.write('exit\r\n');
      } else if (stage === 'exit') {
        fail(`the monitor sent ${JSON.stringify(received.slice(exitFrom))} after exit`);
      }
    });
    socket.on('error', (error) => fail(`socket error ${error.message}`));
    socket.on('close', () => {
      clearTimeout(timer);
      if (!failure && stage !== 'exit') failure = new Error(`session ${index}: the monitor closed the connection at the ${stage} stage; received: ${JSON.stringify(received)}`);
      if (failure) reject(failure);
      else resolve();
    });
  });
}

test(`${SESSIONS} sessions in a row leave the app's descriptors as they were and its memory nearly so`, async (t) => {
  const started = Date.now();
  const app = await startApp(APP);
  t.after(() => app.kill());
  await app.waitForOutput('ready');
  const pid = app.child.pid!;
  // The monitor listens a moment after the app starts; connect() waits for it.
  const first = await connect(app.port);
  first.send('exit\r\n');
  await first.closed;

  for (let i = 0; i < WARM_UP; i++) await session(app.port, i);
  const baseFds = openFds(pid);
  const baseRss = rss(pid);

  for (let i = 0; i < SESSIONS; i++) await session(app.port, WARM_UP + i);
  assert.equal(app.child.exitCode, null, `the app exited; stderr: ${app.stderr()}`);

  // The client sees the close a moment before the monitor thread has released its side: let it finish.
  let fds = openFds(pid);
  await waitFor(() => (fds = openFds(pid)) <= baseFds + FD_TOLERANCE, () => `the app's descriptors to come back to ${baseFds} (+${FD_TOLERANCE}); now ${fds}: ${describeFds(pid)}`, 5000);
  const grown = rss(pid) - baseRss;
  assert.ok(grown < RSS_GROWTH_LIMIT, `RSS grew by ${(grown / 1048576).toFixed(1)} MiB over ${SESSIONS} sessions (limit ${RSS_GROWTH_LIMIT / 1048576} MiB)`);
  assert.equal(app.stderr(), '', 'the app printed on stderr');
  t.diagnostic(`${SESSIONS} sessions in ${Date.now() - started} ms; descriptors ${baseFds} -> ${fds}; RSS ${(baseRss / 1048576).toFixed(1)} MiB ${grown >= 0 ? '+' : '-'} ${(Math.abs(grown) / 1048576).toFixed(1)} MiB`);
});
