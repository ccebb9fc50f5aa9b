// Takes the README's pictures of the web page: docs/page-idle.png, and docs/page-blocked.png during a 3 s block.
// Run: npm run build && node dist/test/page-screenshots.js (not a test: it writes into docs/).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser } from './browser';
import { ENTRY, ROOT, startApp, WAIT_MS } from './helpers';
import { webReady } from './web-helpers';

const APP = `
const http = require('node:http');
const { setTimeout: sleep } = require('node:timers/promises');
const { task } = require(${JSON.stringify(ENTRY)});
const server = http.createServer(function handleRequest(req, res) {
  if (req.url === '/block') setTimeout(function crunchNumbers() { const until = Date.now() + 3000; while (Date.now() < until); }, 50);
  if (!req.url.startsWith('/slow')) res.end('ok');
});
server.listen(0, '127.0.0.1', () => {
  console.log('ready ' + server.address().port);
  fetch('http://127.0.0.1:' + server.address().port + '/slow?from=app').catch(() => {});
});
setInterval(function pollQueue() {}, 5000);
const kept = [];
setInterval(function handleLogins() { for (let i = 0; i < 2000; i++) kept.push({ user: 'u' + i, at: Date.now() }); if (kept.length > 400000) kept.length = 0; }, 200);
task('sync-users', async (signal) => { for (;;) await sleep(2000, undefined, { signal }); });
task('import-report', async () => { await sleep(1500); throw new Error('report.csv: unexpected end of file'); }).catch(() => {});
`;

async function main(): Promise<void> {
  const docs = path.join(ROOT, 'docs');
  fs.mkdirSync(docs, { recursive: true });
  // A plain place and name for the app, as the pictures show its file in stacks and task sources.
  const dir = path.join(os.tmpdir(), 'shop');
  fs.mkdirSync(dir, { recursive: true });
  const app = await startApp(APP, { dir, name: 'server.js' });
  try {
    await app.waitForOutput('ready');
    await webReady(app.webPort);
    const port = /ready (\d+)/.exec(app.stdout())![1];
    const browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    await page.goto(`http://127.0.0.1:${app.webPort}/`);
    // A first short block, so that the Blocks tab and the charts have something to show.
    await fetch(`http://127.0.0.1:${port}/block`);
    await page.locator('#banner').waitFor({ state: 'visible', timeout: WAIT_MS });
    await page.locator('#banner').waitFor({ state: 'hidden', timeout: WAIT_MS });
    await page.waitForTimeout(20_000);
    await page.locator('#tasks-list tr', { hasText: 'pollQueue' }).click();
    await page.locator('#tasks-detail h3').waitFor({ timeout: WAIT_MS });
    await page.screenshot({ path: path.join(docs, 'page-idle.png') });

    await page.click('#tab-blocks');
    await fetch(`http://127.0.0.1:${port}/block`);
    await page.locator('#banner', { hasText: 'crunchNumbers' }).waitFor({ timeout: WAIT_MS });
    await page.locator('#blocks-list tbody tr').first().click();
    await page.waitForTimeout(1000);
    await page.screenshot({ path: path.join(docs, 'page-blocked.png') });
    await browser.close();
  } finally {
    app.kill();
  }
}

void main();
