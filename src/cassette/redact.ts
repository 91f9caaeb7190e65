// Keeps secrets out of cassettes and logs. Every distinct secret value becomes a stable placeholder
// (the same value always gets the same one), so a cassette still shows which call used which token.
import type { Body, FrameData } from './schema.js';
import { compactJsonOf, frameValue } from './body.js';
import { isPlaceholder, placeholderName, type PlaceholderKind } from './placeholders.js';

export type SecretKind = PlaceholderKind;

/** A user-supplied rule (issue: redaction beyond the defaults). */
export interface RedactionRules {
  headers?: string[]; // header names whose values are replaced
  jsonKeys?: string[]; // JSON property names whose string values are replaced
  jsonPaths?: string[]; // JSON paths (syntax: parseJsonPath) whose strings are replaced, at any depth below
  patterns?: RegExp[]; // any match in a string is replaced
}

// ---------- JSON paths ----------
// A small subset of JSONPath, matched against every JSON body and stream frame, each its own root:
//   $                    the root (optional: `a.b` is `$.a.b`)
//   .name  or  name      a property (case-sensitive); ["name"] or ['name'] for any other characters
//   [3]                  an array element
//   *  .*  [*]           any one property or element
//   ..name  ..[*]        the step after `..` at any depth below (`$..password`: every password property)
// Examples: `activities[*].channelData.secretThing` (activities sent to the client, stream or poll),
// `$.value.password` (a posted activity), `..channelData.apiKey` (both). No filters, slices or unions.

/** One step of a concrete path: a property name or an array index. */
export type JsonStep = string | number;

type Selector = { kind: 'name'; name: string } | { kind: 'index'; index: number } | { kind: 'any' };
interface Segment {
  selector: Selector;
  deep: boolean;
}

export class JsonPathError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`JSON path ${JSON.stringify(path)}: ${problem}`);
    this.name = 'JsonPathError';
  }
}

/** A compiled JSON path: `matches` says whether a concrete path (from the root) is selected. */
export class JsonPath {
  private constructor(
    readonly source: string,
    private readonly segments: Segment[],
  ) {}

  /** Parses the syntax above; throws JsonPathError saying where it stops making sense. */
  static parse(source: string): JsonPath {
    const s = source;
    const fail = (at: number, problem: string): never => {
      throw new JsonPathError(source, `${problem} at character ${at + 1}`);
    };
    const segments: Segment[] = [];
    let i = 0;
    if (s[0] === '$' && (s.length === 1 || s[1] === '.' || s[1] === '[')) i = 1;
    const NAME = /[^.[\]\s'"*]+/y;
    let first = true;
    while (i < s.length) {
      let deep = false;
      let dotted = false;
      if (s.startsWith('..', i)) {
        deep = true;
        i += 2;
      } else if (s[i] === '.') {
        dotted = true;
        i += 1;
      } else if (s[i] !== '[' && !(first && i === 0)) {
        fail(i, `expected ".", ".." or "[" but found ${JSON.stringify(s[i])}`);
      }
      first = false;
      if (i >= s.length) fail(i, 'the path ends after a dot');
      const c = s[i];
      if (c === '[') {
        if (dotted) fail(i - 1, 'a "." before "["');
        const q = s[i + 1];
        let selector: Selector;
        let close: number;
        if (q === '"' || q === "'") {
          // A quoted name: a backslash escapes the next character (the quote itself, or a backslash).
          let name = '';
          let j = i + 2;
          for (; j < s.length && s[j] !== q; j++) name += s[j] === '\\' ? (s[++j] ?? '') : s[j];
          if (j >= s.length) fail(i, `unclosed ${q}`);
          close = j + 1;
          if (s[close] !== ']') fail(close, `expected "]" after the quoted name`);
          selector = { kind: 'name', name };
        } else {
          close = s.indexOf(']', i);
          if (close < 0) fail(i, 'unclosed "["');
          const inner = s.slice(i + 1, close).trim();
          if (inner === '*') selector = { kind: 'any' };
          else if (/^\d+$/.test(inner)) selector = { kind: 'index', index: Number(inner) };
          else selector = fail(i, `expected [*], [number] or ["name"] but found [${inner}]`);
        }
        segments.push({ selector, deep });
        i = close + 1;
      } else if (c === '*') {
        segments.push({ selector: { kind: 'any' }, deep });
        i += 1;
      } else {
        NAME.lastIndex = i;
        const m = NAME.exec(s);
        if (!m) fail(i, `expected a property name but found ${JSON.stringify(c)}`);
        segments.push({ selector: { kind: 'name', name: m![0] }, deep });
        i += m![0].length;
      }
    }
    if (segments.length === 0) throw new JsonPathError(source, 'selects the whole body; name at least one property or element');
    return new JsonPath(source, segments);
  }

  /** True when `path` (property names and array indexes from the root) is exactly what this selects. */
  matches(path: readonly JsonStep[]): boolean {
    return this.matchFrom(0, path, 0);
  }

  private matchFrom(si: number, path: readonly JsonStep[], pi: number): boolean {
    if (si === this.segments.length) return pi === path.length;
    const seg = this.segments[si];
    if (!seg.deep) return pi < path.length && stepMatches(seg.selector, path[pi]) && this.matchFrom(si + 1, path, pi + 1);
    for (let k = pi; k < path.length; k++) {
      if (stepMatches(seg.selector, path[k]) && this.matchFrom(si + 1, path, k + 1)) return true;
    }
    return false;
  }

  toString(): string {
    return this.source;
  }
}

function stepMatches(sel: Selector, step: JsonStep): boolean {
  if (sel.kind === 'any') return true;
  if (sel.kind === 'index') return step === sel.index;
  return step === sel.name;
}

/** Parses a JSON path (see the syntax above); throws JsonPathError. */
export function parseJsonPath(source: string): JsonPath {
  return JsonPath.parse(source);
}

// JWT-shaped values (conversation and stream tokens are RS256 JWTs): three base64url parts.
const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}/g;
const TOKEN_KEYS = new Set(['token', 'access_token', 'accesstoken']);
// Key names walk() treats specially, in any case (the u flag folds the Kelvin sign K as toLowerCase() does).
const SPECIAL_KEYS = /token|streamurl/iu;
export { isPlaceholder };

