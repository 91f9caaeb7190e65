// The recorder's leg to the upstream: which certificates it trusts, whether it goes through an outbound
// (corporate) proxy, and the words a person gets when that leg fails.
//
// Trust (HTTP and WebSocket alike): Node's bundled roots + the system store (SSL_CERT_FILE or the usual
// bundle files of Linux distributions and macOS) + NODE_EXTRA_CA_CERTS + every --ca file, verified with the
// upstream's name as SNI and as the name checked (the Host header is the upstream's too, changeOrigin).
// --insecure turns verification off; the recorder then warns at every start.
//
// Outbound proxy: --proxy <url> when given (it wins over the environment, NO_PROXY included; --no-proxy /
// proxy: false ignores the environment), else HTTPS_PROXY / HTTP_PROXY / ALL_PROXY with NO_PROXY, read by
// proxy-from-env for the upstream's URL. The tunnelling itself is https-proxy-agent (CONNECT; for HTTPS
// requests and for every WebSocket, which needs a raw tunnel) and http-proxy-agent (absolute-form requests,
// for plain-http upstreams).
import { existsSync, readFileSync } from 'node:fs';
import http, { type ClientRequest } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import tls, { type SecureContext } from 'node:tls';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';
import { loadPem, splitCertificates } from '../net/pem.js';
import type { Upstream } from './upstream.js';

export interface OutboundOptions {
  /** Extra CA certificates to trust: PEM text or a PEM file path (or several). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Do not verify the upstream's (and an https proxy's) certificate. */
  insecure?: boolean;
  /** Outbound proxy URL (http:// or https://); false = none, whatever the environment says; undefined = from the environment. */
  proxy?: string | false;
}

export class OutboundError extends Error {}

/** Where the system's CA bundle usually is (Debian/Ubuntu/Alpine/Arch, RHEL/Fedora, SUSE, macOS/BSD). */
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

let systemCache: { file: string | null; certs: string[] } | undefined;

/** The system store's certificates (read once per process). */
function systemCertificates(): { file: string | null; certs: string[] } {
  if (systemCache) return systemCache;
  const candidates = [process.env.SSL_CERT_FILE, ...SYSTEM_BUNDLES].filter((f): f is string => Boolean(f));
  for (const file of candidates) {
    try {
      if (!existsSync(file)) continue;
      const certs = splitCertificates(readFileSync(file, 'utf8'));
      if (certs.length > 0) return (systemCache = { file, certs });
    } catch {
      // unreadable: try the next one
    }
  }
  return (systemCache = { file: null, certs: [] });
}

export interface Trust {
  /** One secure context for every upstream connection (built once: parsing a few hundred roots takes time). */
  secureContext: SecureContext;
  rejectUnauthorized: boolean;
  /** For the start-up log. */
  sources: string[];
}

export function buildTrust(opts: Pick<OutboundOptions, 'ca' | 'insecure'>): Trust {
  const sources = ['node'];
  const pems: string[] = [...tls.rootCertificates];
  const system = systemCertificates();
  if (system.file) {
    pems.push(...system.certs);
    sources.push(system.file);
  }
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  if (extra) {
    try {
      pems.push(...splitCertificates(readFileSync(extra, 'utf8')));
      sources.push(`NODE_EXTRA_CA_CERTS=${extra}`);
    } catch {
      // Node itself warns about an unreadable NODE_EXTRA_CA_CERTS at start-up.
    }
  }
  const cas = opts.ca === undefined ? [] : Array.isArray(opts.ca) ? opts.ca : [opts.ca];
  for (const ca of cas) {
    const certs = splitCertificates(loadPem(ca, '--ca'));
    if (certs.length === 0)
      throw new OutboundError(
        `--ca ${Buffer.isBuffer(ca) || ca.includes('-----BEGIN') ? '(PEM text)' : ca}: no "-----BEGIN CERTIFICATE-----" block in it`,
      );
    pems.push(...certs);
    sources.push(Buffer.isBuffer(ca) || ca.includes('-----BEGIN') ? '--ca (PEM text)' : `--ca ${ca}`);
  }
  // The same root often comes from several sources; the secure context needs it once.
  const unique = [...new Map(pems.map((p) => [p.replace(/\s+/g, ''), p])).values()];
  let secureContext: SecureContext;
  try {
    secureContext = tls.createSecureContext({ ca: unique });
  } catch (err) {
    throw new OutboundError(`cannot use the CA certificates (${sources.join(', ')}): ${(err as Error).message}`);
  }
  return { secureContext, rejectUnauthorized: !opts.insecure, sources };
}

