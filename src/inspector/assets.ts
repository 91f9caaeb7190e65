// The page's script modules (src/inspector/page/*.ts). `npm run build` (tsc) compiles them next to this
// file into dist/inspector/page/*.js, which is what an installed package serves. Run from the sources
// (tests and development, under tsx), there is no .js beside the .ts: the .ts is stripped of its types
// with esbuild, which tsx brings along, so a page edit needs no build step.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));
const NAME = /^[a-z][a-z0-9-]*$/;

export interface Asset {
  body: Buffer;
  etag: string;
}

const cache = new Map<string, { mtimeMs: number; asset: Asset }>();

/** The module `page/<name>.js`, or null when there is none. Throws when only a .ts exists and esbuild is missing. */
export async function pageModule(name: string): Promise<Asset | null> {
  if (!NAME.test(name)) return null;
  const js = `${PAGE_DIR}${name}.js`;
  const ts = `${PAGE_DIR}${name}.ts`;
  const file = existsSync(js) ? js : existsSync(ts) ? ts : null;
  if (!file) return null;
  const mtimeMs = statSync(file).mtimeMs;
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === mtimeMs) return hit.asset;
  const source = readFileSync(file, 'utf8');
  const code = file === js ? source : await stripTypes(source, ts);
  const asset = { body: Buffer.from(code), etag: `"${name}-${Math.trunc(mtimeMs)}-${code.length}"` };
  cache.set(file, { mtimeMs, asset });
  return asset;
}

async function stripTypes(source: string, file: string): Promise<string> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error(`${file} is not compiled: run \`npm run build\` (tsc) so dist/inspector/page/ holds the page's scripts`);
  }
  const out = await esbuild.transform(source, { loader: 'ts', format: 'esm', target: 'es2022', sourcefile: file, sourcemap: 'inline' });
  return out.code;
}