export class Redactor {
  private readonly byValue = new Map<string, string>();
  /** The length of the shortest known secret of at least 8 characters: a shorter string cannot hold one. */
  private shortest = Infinity;
  private readonly counters: Record<SecretKind, number> = { secret: 0, token: 0, streamToken: 0, custom: 0 };
  /** placeholder -> kind, written to the cassette header so readers know what each stands for. */
  readonly placeholders: Record<string, SecretKind> = {};
  private readonly headerNames: Set<string>;
  private readonly jsonKeys: Set<string>;
  private readonly jsonPaths: JsonPath[];
  private readonly patterns: RegExp[];
  /** Secrets replaced by a custom JSON rule in the body being redacted (for the frame's exact text). */
  private replacedInBody: Array<[string, string]> = [];
  /** No custom JSON rules or patterns: whether a JSON text needs redacting can be told from the text (leavesAlone). */
  private readonly textDecides: boolean;
  /**
   * What leavesAlone looks for of the known secrets: those of 8 characters or more that lack "eyJ" (the text is
   * searched for that anyway), and the shorter ones as whole JSON strings (text() replaces only those).
   */
  private readonly secretNeedles: string[] = [];

  /** Throws JsonPathError for a JSON path that does not parse. */
  constructor(rules: RedactionRules = {}) {
    this.headerNames = new Set([
      'authorization',
      'proxy-authorization',
      'cookie',
      'set-cookie',
      ...(rules.headers ?? []).map((h) => h.toLowerCase()),
    ]);
    this.jsonKeys = new Set([...(rules.jsonKeys ?? []).map((k) => k.toLowerCase())]);
    this.jsonPaths = (rules.jsonPaths ?? []).map((p) => JsonPath.parse(p));
    this.patterns = (rules.patterns ?? []).map((p) => new RegExp(p.source, p.flags.includes('g') ? p.flags : p.flags + 'g'));
    this.textDecides = this.jsonKeys.size === 0 && this.jsonPaths.length === 0 && this.patterns.length === 0;
  }

  /** How many distinct secrets have a placeholder (cheap change detection for the cassette header). */
  get size(): number {
    return this.byValue.size;
  }

  /** The placeholder for a secret value, minted on first sight. */
  value(secret: string, kind: SecretKind): string {
    if (secret === '' || isPlaceholder(secret)) return secret;
    let placeholder = this.byValue.get(secret);
    if (!placeholder) {
      placeholder = placeholderName(kind, ++this.counters[kind]);
      this.byValue.set(secret, placeholder);
      this.placeholders[placeholder] = kind;
      if (secret.length >= 8 && secret.length < this.shortest) this.shortest = secret.length;
      if (secret.length < 8) this.secretNeedles.push(JSON.stringify(secret));
      else if (!secret.includes('eyJ')) this.secretNeedles.push(secret);
    }
    return placeholder;
  }

  /** Replaces the secret parts of a string: known values, JWT-shaped tokens and custom patterns. */
  text(s: string): string {
    if (s.length < 8) return this.byValue.get(s) ?? s;
    const known = this.byValue.get(s);
    if (known) return known;
    // Fast path: no JWT without its "eyJ" start.
    let out = s.includes('eyJ') ? s.replace(JWT, (m) => this.value(m, 'token')) : s;
    for (const p of this.patterns) out = out.replace(p, (m) => this.value(m, 'custom'));
    // A value already known to be secret (e.g. the site secret seen in an Authorization header) is
    // replaced wherever it appears inside a longer string too: message text, close reasons, error texts.
    // Fast path: too short to hold any known secret (ids, timestamps, types, short messages).
    if (out.length < this.shortest) return out;
    for (const [secret, placeholder] of this.byValue) {
      if (secret.length >= 8 && out.includes(secret)) out = out.split(secret).join(placeholder);
    }
    return out;
  }