type AgentConnectOpts = Parameters<HttpsProxyAgent<string>['connect']>[1];

/** A CONNECT tunnel whose TLS to the upstream uses our trust (https-proxy-agent takes TLS options per request). */
class TunnelAgent extends HttpsProxyAgent<string> {
  private readonly targetTls: tls.ConnectionOptions;

  constructor(proxy: URL, opts: http.AgentOptions & tls.ConnectionOptions, targetTls: tls.ConnectionOptions) {
    super(proxy, opts);
    this.targetTls = targetTls;
  }

  override connect(req: ClientRequest, opts: AgentConnectOpts): Promise<Socket> {
    return super.connect(req, { ...opts, ...this.targetTls } as AgentConnectOpts);
  }
}

export interface ProxyRefusal {
  statusCode: number;
  statusText: string;
}

export interface Outbound {
  /** Agent for the HTTP leg (http-proxy's `agent`). */
  httpAgent: http.Agent;
  /** Options for the upstream WebSocket (ws ClientOptions): TLS trust, and the tunnel agent behind a proxy. */
  wsOptions: { agent?: http.Agent; secureContext?: SecureContext; rejectUnauthorized?: boolean };
  /** The outbound proxy (credentials hidden), or null. */
  proxy: string | null;
  /** Where the proxy setting came from ('--proxy', 'environment'), or why there is none. */
  proxySource: string;
  trust: Trust | null;
  insecure: boolean;
  /** The proxy's answer when it refused the tunnel of this upstream request (the response is then the proxy's, not the upstream's). */
  proxyRefusal(req: ClientRequest | undefined): ProxyRefusal | undefined;
  /** A Direct Line-shaped 502 for a failed upstream connection (TLS problems named, with how to trust the CA). */
  describeError(err: NodeJS.ErrnoException, what: 'request' | 'stream'): { code: string; message: string; tls: boolean };
  close(): void;
}

/** Resolves which proxy (if any) the upstream's traffic goes through. */
export function resolveProxy(upstream: Upstream, proxy: string | false | undefined): { url: URL | null; source: string } {
  if (proxy === false) return { url: null, source: 'disabled (--no-proxy)' };
  let raw = proxy;
  let source = '--proxy';
  if (raw === undefined || raw === '') {
    raw = getProxyForUrl(upstream.origin);
    source = 'environment (HTTPS_PROXY/HTTP_PROXY, NO_PROXY)';
    if (!raw)
      return { url: null, source: process.env.NO_PROXY || process.env.no_proxy ? 'none (NO_PROXY or no *_PROXY variable)' : 'none' };
  }
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new OutboundError(`outbound proxy "${hideCredentials(raw)}" (${source}) is not a URL (expected e.g. http://proxy.example:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OutboundError(
      `outbound proxy ${hideCredentials(raw)} (${source}): only http:// and https:// proxies are supported, not ${url.protocol}`,
    );
  }
  return { url, source };
}

export function hideCredentials(raw: string | URL): string {
  try {
    const u = new URL(String(raw));
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    return u.href.replace(/\/$/, '');
  } catch {
    return String(raw).replace(/\/\/[^@/]*@/, '//***@');
  }
}

