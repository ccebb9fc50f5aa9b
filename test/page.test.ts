import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test, type TestContext } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchBrowser, openPage, tableRows } from './browser';
import { webReady } from './web-helpers';
import { connect, ENTRY, SHORT_DEADLINE_MS, startApp, waitFor, WAIT_MS, type App, type AppOptions, type Client } from './helpers';

// An app with work that stays put (a named task, an interval, a server), and a way to block its loop for 3 s.
const APP = `
const http = require('node:http');
const { task } = require(${JSON.stringify(ENTRY)});
const server = http.createServer((req, res) => {
  res.end('ok');
  if (req.url === '/block') setTimeout(function spinForThreeSeconds() { const until = Date.now() + 3000; while (Date.now() < until); }, 50);
  // Native code, where no JavaScript can run and reads of the main thread pass their deadline.
  if (req.url === '/sleep') setTimeout(function sleepInNativeCode() { require('node:child_process').execSync('sleep 3'); }, 50);
});
server.listen(0, '127.0.0.1', () => console.log('ready ' + server.address().port));
setInterval(function pollQueue() {}, 60000);
task('sync-users', (signal) => new Promise((resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)))).catch(() => {});
`;

let browser: Browser;
before(async () => { browser = await launchBrowser(); });
after(() => browser.close());

/** The app and a page in a fresh context, both closed after the test; the page opens at `base`. */
async function open(t: TestContext, options: AppOptions = {}): Promise<{ app: App; page: Page; problems: string[]; base: string }> {
  const app = await startApp(APP, options);
  t.after(() => app.kill());
  await app.waitForOutput('ready');
  await webReady(app.webPort);
  const { page, problems } = await openPage(t, browser);
  return { app, page, problems, base: `http://127.0.0.1:${app.webPort}` };
}

/** A prompt session to the app, as a script would read it, closed after the test. */
async function prompt(t: TestContext, app: App): Promise<Client> {
  const client = await connect(app.port);
  t.after(() => client.socket.destroy());
  return client;
}

/** The JSON document a command prints at the prompt. */
async function json<T>(client: Client, line: string): Promise<T> {
  const output = await client.command(line);
  const doc = output.split('\r\n').find((text) => text.startsWith('{'));
  assert.ok(doc, `${line} printed no JSON: ${output}`);
  return JSON.parse(doc) as T;
}

async function ids(client: Client, line: string): Promise<number[]> {
  return (await json<{ tasks: { id: number }[] }>(client, line)).tasks.map((task) => task.id);
}

async function pageIds(page: Page, list: string): Promise<number[]> {
  return (await tableRows(page, list)).map((cells) => Number(cells[0]));
}

/** Waits until the page's table lists the IDs `expected()` gives, and returns them. */
async function tableMatches(page: Page, list: string, expected: () => Promise<number[]>): Promise<number[]> {
  let want: number[] = [];
  let got: number[] = [];
  await waitFor(async () => {
    [want, got] = [await expected(), await pageIds(page, list)];
    return want.length > 0 && JSON.stringify(want) === JSON.stringify(got);
  }, () => `the page's ${list} to list ${JSON.stringify(want)}; it lists ${JSON.stringify(got)}`);
  return got;
}

function downloadedJson(path: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path, 'utf8')) as Record<string, unknown>;
}

/**
 * The file behind a download link, fetched with the page's cookies. Chromium may hold back a tab's second
 * download behind its "download multiple files" question, so only the first one is a click in these tests.
 */
async function fetchedDownload(page: Page, link: Locator, name: RegExp): Promise<Record<string, unknown>> {
  const href = await link.getAttribute('href');
  assert.ok(href, 'the download link has its address');
  const response = await page.context().request.get(new URL(href, page.url()).href);
  assert.equal(response.status(), 200, await response.text());
  const disposition = response.headers()['content-disposition'] ?? '';
  assert.match(/^attachment; filename="([^"]+)"$/.exec(disposition)?.[1] ?? disposition, name);
  assert.match(await link.getAttribute('download') ?? '', name);
  return JSON.parse(await response.text()) as Record<string, unknown>;
}