  /** An Authorization-style header value: `Bearer X` keeps its scheme. */
  private headerValue(name: string, v: string): string {
    if (name === 'authorization' || name === 'proxy-authorization') {
      const m = /^(\w+)\s+(.+)$/.exec(v);
      if (m) {
        const cred = m[2].trim();
        const kind: SecretKind = this.byValue.has(cred) ? 'token' : JWT_ONE.test(cred) ? 'token' : 'secret';
        return `${m[1]} ${this.value(cred, kind)}`;
      }
      return this.value(v, 'secret');
    }
    return this.value(v, 'custom');
  }

  headers(h: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(h)) {
      out[k] = this.headerNames.has(k) ? this.headerValue(k, v) : this.text(v);
    }
    return out;
  }

  query(q: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(q)) {
      out[k] = k === 't' ? this.value(v, 'streamToken') : k.toLowerCase() === 'token' ? this.value(v, 'token') : this.text(v);
    }
    return out;
  }

  /** A URL (such as a streamUrl): t= and token= parameters, and anything JWT-shaped. */
  url(u: string): string {
    const q = u.indexOf('?');
    if (q < 0) return this.text(u);
    const params = new URLSearchParams(u.slice(q + 1));
    const parts: string[] = [];
    for (const [k, v] of params) {
      const red = k === 't' ? this.value(v, 'streamToken') : k.toLowerCase() === 'token' ? this.value(v, 'token') : this.text(v);
      parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(red)}`);
    }
    return `${this.text(u.slice(0, q))}?${parts.join('&')}`;
  }

  /**
   * Deep copy of a JSON value (a whole body or frame: JSON paths start at it) with secrets replaced. The
   * values the custom JSON rules select are learnt first, so the same secret earlier in the value (a
   * message text before its channelData) is replaced too.
   */
  json(v: unknown): unknown {
    this.replacedInBody = [];
    if (this.jsonKeys.size > 0 || this.jsonPaths.length > 0) this.walk(v, [], '', false, true);
    return this.walk(v, [], '', false, false);
  }

  /**
   * `path` is the way from the root (one array, pushed and popped); `selected`: a JSON path selected an
   * ancestor, so every string below is custom. `learnOnly` registers the custom values and builds nothing.
   */
  private walk(v: unknown, path: JsonStep[], key: string, selected: boolean, learnOnly: boolean): unknown {
    const hit = selected || (this.jsonPaths.length > 0 && path.length > 0 && this.jsonPaths.some((p) => p.matches(path)));
    if (typeof v === 'string') {
      const k = key.toLowerCase();
      if (TOKEN_KEYS.has(k)) return learnOnly ? v : this.value(v, 'token');
      if (hit || this.jsonKeys.has(k)) {
        const placeholder = this.value(v, 'custom');
        if (!learnOnly && placeholder !== v) this.replacedInBody.push([v, placeholder]);
        return placeholder;
      }
      if (learnOnly) return v;
      if (k === 'streamurl' || v.includes('t=')) return this.url(v);
      return this.text(v);
    }
    if (Array.isArray(v)) {
      return v.map((x, i) => {
        path.push(i);
        const r = this.walk(x, path, '', hit, learnOnly);
        path.pop();
        return r;
      });
    }
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        path.push(k);
        out[k] = this.walk(x, path, k, hit, learnOnly);
        path.pop();
      }
      return out;
    }
    return v;
  }

  body(b: Body): Body {
    if (b === null) return null;
    if ('json' in b) return { json: this.json(b.json) };
    if ('text' in b) return { text: this.text(b.text) };
    return b;
  }

  /**
   * True when redacting the JSON value whose text is `text` would change nothing, told from the text alone (a
   * few native searches instead of a walk and a deep copy): no custom rules, no escapes (so every string's
   * value is its text), and none of what walk() and text() act on: "eyJ" (a JWT), "t=" (a URL with a token),
   * a token or streamUrl key, a known secret. False means only "look closer".
   */
  leavesAlone(text: string): boolean {
    if (!this.textDecides || text.includes('\\') || text.includes('eyJ') || text.includes('t=') || SPECIAL_KEYS.test(text)) return false;
    for (const needle of this.secretNeedles) if (text.includes(needle)) return false;
    return true;
  }

  frame(d: FrameData): FrameData {
    const compact = compactJsonOf(d);
    if (compact !== undefined && this.leavesAlone(compact) && (!('text' in d) || this.leavesAlone(d.text!))) return d;
    if ('json' in d) {
      const json = this.json(frameValue(d));
      if (d.text === undefined) return { json };
      // The exact text holds the same values: a short one that text() would not look for inside a longer
      // string is replaced where it is a whole JSON string.
      let text = this.text(d.text);
      for (const [secret, placeholder] of this.replacedInBody) text = text.split(JSON.stringify(secret)).join(JSON.stringify(placeholder));
      return { json, text };
    }
    if ('text' in d) return { text: this.text(d.text) };
    return d;
  }
}

const JWT_ONE = /^eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}$/;
