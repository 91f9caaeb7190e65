#!/usr/bin/env node
// Entry point of the published CLI: runs the compiled code in dist/ (built by `npm install` via prepare).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('directline-vcr: dist/ is missing; run `npm run build` in the package folder first.');
  process.exit(1);
}
await import(main.href);
