// The example's config (app, Chromium) with this folder's specs: tests of the fixture itself.
import { defineConfig } from '@playwright/test';
import example from '../../examples/playwright/playwright.config.ts';

export default defineConfig(example, { testDir: '.', testMatch: '*.spec.ts' });
