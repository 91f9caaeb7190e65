// A tolerant JSON reader for scanning: it visits every string value with its path and offset, and when the
// text stops being JSON (a truncated or hand-edited cassette) it says where, so the caller can scan the rest
// as plain text. Nothing is built in memory besides the strings themselves.

export type JsonPath = Array<string | number>;

export interface StringVisit {
  path: JsonPath;
  value: string;
  /** Offset of the opening quote in the text. */
  offset: number;
  /** True for an object key (its path ends with the key itself). */
  key?: boolean;
}

export interface WalkResult {
  /** True when the whole text is one JSON value (with whitespace around it). */
  complete: boolean;
  /** Where reading stopped when it is not: everything before was visited. */
  stoppedAt: number;
}

class Stop extends Error {
  constructor(readonly at: number) {
    super(`not JSON at ${at}`);
  }
}

const WS = new Set([0x20, 0x0a, 0x0d, 0x09]);
const LITERAL = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

export function walkJsonStrings(text: string, visit: (v: StringVisit) => void): WalkResult {
  let pos = 0;
  let safe = 0; // everything before this offset has been visited
  const path: JsonPath = [];

  const skipWs = () => {
    while (pos < text.length && WS.has(text.charCodeAt(pos))) pos++;
  };
  const readString = (): string => {
    const start = pos;
    let i = pos + 1;
    let escaped = false;
    for (;;) {
      if (i >= text.length) throw new Stop(start);
      const c = text.charCodeAt(i);
      if (c === 0x5c) {
        // A backslash: the string needs JSON.parse for its escapes.
        escaped = true;
        i += 2;
        continue;
      }
      if (c === 0x22) break;
      if (c < 0x20) throw new Stop(start);
      i++;
    }
    const raw = text.slice(start, i + 1);
    pos = i + 1;
    if (!escaped) return raw.slice(1, -1);
    try {
      return JSON.parse(raw) as string;
    } catch {
      throw new Stop(start);
    }
  };
  const value = (): void => {
    skipWs();
    const c = text.charCodeAt(pos);
    if (c === 0x22) {
      const offset = pos;
      const s = readString();
      visit({ path: [...path], value: s, offset });
      safe = pos;
      return;
    }
    if (c === 0x7b) {
      pos++;
      skipWs();
      if (text.charCodeAt(pos) === 0x7d) {
        pos++;
        return;
      }
      for (;;) {
        skipWs();
        if (text.charCodeAt(pos) !== 0x22) throw new Stop(pos);
        const keyOffset = pos;
        const key = readString();
        visit({ path: [...path, key], value: key, offset: keyOffset, key: true });
        skipWs();
        if (text.charCodeAt(pos) !== 0x3a) throw new Stop(pos);
        pos++;
        path.push(key);
        value();
        path.pop();
        skipWs();
        const next = text.charCodeAt(pos);
        pos++;
        if (next === 0x2c) continue;
        if (next === 0x7d) return;
        throw new Stop(pos - 1);
      }
    }
    if (c === 0x5b) {
      pos++;
      skipWs();
      if (text.charCodeAt(pos) === 0x5d) {
        pos++;
        return;
      }
      for (let i = 0; ; i++) {
        path.push(i);
        value();
        path.pop();
        skipWs();
        const next = text.charCodeAt(pos);
        pos++;
        if (next === 0x2c) continue;
        if (next === 0x5d) return;
        throw new Stop(pos - 1);
      }
    }
    LITERAL.lastIndex = pos;
    const m = LITERAL.exec(text);
    if (!m) throw new Stop(pos);
    pos += m[0].length;
  };

  try {
    value();
    skipWs();
    if (pos < text.length) throw new Stop(pos);
    return { complete: true, stoppedAt: text.length };
  } catch (err) {
    if (err instanceof Stop || err instanceof RangeError) return { complete: false, stoppedAt: safe };
    throw err;
  }
}

/** `events[3].request.headers.authorization`; keys that are not identifiers in brackets. */
export function formatJsonPath(path: JsonPath): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(p)) out += out ? `.${p}` : p;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out || '(root)';
}
