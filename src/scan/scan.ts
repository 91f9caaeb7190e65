// Looks for secrets that are still in a cassette (or any JSON/text file): Direct Line site secrets, JWTs,
// bearer credentials, t=/token= URL parameters, secret-named JSON keys, and user patterns. Placeholders
// written by the redactor (DLVCR_SECRET_n, DLVCR_TOKEN_n, ...) never count. It reads raw JSON, not the
// cassette schema, so it works on a cassette that does not validate (a pre-commit hook must not need one
// that does), and on text that is not JSON at all.
import { readFile } from 'node:fs/promises';
import { isPlaceholder } from '../cassette/placeholders.js';
import { formatJsonPath, walkJsonStrings, type JsonPath } from './json-walk.js';

export type FindingKind =
  | 'directline-secret' // a Direct Line / Web Chat site secret
  | 'jwt' // a JSON Web Token (Direct Line tokens and stream tokens are JWTs)
  | 'bearer' // `Bearer <credential>`
  | 'authorization' // an Authorization-type header with another scheme or a bare credential
  | 'url-token' // `t=` / `token=` URL parameter, or `t` in a recorded query
  | 'json-key' // a token / secret / password / ... key with a value
  | 'custom'; // a user-supplied pattern

export interface Finding {
  file: string;
  /** JSON path of the value (`events[3].request.headers.authorization`), or `(text)` outside JSON. */
  path: string;
  /** 1-based line of the value in the file (absent for scanValue). */
  line?: number;
  kind: FindingKind;
  /** The start of the secret and an ellipsis: never the whole value. */
  excerpt: string;
}

export interface ScanOptions {
  /** Extra patterns; every match that is not a placeholder is a finding of kind 'custom'. */
  patterns?: RegExp[];
  /** Reported as Finding.file (default '<text>'). */
  file?: string;
}

/** Values that say "nothing here". */
const EMPTYISH = /^(?:|-|null|undefined|\*+|x{3,}|\[redacted\]|<redacted>|redacted|\[hidden\]|\.\.\.|…)$/i;

// JWT: base64url header and payload (the header is always JSON, so it starts with `eyJ`), optional signature.
const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g;
// Direct Line site secrets: an ~11-char base64url site part, a dot, a ~43-char base64url key, e.g.
// `RCurR_XV9ZA.cwA.BKA.iaJrC8xpy8qbOF5xnR2vtCX7CZj0LdjAPGfiCpg4Fv0` (older, with two short middle parts)
// or `abcDEF123ghi.jklMNO456...` (one dot). Whole-token boundaries keep activity ids (`...|0000003`),
// ISO timestamps, host names and version strings out; the character-class check below drops words.
const DL_SECRET = /(?<![A-Za-z0-9_.-])[A-Za-z0-9_-]{8,16}(?:\.[A-Za-z0-9_-]{2,4}){0,3}\.[A-Za-z0-9_-]{30,60}(?![A-Za-z0-9_.-])/g;
const BEARER = /\bBearer\s+([^\s"',;]+)/gi;
const URL_TOKEN = /(?:[?&#;]|^)(t|token|access_token)=([^&#\s"'<>\\]*)/gi;
// A JSON key/value inside a string (a frame's exact text) or inside text that is not JSON.
const EMBEDDED_KEY = /"([A-Za-z0-9_-]{1,40})"\s*:\s*"((?:[^"\\\n]|\\.){1,2000})"/g;

const SECRET_KEY_EXACT = new Set([
  'token',
  'secret',
  'password',
  'passwd',
  'pwd',
  'apikey',
  'subscriptionkey',
  'clientsecret',
  'connectionstring',
  'sastoken',
  'privatekey',
]);
const AUTH_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'ocp-apim-subscription-key',
]);

function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_]/g, '');
  return SECRET_KEY_EXACT.has(k) || k.endsWith('token') || k.endsWith('secret') || k.endsWith('password');
}

