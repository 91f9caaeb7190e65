// What the inspector tests share: opening the page in Chromium and reading it.
import type { Browser, Page } from 'playwright-core';
import { collectErrors } from '../browser/support.js';

export interface OpenPage {
  page: Page;
  errors: string[];
}

/** Opens the inspector at `url` and waits until its first view is drawn. */
export async function openInspector(browser: Browser, url: string, viewport = { width: 1500, height: 850 }): Promise<OpenPage> {
  const page = await browser.newPage({ viewport });
  const errors = collectErrors(page);
  await page.goto(url);
  await page.waitForSelector('body[data-ready]', { timeout: 15_000 });
  return { page, errors };
}

/** `{ shown, total }` from the "N of M rows" counter. */
export async function rowCount(page: Page): Promise<{ shown: number; total: number }> {
  const text = (await page.locator('#count').textContent()) ?? '';
  const m = /([\d,]+) of ([\d,]+) rows/.exec(text);
  if (!m) throw new Error(`no row count on the page: "${text}"`);
  return { shown: Number(m[1].replace(/,/g, '')), total: Number(m[2].replace(/,/g, '')) };
}

/** The timeline row (in the DOM: the list is virtualised, so scroll it into view first) whose text has `text`. */
export function timelineRow(page: Page, text: string) {
  return page.locator('.row[data-key]').filter({ hasText: text });
}
