// Vitest config for test/api/runners/vitest.example.ts (run by test/api/runners.test.ts). The
// `dlvcr-source` condition makes `directline-vcr` resolve to src/index.ts, which Vite transforms itself;
// tests run on Vite's server side, hence ssr.resolve.conditions (the defaults plus ours).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  ssr: { resolve: { conditions: ['dlvcr-source', 'module', 'node', 'development|production'] } },
  test: { include: ['test/api/runners/vitest.example.ts'] },
});
