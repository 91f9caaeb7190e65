// What the import tests share: input files written into a temp folder (with the demo's PNG and card to
// attach), imported through the public path (importFile), and the bot's side of a replay as Web Chat shows it.
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import type { Cassette, WsMessageEvent } from '../../src/cassette/schema.js';
import { importFile, type ImportOptions } from '../../src/import/index.js';
import type { Activity } from '../../src/protocol/types.js';
import { tempDir } from '../support/fs.js';

export const DEMO_PNG = fileURLToPath(new URL('../../recordings/demo/lisbon.png', import.meta.url));
export const DEMO_CARD = fileURLToPath(new URL('../../recordings/demo/trip-card.json', import.meta.url));

export interface InputFolder {
  dir: string;
  file(name: string): string;
  write(name: string, text: string): string;
  /** Copies the demo's image (lisbon.png) and Adaptive Card (trip-card.json) in, under these names. */
  withDemoAssets(png?: string, card?: string): void;
  cleanup(): Promise<void>;
}

export async function inputFolder(): Promise<InputFolder> {
  const tmp = await tempDir('dlvcr-import-');
  return {
    dir: tmp.dir,
    file: tmp.file,
    write: (name, text) => {
      const path = tmp.file(name);
      writeFileSync(path, text);
      return path;
    },
    withDemoAssets: (png = 'picture.png', card = 'card.json') => {
      copyFileSync(DEMO_PNG, join(tmp.dir, png));
      copyFileSync(DEMO_CARD, join(tmp.dir, card));
    },
    cleanup: tmp.cleanup,
  };
}

/** Writes `text` as `name` in a fresh folder (plus the demo assets) and imports it. */
export async function importText(name: string, text: string, opts: ImportOptions = {}): Promise<Cassette> {
  const folder = await inputFolder();
  try {
    folder.withDemoAssets();
    return await importFile(folder.write(name, text), opts);
  } finally {
    await folder.cleanup();
  }
}

/** Every activity the cassette's server frames deliver, in order. */
export function deliveredActivities(c: Cassette): Activity[] {
  return c.events
    .filter((e): e is WsMessageEvent => e.type === 'ws.message' && e.from === 'server' && 'json' in e.data)
    .flatMap((e) => (e.data as { json: { activities: Activity[] } }).json.activities);
}

/** The texts of the bot's message bubbles in Web Chat, top to bottom. */
export function botBubbleTexts(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('.webchat__bubble:not(.webchat__bubble--from-user)')].map((e) => (e.textContent ?? '').trim()),
  );
}

/**
 * Starts recording, in the page, every distinct text of the bot bubble whose text starts with `prefix` (a
 * MutationObserver, so no change between two polls is missed); `samples()` returns them in order.
 */
export async function sampleBubble(page: Page, prefix: string): Promise<{ samples: () => Promise<string[]> }> {
  // A string, not a function: the test's TypeScript transform would add helpers the page does not have.
  await page.evaluate(`(() => {
    const prefix = ${JSON.stringify(prefix)};
    window.dlvcrSamples = [];
    new MutationObserver(() => {
      for (const e of document.querySelectorAll('.webchat__bubble:not(.webchat__bubble--from-user)')) {
        const t = (e.textContent || '').trim();
        if (t.startsWith(prefix) && window.dlvcrSamples[window.dlvcrSamples.length - 1] !== t) window.dlvcrSamples.push(t);
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  })()`);
  return { samples: () => page.evaluate(() => (window as unknown as { dlvcrSamples: string[] }).dlvcrSamples) };
}
