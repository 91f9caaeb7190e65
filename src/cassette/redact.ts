// Keeps secrets out of cassettes and logs. Every distinct secret value becomes a stable placeholder
// (the same value always gets the same one), so a cassette still shows which call used which token.
import type { Body, FrameData } from './schema.js';

export type SecretKind = 'secret' | 'token' | 'streamToken' | 'custom';

/** A user-supplied rule (issue: redaction beyond the defaults). */
export interface RedactionRules {
  headers?: string[];            // header names whose values are replaced
  jsonKeys?: string[];           // JSON property names whose string values are replaced
  patterns?: RegExp[];           // any match in a string is replaced
}

const PREFIX = 'DLVCR_';
const PLACEHOLDER = /^DLVCR_(SECRET|TOKEN|STREAMTOKEN|CUSTOM)_\d+$/;
// JWT-shaped values (conversation and stream tokens are RS256 JWTs): three base64url parts.
const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}/g;
const TOKEN_KEYS = new Set(['token', 'access_token', 'accesstoken']);
const kindLabel: Record<SecretKind, string> = { secret: 'SECRET', token: 'TOKEN', streamToken: 'STREAMTOKEN', custom: 'CUSTOM' };

export function isPlaceholder(value: string): boolean {
  return PLACEHOLDER.test(value);
}

export class Redactor {
  private readonly byValue = new Map<string, string>();
  private readonly counters: Record<SecretKind, number> = { secret: 0, token: 0, streamToken: 0, custom: 0 };
  /** placeholder -> kind, written to the cassette header so readers know what each stands for. */
  readonly placeholders: Record<string, SecretKind> = {};
  private readonly headerNames: Set<string>;
  private readonly jsonKeys: Set<string>;
  private readonly patterns: RegExp[];

  constructor(rules: RedactionRules = {}) {
    this.headerNames = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', ...(rules.headers ?? []).map((h) => h.toLowerCase())]);
    this.jsonKeys = new Set([...(rules.jsonKeys ?? []).map((k) => k.toLowerCase())]);
    this.patterns = (rules.patterns ?? []).map((p) => new RegExp(p.source, p.flags.includes('g') ? p.flags : p.flags + 'g'));
  }

  /** The placeholder for a secret value, minted on first sight. */
  value(secret: string, kind: SecretKind): string {
    if (secret === '' || isPlaceholder(secret)) return secret;
    let placeholder = this.byValue.get(secret);
    if (!placeholder) {
      placeholder = `${PREFIX}${kindLabel[kind]}_${++this.counters[kind]}`;
      this.byValue.set(secret, placeholder);
      this.placeholders[placeholder] = kind;
    }
    return placeholder;
  }

  /** Replaces the secret parts of a string: known values, JWT-shaped tokens and custom patterns. */
  text(s: string): string {
    if (s.length < 8) return this.byValue.get(s) ?? s;
    const known = this.byValue.get(s);
    if (known) return known;
    let out = s.replace(JWT, (m) => this.value(m, 'token'));
    for (const p of this.patterns) out = out.replace(p, (m) => this.value(m, 'custom'));
    // A value already known to be secret (e.g. the site secret seen in an Authorization header) is
    // replaced wherever it appears inside a longer string too: message text, close reasons, error texts.
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

  /** Deep copy of a JSON value with secrets replaced. */
  json(v: unknown, key = ''): unknown {
    if (typeof v === 'string') {
      const k = key.toLowerCase();
      if (TOKEN_KEYS.has(k)) return this.value(v, 'token');
      if (this.jsonKeys.has(k)) return this.value(v, 'custom');
      if (k === 'streamurl' || v.includes('t=')) return this.url(v);
      return this.text(v);
    }
    if (Array.isArray(v)) return v.map((x) => this.json(x));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.json(x, k);
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

  frame(d: FrameData): FrameData {
    if ('json' in d) {
      const json = this.json(d.json);
      if (d.text === undefined) return { json };
      return { json, text: this.text(d.text) };
    }
    if ('text' in d) return { text: this.text(d.text) };
    return d;
  }
}

const JWT_ONE = /^eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}$/;