test('the page opens with the process in its header, without a console error or a failed request, and its charts move', async (t) => {
  const { app, page, problems, base } = await open(t);
  await page.goto(base);
  await page.locator('#pid', { hasText: `pid ${app.child.pid}` }).waitFor({ timeout: WAIT_MS });
  assert.match(await page.textContent('#node') ?? '', /^Node\.js v\d+\./);
  assert.equal(await page.textContent('#title'), 'app.js');
  await page.locator('#tasks-list tbody tr').first().waitFor({ timeout: WAIT_MS });

  const points = async (): Promise<number> => Number(await page.getAttribute('#chart-delay', 'data-points'));
  const first = await points();
  await waitFor(async () => (await points()) >= first + 3, () => `the charts to gain 3 points over ${first}`);
  await waitFor(async () => /interval/.test(await page.textContent('#chart-tasks') ?? ''), () => 'a series for the intervals in the chart of tasks by type');
  assert.match(await page.textContent('#chart-memory') ?? '', /RSS\s*\d+(\.\d)? MiB/);
  assert.deepEqual(problems, []);
});

test('the task table lists what ps --json lists, filters with ps --filter and sorts with ps --sort', async (t) => {
  const { app, page, problems, base } = await open(t);
  const client = await prompt(t, app);
  await page.goto(base);
  const listed = await tableMatches(page, '#tasks-list', () => ids(client, 'ps --json'));
  assert.ok(listed.length >= 3, `expected the task, the interval and the server: ${JSON.stringify(listed)}`);

  await page.fill('#tasks-filter', 'interval');
  const intervals = await tableMatches(page, '#tasks-list', () => ids(client, 'ps --filter interval --json'));
  assert.equal(intervals.length, 1);

  await page.fill('#tasks-filter', '');
  await page.click('#tasks-list th:has-text("AGE")');
  await tableMatches(page, '#tasks-list', () => ids(client, 'ps --sort age --json'));
  assert.match(await page.textContent('#tasks-list thead') ?? '', /AGE ▲/);

  await page.click('#tasks-list tr:has-text("pollQueue")');
  await page.locator('#tasks-detail h3', { hasText: 'pollQueue' }).waitFor({ timeout: WAIT_MS });
  assert.match(await page.textContent('#tasks-detail') ?? '', /callback defined at.*app\.js:\d+:\d+/s);
  assert.deepEqual(problems, []);
});

test('cancel asks first, then the task leaves ps and shows in ps-terminated', async (t) => {
  const { app, page, problems, base } = await open(t);
  const client = await prompt(t, app);
  await page.goto(base);
  const row = page.locator('#tasks-list tr', { hasText: 'sync-users' });
  const id = Number(await row.getAttribute('data-id', { timeout: WAIT_MS }));

  await row.locator('button', { hasText: 'Cancel' }).click();
  await page.locator('#confirm', { hasText: `task ${id}: sync-users` }).waitFor({ timeout: WAIT_MS });
  await page.click('#confirm button:has-text("Keep it")');
  assert.ok((await ids(client, 'ps --json')).includes(id), 'kept when the question is answered no');

  await row.locator('button', { hasText: 'Cancel' }).click();
  await page.click('#confirm-yes');
  await page.locator('#tasks-result', { hasText: '✓ cancelled task sync-users' }).waitFor({ timeout: WAIT_MS });
  await waitFor(async () => !(await ids(client, 'ps --json')).includes(id), () => `task ${id} to leave ps`);
  const ended = await json<{ tasks: { id: number; outcome: string }[] }>(client, 'ps-terminated --json');
  assert.equal(ended.tasks.find((task) => task.id === id)?.outcome, 'cancelled');
  await row.waitFor({ state: 'detached', timeout: WAIT_MS });

  await page.click('#tab-finished');
  await page.locator(`#finished-list tr[data-id="${id}"]`).click({ timeout: WAIT_MS });
  await page.locator('#finished-detail', { hasText: 'cancelled by' }).waitFor({ timeout: WAIT_MS });
  assert.deepEqual(problems, []);
});

