// Finding Web Chat's prebuilt browser bundle (botframework-webchat/dist/webchat.js) in the local install.
// botframework-webchat is an optional peer dependency: nothing here imports it, we only locate a file.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const WEBCHAT_PACKAGE = 'botframework-webchat';
export const WEBCHAT_VERSION = '4.18.1';
/** What to run when the bundle is missing. */
export const WEBCHAT_INSTALL_COMMAND = `npm i -D ${WEBCHAT_PACKAGE}@${WEBCHAT_VERSION}`;

export interface WebChatBundle {
  /** Absolute path of dist/webchat.js. */
  file: string;
  /** The installed package version (from its package.json). */
  version: string;
}

/**
 * Where the installed bundle is, or null when botframework-webchat is not installed (or has no
 * dist/webchat.js). The package's `exports` map only exposes ".", so neither "…/dist/webchat.js" nor
 * "…/package.json" can be resolved directly: resolve the main entry (no code is run), then walk up to the
 * directory whose package.json is botframework-webchat's.
 */
export function findWebChatBundle(from: string = import.meta.url): WebChatBundle | null {
  let entry: string;
  try {
    entry = createRequire(from).resolve(WEBCHAT_PACKAGE);
  } catch {
    return null;
  }
  let dir = dirname(entry);
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown; version?: unknown };
        if (pkg.name === WEBCHAT_PACKAGE) {
          const file = join(dir, 'dist', 'webchat.js');
          return existsSync(file) ? { file, version: typeof pkg.version === 'string' ? pkg.version : 'unknown' } : null;
        }
      } catch {
        /* unreadable manifest: keep walking up */
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}
