// Secrets and tokens (reference §1.1, §2.1, §3). Tokens look like the service's RS256 JWTs so that clients
// which decode them (Web Chat reads a `user` claim) behave as with the real service; the signature is
// random bytes because nobody verifies it but us, and we verify by lookup.
import { randomBytes, randomUUID } from 'node:crypto';
import { HttpError } from './errors.js';

export type TokenKind = 'conversation' | 'stream';

export interface TokenClaims {
  bot: string;
  site: string;
  conv: string;
  user?: string;
  nbf: number;
  exp: number;
  jti: string;
  iss: string;
  aud: string;
}

export interface TokenRecord {
  kind: TokenKind;
  claims: TokenClaims;
  /** Millisecond expiry, finer than the `exp` claim so tests can use sub-second lifetimes. */
  expiresAtMs: number;
  /** Stream tokens only: the stream replays stored activities with a sequence above this (see stream.ts). */
  replayAfter?: number;
}

export type Credential = { kind: 'secret' } | { kind: 'token'; token: string; record: TokenRecord };

export const BOT_ID = 'emulator-bot';
const SITE_ID = 'emulator-site';
const ISSUER = 'https://directline.botframework.com/';

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export class TokenStore {
  private readonly tokens = new Map<string, TokenRecord>();
  /** Every token and stream token in issue order (tests grep cassettes for them). */
  readonly issued: string[] = [];

  constructor(
    readonly secret: string,
    private readonly tokenTtlMs: number,
    private readonly streamTokenTtlMs: number,
  ) {}

  /** `expires_in` as the service reports it: seconds (3600 with the default lifetime, §3). */
  get expiresIn(): number {
    return Math.round(this.tokenTtlMs / 1000);
  }

  issueConversationToken(conv: string, user?: string): string {
    return this.issue('conversation', conv, user, this.tokenTtlMs);
  }

  /** The streamUrl's `t=`: a separate short-lived token (60 s on the real service, §2.1). */
  issueStreamToken(conv: string, user: string | undefined, replayAfter: number): string {
    return this.issue('stream', conv, user, this.streamTokenTtlMs, replayAfter);
  }

  private issue(kind: TokenKind, conv: string, user: string | undefined, ttlMs: number, replayAfter?: number): string {
    const nowMs = Date.now();
    const claims: TokenClaims = {
      bot: BOT_ID,
      site: SITE_ID,
      conv,
      ...(user !== undefined ? { user } : {}),
      nbf: Math.floor(nowMs / 1000),
      exp: Math.floor((nowMs + ttlMs) / 1000),
      // A fresh jti makes every issued token unique, even two issued within the same second.
      jti: randomUUID(),
      iss: ISSUER,
      aud: ISSUER,
    };
    const header = { alg: 'RS256', kid: 'emulator-key', x5t: 'emulator-key', typ: 'JWT' };
    const token = `${b64url(header)}.${b64url(claims)}.${randomBytes(256).toString('base64url')}`;
    this.tokens.set(token, { kind, claims, expiresAtMs: nowMs + ttlMs, replayAfter });
    this.issued.push(token);
    return token;
  }

  /**
   * Resolves `Authorization: Bearer <secret|token>`. Missing → 401, unknown → 403 BadArgument, expired →
   * 403 TokenExpired (§1.5). Stream tokens are only good for the WebSocket upgrade.
   */
  authenticate(authorization: string | undefined): Credential {
    const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) throw new HttpError(401, 'BadArgument', 'Missing token or secret');
    const value = match[1]!;
    if (value === this.secret) return { kind: 'secret' };
    const record = this.tokens.get(value);
    if (record?.kind !== 'conversation') {
      throw new HttpError(403, 'BadArgument', 'Security token not valid for this conversation');
    }
    if (Date.now() >= record.expiresAtMs) throw new HttpError(403, 'TokenExpired', 'Token expired');
    return { kind: 'token', token: value, record };
  }

  /** A token may only touch its own conversation; a secret may touch any (§1.1). */
  requireConversation(cred: Credential, conversationId: string): void {
    if (cred.kind === 'token' && cred.record.claims.conv !== conversationId) {
      throw new HttpError(403, 'BadArgument', 'Token not valid for this conversation');
    }
  }

  /** Validates a stream `t=`; late connects fail the upgrade with 403 (§2.1, §6.3). */
  verifyStreamToken(t: string | null): TokenRecord {
    const record = t ? this.tokens.get(t) : undefined;
    if (record?.kind !== 'stream') throw new HttpError(403, 'BadArgument', 'Security token not valid');
    if (Date.now() >= record.expiresAtMs) throw new HttpError(403, 'TokenExpired', 'Token expired');
    return record;
  }

  /** Fault injection: every stream token issued so far is now past its window. */
  expireStreamTokens(): void {
    const past = Date.now() - 1;
    for (const record of this.tokens.values()) {
      if (record.kind === 'stream') record.expiresAtMs = Math.min(record.expiresAtMs, past);
    }
  }
}