export function createOutbound(upstream: Upstream, opts: OutboundOptions): Outbound {
  const { url: proxyUrl, source } = resolveProxy(upstream, opts.proxy);
  const insecure = Boolean(opts.insecure);
  const needsTls = upstream.secure || proxyUrl?.protocol === 'https:';
  const trust = needsTls || opts.ca !== undefined ? buildTrust(opts) : null;
  const tlsOpts: tls.ConnectionOptions = trust ? { secureContext: trust.secureContext, rejectUnauthorized: trust.rejectUnauthorized } : {};
  const proxyTls: tls.ConnectionOptions = proxyUrl?.protocol === 'https:' ? tlsOpts : {};
  const pool = { keepAlive: true, maxSockets: 256 };

  let httpAgent: http.Agent;
  let wsAgent: http.Agent | undefined;
  if (!proxyUrl) {
    // Keep-alive to the upstream: one TLS handshake per connection, not per request.
    httpAgent = upstream.secure ? new https.Agent({ ...pool, ...tlsOpts }) : new http.Agent(pool);
  } else {
    httpAgent = upstream.secure
      ? new TunnelAgent(proxyUrl, { ...pool, ...proxyTls }, tlsOpts)
      : new HttpProxyAgent(proxyUrl, { ...pool, ...proxyTls });
    // A WebSocket needs a raw tunnel whatever the scheme; upgraded sockets leave the pool, so no keep-alive.
    wsAgent = new TunnelAgent(proxyUrl, { ...proxyTls }, upstream.secure ? tlsOpts : {});
  }

  const refusals = new WeakMap<ClientRequest, ProxyRefusal>();
  const onProxyConnect = (connect: { statusCode?: number; statusText?: string }, req: ClientRequest) => {
    if (typeof connect.statusCode === 'number' && connect.statusCode !== 200) {
      refusals.set(req, { statusCode: connect.statusCode, statusText: connect.statusText ?? '' });
    }
  };
  for (const agent of [httpAgent, wsAgent]) if (agent instanceof HttpsProxyAgent) agent.on('proxyConnect', onProxyConnect);

  const proxyShown = proxyUrl ? hideCredentials(proxyUrl) : null;
  const via = proxyShown ? ` via the outbound proxy ${proxyShown}` : '';

  return {
    httpAgent,
    wsOptions: { ...(wsAgent ? { agent: wsAgent } : {}), ...(upstream.secure && !wsAgent ? tlsOpts : {}) },
    proxy: proxyShown,
    proxySource: source,
    trust,
    insecure,
    proxyRefusal: (req) => (req ? refusals.get(req) : undefined),
    describeError(err, what) {
      const target = what === 'stream' ? `the upstream stream (${upstream.wsOrigin})` : `the upstream ${upstream.origin}`;
      const tlsProblem = describeTlsProblem(err);
      if (tlsProblem) {
        const message =
          `directline-vcr could not open a trusted TLS connection to ${target}${via}: ${tlsProblem.reason}. ${tlsProblem.advice} ` +
          'To trust the CA that issued the certificate (a private CA, or the CA of a TLS-inspecting corporate proxy), ' +
          'start the recorder with --ca <file.pem> ' +
          `or set NODE_EXTRA_CA_CERTS=<file.pem>; --insecure turns verification off (for testing only).`;
        return { code: 'UpstreamTlsError', message: message.replace(/\s+/g, ' '), tls: true };
      }
      const why = err.code ? `${err.code}${err.message && !err.message.includes(err.code) ? ` (${err.message})` : ''}` : err.message;
      // Behind a proxy every connection goes to the proxy: ECONNREFUSED/ENOTFOUND are about it.
      const message = proxyShown
        ? `directline-vcr could not reach ${target} through the outbound proxy ${proxyShown} (${source}): ${why}`
        : `directline-vcr could not reach ${target}: ${why}`;
      return { code: 'UpstreamUnreachable', message, tls: false };
    },
    close() {
      httpAgent.destroy();
      wsAgent?.destroy();
    },
  };
}

// OpenSSL's verification results as Node reports them in err.code (plus Node's own host name check).
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'CERT_CHAIN_TOO_LONG',
  'PATH_LENGTH_EXCEEDED',
  'CERT_SIGNATURE_FAILURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'INVALID_PURPOSE',
]);
const VALIDITY = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'CERT_REVOKED',
]);
const NAME = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_FORMAT']);

/** What went wrong with TLS, in words, or null when the error is not a TLS one. */
export function describeTlsProblem(err: NodeJS.ErrnoException): { reason: string; advice: string } | null {
  const code = err.code ?? '';
  const reason = `${err.message || code}${code && !(err.message ?? '').includes(code) ? ` (${code})` : ''}`;
  if (UNTRUSTED.has(code)) return { reason, advice: 'The certificate was issued by a CA this machine does not trust.' };
  if (VALIDITY.has(code))
    return {
      reason,
      advice: "The certificate is outside its validity period (check the upstream's certificate and this machine's clock).",
    };
  if (NAME.has(code)) return { reason, advice: "The certificate is not for the upstream's host name (check --upstream)." };
  if (/^ERR_(SSL|TLS)_/.test(code) || /\b(SSL|TLS)\b|handshake/i.test(err.message ?? '')) {
    return { reason, advice: 'The TLS handshake failed (is the upstream really https://, and does it speak TLS 1.2 or later?).' };
  }
  return null;
}
