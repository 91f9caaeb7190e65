// The front door both servers (record and replay) share: one HTTP(S) server, one policy for malformed
// requests, listening and the URL it prints, and an ordered list of request and upgrade handlers. A handler
// returns true when it answered; the next one is asked otherwise, and an upgrade nobody takes gets a 404.
// Features mount their handlers here (the demo page today; e.g. an inspector under /_vcr/ or CONNECT
// handling later) without the servers knowing about each other.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { sendError } from '../protocol/errors.js';
import { writeUpgradeError } from './websocket-handshake.js';

/** Answers a request and returns true, or returns false to let the next handler have it. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => boolean;
/** Takes an upgrade and returns true, or returns false to let the next handler have it. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

export const DEFAULT_HOST = '127.0.0.1';
/** How long an idle keep-alive connection stays open (longer than clients' own pools usually keep one). */
const KEEP_ALIVE_TIMEOUT_MS = 30_000;

export interface FrontDoorOptions {
  /** Listen with TLS (https:// and wss://): PEM texts already loaded (see pem.ts). */
  tls?: { cert: string; key: string } | null;
  logger: Logger;
}

export interface Listening {
  port: number;
  /** The bound host as given ('0.0.0.0', '::', '127.0.0.1', …). */
  host: string;
  /** Whether the server listens on every interface. */
  wildcard: boolean;
  /** The URL to print and hand out: http(s)://host:port, with 127.0.0.1 for a wildcard host. */
  url: string;
}

export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '' || host === '[::]';
}

/** A host as it appears in a URL: IPv6 literals in brackets. */
export function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The URL a server listening on host:port is reached at from this machine (127.0.0.1 for every interface). */
export function listeningUrl(secure: boolean, host: string, port: number): string {
  return `${secure ? 'https' : 'http'}://${isWildcardHost(host) ? '127.0.0.1' : hostForUrl(host)}:${port}`;
}

export class FrontDoor {
  readonly server: http.Server | https.Server;
  readonly secure: boolean;
  private readonly requestHandlers: RequestHandler[] = [];
  private readonly upgradeHandlers: UpgradeHandler[] = [];
  private bound: Listening | null = null;

  constructor(private readonly opts: FrontDoorOptions) {
    this.secure = Boolean(opts.tls);
    this.server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }) : http.createServer();
    this.server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    // A request Node cannot parse gets a plain 400 when the socket can still take one, and is closed.
    this.server.on('clientError', (_err: Error, socket: Duplex) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  /** Adds a request handler after those already mounted (or before them with `first`). */
  handle(handler: RequestHandler, where: 'last' | 'first' = 'last'): this {
    if (where === 'first') this.requestHandlers.unshift(handler);
    else this.requestHandlers.push(handler);
    return this;
  }

  /** Adds an upgrade handler after those already mounted (or before them with `first`). */
  handleUpgrade(handler: UpgradeHandler, where: 'last' | 'first' = 'last'): this {
    if (where === 'first') this.upgradeHandlers.unshift(handler);
    else this.upgradeHandlers.push(handler);
    return this;
  }

  async listen(port: number, host: string = DEFAULT_HOST): Promise<Listening> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const actual = (this.server.address() as AddressInfo).port;
    const wildcard = isWildcardHost(host);
    this.bound = { port: actual, host, wildcard, url: listeningUrl(this.secure, host, actual) };
    if (wildcard) {
      this.opts.logger.info(
        { host, port: actual },
        `listening on every interface (${host}); other machines reach it at this machine's address, port ${actual}`,
      );
    }
    return this.bound;
  }

  /** Where the server listens (after listen()). */
  get listening(): Listening {
    if (!this.bound) throw new Error('the server is not listening yet');
    return this.bound;
  }

  /** Stops accepting connections; resolves when every connection has ended (see closeAllConnections). */
  stopAccepting(): Promise<void> {
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  closeIdleConnections(): void {
    this.server.closeIdleConnections();
  }

  closeAllConnections(): void {
    this.server.closeAllConnections();
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    for (const h of this.requestHandlers) if (h(req, res)) return;
    sendError(res, 404, 'NotFound', `nothing is served at ${req.url ?? '/'}`);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    try {
      for (const h of this.upgradeHandlers) if (h(req, socket, head)) return;
      writeUpgradeError(socket, 404, 'NotFound', `no WebSocket is served at ${req.url ?? '/'}`);
    } catch (err) {
      this.opts.logger.error({ err: (err as Error).message }, 'upgrade failed');
      socket.destroy();
    }
  }
}
