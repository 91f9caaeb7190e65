// Shared plumbing of the TLS tests: the TLS + compressing emulator, Node clients that trust the test CA,
// a log collector, temp folders and small HTTP/WS probes.
import https from 'node:https';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import WebSocket from 'ws';
import { createLogger, type Logger } from '../../src/log.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../emulator/index.js';
import type { Leaf, TestPki } from './pki.js';

export { makeTestPki, type TestPki } from './pki.js';

// These tests talk to servers on this machine: an outbound proxy from the developer's environment must not
// catch their upstream traffic (proxy.test.ts sets these variables itself where it means to).
for (const k of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy']) delete process.env[k];

/** The emulator over https:// and wss:// on host localhost, with the given leaf (default: the CA-signed one). */
export function startTlsEmulator(pki: TestPki, opts: EmulatorOptions & { leaf?: Leaf } = {}): Promise<Emulator> {
  const { leaf = pki.localhost, ...rest } = opts;
  return startEmulator({ host: 'localhost', tls: { cert: leaf.chain, key: leaf.key }, ...rest });
}

const require = createRequire(import.meta.url);

/** URLs every WebSocket made by installNodeTrust's class opened. */
export const openedWebSockets: string[] = [];

/**
 * botframework-directlinejs in Node trusting the test CA on an https:// proxy or replay listener:
 * xhr2 takes a default https agent (XMLHttpRequest.nodejsSet({ httpsAgent })), and the global WebSocket
 * becomes a ws subclass that passes `ca` (DirectLineJS calls `new WebSocket(streamUrl)` with no options).
 * NODE_EXTRA_CA_CERTS=ca.pem works too, but only when set before the process starts.
 */
export function installNodeTrust(ca: string): void {
  const XHR = require('xhr2') as { nodejsSet(o: { httpsAgent: https.Agent }): void };
  XHR.nodejsSet({ httpsAgent: new https.Agent({ ca, keepAlive: true }) });
  (globalThis as Record<string, unknown>).XMLHttpRequest = XHR;
  class TrustingWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { ca });
      openedWebSockets.push(address);
    }
  }
  (globalThis as Record<string, unknown>).WebSocket = TrustingWebSocket;
}

export function collectingLogger(level = 'info'): { logger: Logger; lines: () => any[]; text: () => string } {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      raw.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const logger = createLogger({ level, destination, pretty: false });
  return { logger, lines: () => raw.map((l) => JSON.parse(l)), text: () => raw.join('\n') };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json: any;
}

/** An HTTP(S) request that shows the bytes as sent (fetch would decode Content-Encoding itself). */
export function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; ca?: string } = {},
): Promise<RawResponse> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : (require('node:http') as typeof import('node:http'));
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      { method: opts.method ?? 'GET', headers: opts.headers, agent: false, ...(opts.ca ? { ca: opts.ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const text = body.toString('utf8');
          let json: any;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Tries a WebSocket upgrade; resolves with the refusal (status, body) or 101 and the open socket's extensions. */
export function tryUpgrade(
  url: string,
  opts: WebSocket.ClientOptions = {},
): Promise<{ status: number; body: any; extensions?: string; ws?: WebSocket; firstMessage?: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    // Listened for from the start: a frame in the same TCP chunk as the 101 is emitted before code awaiting
    // 'open' can attach a listener.
    const firstMessage = new Promise<string>((resolveMessage) => ws.once('message', (d) => resolveMessage(String(d))));
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let body: any = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    ws.on('open', () => resolve({ status: 101, body: null, extensions: ws.extensions, ws, firstMessage }));
    ws.on('error', reject);
  });
}
