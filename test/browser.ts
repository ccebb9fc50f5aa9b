import fs from 'node:fs';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium; playwright-core drives it and never downloads a browser of its own. */
export const CHROMIUM = '/usr/bin/chromium';

/** Launches one headless Chromium, for a whole test file: each test opens its own context in it. */
export async function launchBrowser(): Promise<Browser> {
  assert.ok(fs.existsSync(CHROMIUM), `the browser tests need Chromium at ${CHROMIUM}: apt-get install chromium`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page in a fresh context, with what went wrong on it so far: console errors, uncaught errors, failed or refused requests. */
export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  problems: string[];
}

/** Opens a fresh context and page, closed after the test, recording every problem the page shows. */
export async function openPage(t: TestContext, browser: Browser, viewport = { width: 1280, height: 900 }): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  t.after(() => context.close());
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => { if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`); });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText ?? ''}`));
  page.on('response', (response) => { if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`); });
  return { context, page, problems };
}

/** The text of each cell of a table's body, row by row. */
export function tableRows(page: Page, selector: string): Promise<string[][]> {
  return page.$$eval(`${selector} tbody tr`, (rows) => rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent ?? '')));
}
