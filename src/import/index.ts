// `directline-vcr import` as a library: a Bot Framework .transcript, a chatdown .chat file or a script
// (YAML/JSON) becomes a cassette that replays like a recorded one (cassette-builder.ts).
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, sep } from 'node:path';
import { validateCassette } from '../cassette/load.js';
import type { Cassette, CassetteSource } from '../cassette/schema.js';
import { stringifyCassette } from '../cassette/serialize.js';
import { importChat } from './chatdown.js';
import { ImportError } from './import-error.js';
import { importScript } from './script.js';
import { DEFAULT_MAX_GAP_MS, importTranscript } from './transcript.js';

export { ImportError } from './import-error.js';
export { DEFAULT_MAX_GAP_MS } from './transcript.js';

export type ImportFormat = CassetteSource['from'];
export const IMPORT_FORMATS: readonly ImportFormat[] = ['transcript', 'chat', 'script'];

export interface ImportOptions {
  /** Default: from the extension (.transcript, .chat, .yaml/.yml/.json). */
  from?: ImportFormat;
  /** Transcripts: the longest pause kept between two activities, in ms (default 5,000). */
  maxGap?: number;
  /** The cassette's createdAt (default now). */
  createdAt?: Date;
}

/** The format a file's extension says, or undefined. */
export function formatOfFile(file: string): ImportFormat | undefined {
  const ext = extname(file).toLowerCase();
  if (ext === '.transcript') return 'transcript';
  if (ext === '.chat') return 'chat';
  if (ext === '.yaml' || ext === '.yml' || ext === '.json') return 'script';
  return undefined;
}

/** Reads and converts a file; throws an ImportError naming the file, the line or JSON path, and what was expected. */
export async function importFile(file: string, opts: ImportOptions = {}): Promise<Cassette> {
  const from = opts.from ?? formatOfFile(file);
  if (!from)
    throw new ImportError(
      file,
      `cannot tell the format from the extension ${JSON.stringify(extname(file))}: expected .transcript, .chat, .yaml, .yml or ` +
        '.json, or say --from transcript|chat|script',
    );
  let text: string;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new ImportError(file, 'not a file');
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof ImportError) throw err;
    throw new ImportError(file, `cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const name = sourceName(file);
  const cassette =
    from === 'transcript'
      ? importTranscript(text, file, { maxGap: opts.maxGap ?? DEFAULT_MAX_GAP_MS, createdAt: opts.createdAt, name })
      : from === 'chat'
        ? importChat(text, file, { createdAt: opts.createdAt, name })
        : importScript(text, file, { createdAt: opts.createdAt, name });
  // Built to the schema; checked anyway, so a bug here can never write a cassette replay refuses.
  return validateCassette(cassette, `${file} (imported)`);
}

/** The file as the header names it: relative to the working directory, or its base name when outside it (no home paths in cassettes). */
function sourceName(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? basename(file) : rel.split(sep).join('/');
}

/** Writes a cassette in the recorder's layout, atomically: the old file stays until the new one is complete. */
export async function writeCassetteFile(file: string, cassette: Cassette): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.import-${process.pid}`);
  await writeFile(tmp, stringifyCassette(cassette));
  await rename(tmp, file);
}
