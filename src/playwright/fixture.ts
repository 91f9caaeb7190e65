// The @playwright/test fixture: `import { test, expect } from 'directline-vcr/playwright'` gives each test a
// `directline` fixture that routes the test's browser context to a cassette of its own, and fails the test
// when the replay could not answer a request.
import { dirname, join, relative } from 'node:path';
import { test as base, expect, type TestInfo } from '@playwright/test';
import {
  PLAYWRIGHT_VCR_MODES,
  routeDirectLine,
  type DirectLineRoute,
  type PlaywrightVcrMode,
  type RouteDirectLineOptions,
} from './route.js';

export interface DirectLineFixtureOptions extends Partial<Omit<RouteDirectLineOptions, 'logger'>> {
  /** Folder of the per-test cassettes (default DLVCR_CASSETTE_DIR, else `recordings` beside the Playwright config). */
  cassetteDir?: string;
  /** Fail the test when replay saw a request the cassette could not answer (default true). */
  failOnUnmatched?: boolean;
}

/**
 * DLVCR_MODE: `replay` (never go upstream), `record` (re-record every cassette) or `auto` (replay a cassette
 * that holds a recording, record the others). Unset: `replay` in CI (CI is set), `auto` elsewhere.
 */
export function modeFromEnv(env: NodeJS.ProcessEnv = process.env): PlaywrightVcrMode {
  const raw = env.DLVCR_MODE?.trim();
  if (!raw) return env.CI && env.CI !== 'false' && env.CI !== '0' ? 'replay' : 'auto';
  if ((PLAYWRIGHT_VCR_MODES as readonly string[]).includes(raw)) return raw as PlaywrightVcrMode;
  throw new Error(`DLVCR_MODE=${JSON.stringify(raw)} is not a mode; use one of ${PLAYWRIGHT_VCR_MODES.join(', ')}`);
}

/** recordings/<test file>/<test title>.json, the title path joined with " › " and made safe as a file name. */
export function defaultCassettePath(info: Pick<TestInfo, 'file' | 'titlePath' | 'project' | 'config'>, cassetteDir?: string): string {
  const root = info.config.configFile ? dirname(info.config.configFile) : info.config.rootDir;
  const dir = cassetteDir ?? process.env.DLVCR_CASSETTE_DIR ?? join(root, 'recordings');
  const file = relative(info.project.testDir, info.file) || 'test';
  const title = info.titlePath.slice(1).join(' › ');
  return join(dir, safeName(file), `${safeName(title) || 'untitled'}.json`);
}

function safeName(s: string): string {
  return s
    .replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '-')
    .replace(/^\.+/, '')
    .slice(0, 180);
}

export const test = base.extend<{ directline: DirectLineRoute; directlineOptions: DirectLineFixtureOptions }>({
  directlineOptions: [{}, { option: true }],
  // Automatic, so a page is never left talking to the real service because a test did not ask for the
  // fixture; lazy, so a test that never talks to Direct Line needs no cassette and writes none.
  directline: [
    async ({ context, directlineOptions }, use, testInfo) => {
      const { cassetteDir, failOnUnmatched = true, ...opts } = directlineOptions;
      const mode = opts.mode ?? modeFromEnv();
      const cassette = opts.cassette ?? defaultCassettePath(testInfo, cassetteDir);
      const upstream = opts.upstream ?? process.env.DLVCR_UPSTREAM;
      const route = await routeDirectLine(context, { ...opts, mode, cassette, upstream, lazy: true });
      await use(route);
      await route.close();
      if (route.startError) {
        const hint = route.mode === 'replay' ? ' (replay mode: record the cassette first with DLVCR_MODE=record or auto)' : '';
        throw new Error(
          `directline-vcr could not start the ${route.mode === 'replay' ? 'replay' : 'recorder'} for ${cassette}${hint}: ` +
            `${route.startError.message}`,
        );
      }
      const report = route.mismatchReport();
      if (report) {
        await testInfo.attach('directline-vcr mismatches', { body: report, contentType: 'text/plain' });
        if (failOnUnmatched) throw new Error(report);
      }
    },
    { auto: true },
  ],
});

export { expect };
