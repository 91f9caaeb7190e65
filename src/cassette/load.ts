// Reading a cassette from disk: every problem is reported with the file name and where it is.
import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { CASSETTE_VERSION, CassetteSchema, type Cassette } from './schema.js';

export class CassetteError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'CassetteError';
  }
}

export interface LoadOptions {
  /** Refuse files larger than this many bytes (default 512 MiB). */
  maxBytes?: number;
}

export async function loadCassette(file: string, opts: LoadOptions = {}): Promise<Cassette> {
  const maxBytes = opts.maxBytes ?? 512 * 1024 * 1024;
  let info: Stats;
  try {
    info = await stat(file);
  } catch (err) {
    throw new CassetteError(file, `cannot read the cassette (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const size = info.size;
  if (!info.isFile()) throw new CassetteError(file, 'not a file (a folder or a device was given where a cassette file was expected)');
  if (size > maxBytes) throw new CassetteError(file, `the file is ${size} bytes, over the limit of ${maxBytes} bytes`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CassetteError(file, `cannot read the cassette (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseCassette(text, file);
}

export function parseCassette(text: string, file = '<cassette>'): Cassette {
  if (text.trim() === '') throw new CassetteError(file, 'the file is empty');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CassetteError(file, `not valid JSON (${(err as Error).message}); the file may be truncated`);
  }
  return validateCassette(raw, file);
}

export function validateCassette(raw: unknown, file = '<cassette>'): Cassette {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CassetteError(file, 'expected a JSON object with "version" and "events"');
  }
  const version = (raw as { version?: unknown }).version;
  if (version !== CASSETTE_VERSION) {
    throw new CassetteError(
      file,
      `cassette version ${JSON.stringify(version)} is not supported (this directline-vcr reads version ${CASSETTE_VERSION})`,
    );
  }
  const parsed = CassetteSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${formatPath(i.path)}: ${i.message}`);
    const more = parsed.error.issues.length > 5 ? ` (and ${parsed.error.issues.length - 5} more)` : '';
    throw new CassetteError(file, `invalid cassette: ${issues.join('; ')}${more}`);
  }
  // The input itself is returned: the schema has no defaults or transforms, and zod's copy of a record
  // would drop an own "__proto__" key (JSON.parse keeps it as data).
  const cassette = raw as Cassette;
  const events = cassette.events;
  for (let i = 1; i < events.length; i++) {
    if (events[i].t < events[i - 1].t) {
      throw new CassetteError(file, `events[${i}].t: time goes backwards (${events[i].t} ms after ${events[i - 1].t} ms)`);
    }
  }
  return cassette;
}

function formatPath(path: PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}