test('while the loop is blocked for 3 s, a banner says for how long and where, and the page goes on working', async (t) => {
  // A short read deadline, so that a read during a block in native code answers 503 well within the block.
  const { app, page, problems, base } = await open(t, { deadlineMs: SHORT_DEADLINE_MS });
  await page.goto(base);
  await page.locator('#tasks-list tbody tr').first().waitFor({ timeout: WAIT_MS });
  const appPort = /ready (\d+)/.exec(app.stdout())![1];
  const visit = (path: string): Promise<string> => fetch(`http://127.0.0.1:${appPort}${path}`).then((response) => response.text());

  await visit('/block');
  const banner = page.locator('#banner');
  await banner.locator('text=Main thread blocked for').waitFor({ timeout: WAIT_MS });
  // Watched while the other tabs are used: on a busy machine a short stall after the block may take the banner over.
  const bannerNamesIt = page.locator('#banner', { hasText: 'spinForThreeSeconds' }).waitFor({ timeout: WAIT_MS });
  bannerNamesIt.catch(() => {}); // awaited below; a step failing first must not leave it unhandled
  await page.click('#tab-blocks');
  await page.locator('#blocks-summary', { hasText: 'blocked right now' }).waitFor({ timeout: WAIT_MS });
  // The monitor reads a loop stuck in JavaScript through the inspector: ps answers, with the timer that runs.
  await page.click('#tab-tasks');
  await page.locator('#tasks-list tr', { hasText: 'spinForThreeSeconds' }).locator('td.running').waitFor({ timeout: WAIT_MS });
  await bannerNamesIt;
  await banner.waitFor({ state: 'hidden', timeout: WAIT_MS });

  await page.click('#tab-blocks');
  await page.locator('#blocks-list tr', { hasText: 'spinForThreeSeconds' }).click({ timeout: WAIT_MS });
  await page.locator('#blocks-detail pre', { hasText: 'at spinForThreeSeconds' }).waitFor({ timeout: WAIT_MS });
  assert.match(await page.textContent('#blocks-groups') ?? '', /spinForThreeSeconds/);
  await page.locator('#blocks-timeline .bar[title*="spinForThreeSeconds"]').waitFor({ timeout: WAIT_MS });

  // Stuck in native code the main thread cannot be read: the list stays, with a quiet note, until it returns.
  await page.click('#tab-tasks');
  await visit('/sleep');
  await page.locator('#tasks-note', { hasText: 'main thread busy' }).waitFor({ timeout: WAIT_MS });
  assert.ok(await page.locator('#tasks-list tbody tr').count() > 0, 'the list from before stays');
  await page.locator('#tasks-note').waitFor({ state: 'hidden', timeout: WAIT_MS });
  // What failed were reads of the main thread while it was stuck, with 503, and nothing else.
  assert.deepEqual(problems.filter((problem) => !/\b503\b/.test(problem)), []);
});

test('stacktrace, a CPU profile, a heap snapshot and a heap profile answer, and their downloads are what they say', async (t) => {
  const { page, problems, base } = await open(t);
  await page.goto(base);
  await page.click('#tab-tools');

  await page.click('#stacktrace-run');
  await page.locator('#stacktrace-out p', { hasText: /idle|running|main thread/i }).waitFor({ timeout: WAIT_MS });

  await page.fill('#profile-seconds', '1');
  await page.click('#profile-run');
  const profileLink = page.locator('#profile-out a.download');
  await profileLink.waitFor({ timeout: WAIT_MS });
  assert.match(await page.textContent('#profile-out p') ?? '', /\d+ samples over \d+\.\d+ s/);
  assert.ok(await page.locator('#profile-out tbody tr').count() > 0, 'the hottest functions');
  const [profile] = await Promise.all([page.waitForEvent('download'), profileLink.click()]);
  assert.match(profile.suggestedFilename(), /\.cpuprofile$/);
  const cpu = downloadedJson(await profile.path());
  assert.ok(Array.isArray(cpu.nodes) && Array.isArray(cpu.samples), 'a .cpuprofile has nodes and samples');

  await page.click('#heapsnapshot-run');
  const snapshotLink = page.locator('#heapsnapshot-out a.download');
  await snapshotLink.waitFor({ timeout: WAIT_MS });
  assert.match(await page.textContent('#heapsnapshot-out p') ?? '', /MiB in \d+ ms/);
  const heap = await fetchedDownload(page, snapshotLink, /\.heapsnapshot$/);
  assert.ok(typeof heap.snapshot === 'object' && Array.isArray(heap.nodes), 'a .heapsnapshot has snapshot and nodes');

  await page.fill('#heapprofile-seconds', '1');
  await page.click('#heapprofile-run');
  const heapLink = page.locator('#heapprofile-out a.download');
  await heapLink.waitFor({ timeout: WAIT_MS });
  assert.ok(typeof (await fetchedDownload(page, heapLink, /\.heapprofile$/)).head === 'object', 'a .heapprofile has its head node');
  assert.deepEqual(problems, []);
});

test('with a token, the page needs a login, and a session that ends sends it back to the login form', async (t) => {
  const token = 'page-test-token';
  const { app, page, base } = await open(t, { env: { MONITOR_TOKEN: token } });
  await page.goto(base);
  assert.match(page.url(), /\/login$/);
  await page.context().request.post(`${base}/login`, { form: { token }, headers: { Origin: base } });
  await page.goto(base);
  await page.locator('#pid', { hasText: `pid ${app.child.pid}` }).waitFor({ timeout: WAIT_MS });
  await page.context().clearCookies();
  await page.waitForURL(/\/login$/, { timeout: WAIT_MS });
});