function isPlaceholderish(v: string): boolean {
  const s = v.trim();
  if (EMPTYISH.test(s) || isPlaceholder(s)) return true;
  // `Bearer DLVCR_TOKEN_3`, `BotConnector DLVCR_SECRET_1`
  const m = /^[A-Za-z][\w-]*\s+(\S+)$/.exec(s);
  return m !== null && isPlaceholder(m[1]);
}

/** First few characters and an ellipsis; short values show less, so a finding never leaks a secret. */
export function mask(secret: string): string {
  const n = Math.min(4, Math.floor(secret.length / 4));
  return secret.slice(0, n) + '…';
}

function hasMixedClasses(s: string): boolean {
  return /[a-z]/.test(s) && /[A-Z]/.test(s) && /[0-9]/.test(s);
}

class Collector {
  readonly findings: Finding[] = [];
  private readonly seen = new Set<string>();
  private readonly patterns: RegExp[];

  constructor(
    readonly file: string,
    patterns: RegExp[] = [],
  ) {
    this.patterns = patterns.map((p) => new RegExp(p.source, p.flags.includes('g') ? p.flags : p.flags + 'g'));
  }

  add(path: string, line: number | undefined, kind: FindingKind, secret: string): void {
    if (isPlaceholderish(secret)) return;
    const key = `${path}\u0000${line ?? ''}\u0000${secret}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const f: Finding = { file: this.file, path, kind, excerpt: mask(secret) };
    if (line !== undefined) f.line = line;
    this.findings.push(f);
  }

  /** A string value under `path` (the last element is its key). */
  value(path: JsonPath, value: string, line: number | undefined): void {
    const p = formatJsonPath(path);
    const key = path.length ? path[path.length - 1] : undefined;
    const parent = path.length > 1 ? path[path.length - 2] : undefined;
    const k = typeof key === 'string' ? key.toLowerCase() : '';
    if (k === 't' && typeof parent === 'string' && parent.toLowerCase() === 'query') this.add(p, line, 'url-token', value);
    const bearer = AUTH_HEADERS.has(k) ? /^bearer\s+(\S+)$/i.exec(value.trim()) : null;
    if (bearer) this.add(p, line, 'bearer', bearer[1]);
    const before = this.findings.length;
    this.text(value, () => ({ path: p, line }));
    if (this.findings.length > before || bearer) return;
    // Nothing with a known shape: the key alone says it is secret.
    if (AUTH_HEADERS.has(k)) {
      const m = /^[A-Za-z][\w-]*\s+(\S+)$/.exec(value.trim());
      this.add(p, line, 'authorization', m ? m[1] : value.trim());
    } else if (typeof key === 'string' && isSecretKey(key)) {
      this.add(p, line, 'json-key', value.trim());
    }
  }

  /** An object key: a secret used as a key (a map keyed by token, say) is still a secret. */
  key(path: JsonPath, key: string, line: number | undefined): void {
    const p = formatJsonPath(path);
    this.text(key, () => ({ path: p, line }));
  }

  /** Pattern detectors over free text; `where` gives the path and line of a match offset. */
  text(s: string, where: (offset: number) => { path: string; line: number | undefined }): void {
    if (s.length < 6) return;
    for (const m of s.matchAll(BEARER)) {
      const w = where(m.index);
      this.add(w.path, w.line, 'bearer', m[1]);
    }
    for (const m of s.matchAll(URL_TOKEN)) {
      let v = m[2];
      try {
        v = decodeURIComponent(v);
      } catch {
        /* keep it raw */
      }
      const w = where(m.index);
      this.add(w.path, w.line, 'url-token', v);
    }
    for (const m of s.matchAll(JWT)) {
      const w = where(m.index);
      this.add(w.path, w.line, 'jwt', m[0]);
    }
    for (const m of s.matchAll(DL_SECRET)) {
      if (m[0].startsWith('eyJ') || !hasMixedClasses(m[0])) continue;
      const w = where(m.index);
      this.add(w.path, w.line, 'directline-secret', m[0]);
    }
    if (s.includes('"')) {
      for (const m of s.matchAll(EMBEDDED_KEY)) {
        if (!isSecretKey(m[1]) && !AUTH_HEADERS.has(m[1].toLowerCase())) continue;
        let v = m[2];
        try {
          v = JSON.parse(`"${m[2]}"`) as string;
        } catch {
          /* keep it raw */
        }
        const w = where(m.index);
        const cred = /^bearer\s+(\S+)$/i.exec(v.trim());
        this.add(w.path, w.line, cred ? 'bearer' : 'json-key', cred ? cred[1] : v.trim());
      }
    }
    for (const re of this.patterns) {
      re.lastIndex = 0;
      for (const m of s.matchAll(re)) {
        if (m[0] === '') continue;
        const w = where(m.index);
        this.add(w.path, w.line, 'custom', m[0]);
      }
    }
  }
}

/** Line numbers for offsets, computed once per text. */
function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/**
 * Scans text: as JSON when it is JSON (paths like `events[3].request.headers.authorization`); whatever
 * follows the point where it stops being JSON (a truncated file) is scanned as plain text, path `(text)`.
 */
export function scanText(text: string, opts: ScanOptions = {}): Finding[] {
  const c = new Collector(opts.file ?? '<text>', opts.patterns);
  const lineOf = lineIndex(text);
  const looksJson = /^\s*[[{]/.test(text);
  let rest = 0;
  if (looksJson) {
    const r = walkJsonStrings(text, (v) => (v.key ? c.key(v.path, v.value, lineOf(v.offset)) : c.value(v.path, v.value, lineOf(v.offset))));
    rest = r.complete ? text.length : r.stoppedAt;
  }
  if (rest < text.length) {
    const tail = text.slice(rest);
    c.text(tail, (offset) => ({ path: '(text)', line: lineOf(rest + offset) }));
  }
  // In file order (stable: findings on one line keep their order).
  return c.findings.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

/** Scans a value already in memory (e.g. a cassette before it is written). */
export function scanValue(value: unknown, opts: ScanOptions = {}): Finding[] {
  const c = new Collector(opts.file ?? '<value>', opts.patterns);
  const walk = (v: unknown, path: JsonPath) => {
    if (typeof v === 'string') c.value(path, v, undefined);
    else if (Array.isArray(v)) {
      v.forEach((x, i) => {
        walk(x, [...path, i]);
      });
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        c.key([...path, k], k, undefined);
        walk(x, [...path, k]);
      }
    }
  };
  walk(value, []);
  return c.findings;
}

export async function scanCassetteFile(file: string, opts: Omit<ScanOptions, 'file'> = {}): Promise<Finding[]> {
  const text = await readFile(file, 'utf8');
  return scanText(text, { ...opts, file });
}

/** Scans several files (a pre-commit hook passes the staged ones); files that cannot be read are reported in `errors`. */
export async function scanFiles(
  files: string[],
  opts: Omit<ScanOptions, 'file'> = {},
): Promise<{ findings: Finding[]; errors: Array<{ file: string; message: string }> }> {
  const findings: Finding[] = [];
  const errors: Array<{ file: string; message: string }> = [];
  for (const file of files) {
    try {
      findings.push(...(await scanCassetteFile(file, opts)));
    } catch (err) {
      errors.push({ file, message: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
    }
  }
  return { findings, errors };
}

/** `file:line  kind  path  excerpt`, one finding a line. */
export function formatFindings(findings: Finding[]): string {
  return (
    findings.map((f) => `${f.file}${f.line !== undefined ? `:${f.line}` : ''}  ${f.kind}  ${f.path}  ${f.excerpt}`).join('\n') +
    (findings.length ? '\n' : '')
  );
}
