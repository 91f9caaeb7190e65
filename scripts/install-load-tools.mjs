// Run before `npm test` (the pretest script): installs the pinned Artillery of examples/load/artillery/, which the
// Artillery recipe's test runs. It lives in a package of its own (460 MB, its own lock, install scripts off so
// Playwright's Chromium download never runs) so that directline-vcr's own install does not carry it. Skipped
// when its node_modules is already up to date with its lock.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../examples/load/artillery/', import.meta.url));
const mtime = (file) => {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
};
const installed = mtime(`${dir}node_modules/.package-lock.json`);
if (installed < 0 || installed < mtime(`${dir}package-lock.json`)) {
  console.log('installing Artillery for the load recipe test (examples/load/artillery, once)…');
  const npm = process.env.npm_execpath;
  const [cmd, args] = npm ? [process.execPath, [npm]] : ['npm', []];
  execFileSync(cmd, [...args, 'ci', '--prefix', dir, '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
    stdio: 'inherit',
  });
}
