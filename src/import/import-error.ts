// Why an import failed, said the way an editor jumps to it: the file, the line (or the JSON path when the
// input has no lines worth naming) and what was expected there.

export interface ImportPlace {
  /** 1-based line in the file. */
  line?: number;
  /** JSON path of the value at fault, e.g. `turns[3].bot.stream.every`. */
  path?: string;
}

export class ImportError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly place: ImportPlace = {},
  ) {
    super(`${file}${place.line !== undefined ? `:${place.line}` : ''}: ${place.path ? `${place.path}: ` : ''}${problem}`);
    this.name = 'ImportError';
  }
}

/** `a.b[2].c` from a list of keys and indices. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(String(p))) out += out ? `.${String(p)}` : String(p);
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out || '(root)';
}

/** 1-based line of a character offset in a text. */
export function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < Math.min(offset, text.length); i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Where JSON.parse stopped, as a line: V8 names the position ("at position 42") and, in newer versions, the
 * line itself ("(line 3 column 5)").
 */
export function jsonErrorLine(text: string, err: Error): number | undefined {
  const line = /\(line (\d+) column \d+\)/.exec(err.message);
  if (line) return Number(line[1]);
  const pos = /at position (\d+)/.exec(err.message);
  if (pos) return lineOfOffset(text, Number(pos[1]));
  if (/end of JSON input/i.test(err.message)) return lineOfOffset(text, text.length);
  return undefined;
}
