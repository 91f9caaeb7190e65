// Fails when a source line is longer than the formatter's line width (biome.json). The formatter wraps code
// but leaves long strings, template literals and comments as they are; this check catches those too.
// Usage: tsx scripts/check-line-width.ts [folder or file…]   (default: the folders biome.json formats)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WIDTH: number = JSON.parse(readFileSync(join(ROOT, 'biome.json'), 'utf8')).formatter.lineWidth;
const FOLDERS = ['src', 'test', 'bench', 'scripts', 'bin', 'examples'];
const SKIPPED = new Set(['node_modules', 'dist', 'results']);
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;

function* sourceFiles(dir: string): Generator<string> {
  if (!statSync(dir).isDirectory()) {
    if (SOURCE.test(dir)) yield dir;
    return;
  }
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIPPED.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (SOURCE.test(entry.name)) yield path;
  }
}

const folders = process.argv.length > 2 ? process.argv.slice(2) : FOLDERS.map((f) => join(ROOT, f));
const over: string[] = [];
for (const folder of folders) {
  for (const file of sourceFiles(folder)) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      // Characters, not UTF-16 units: '→' and '日' count once, as an editor shows them.
      const width = [...line].length;
      if (width > WIDTH) over.push(`${relative(ROOT, file)}:${i + 1}: ${width} characters (limit ${WIDTH})`);
    });
  }
}
if (over.length) {
  process.stderr.write(`${over.join('\n')}\n${over.length} line(s) longer than ${WIDTH} characters\n`);
  process.exit(1);
}
