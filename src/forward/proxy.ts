// Forward-proxy mode: the recorder or replay server also answers CONNECT, for clients that cannot change
// their Direct Line domain but honour HTTPS_PROXY. A CONNECT to a Direct Line host is answered by this
// server itself: TLS is ended here with a certificate from the local CA, and the decrypted connection is
// handed to the server's own HTTP handling (requests and stream upgrades). Any other CONNECT is tunnelled
// to its destination untouched, or refused with onlyDirectLine.
import type { IncomingMessage, Server } from 'node:http';
import { connect as tcpConnect, type Socket } from 'node:net';
import { Server as TlsServer, TLSSocket, createSecureContext, type SecureContext } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.js';
import { LocalCa } from './ca.js';
import { isDirectLineHost } from './directline-hosts.js';

export interface ForwardOptions {
  /** Where the CA lives (default ~/.directline-vcr): ca.pem to trust, ca-key.pem (mode 0600). */
  caDir?: string;
  /** Refuse (403) CONNECTs to hosts that are not Direct Line hosts instead of tunnelling them. Default false. */
  onlyDirectLine?: boolean;
  /** More hosts to intercept besides the hosted Direct Line hosts (hostnames or origins). */
  hosts?: string[];
}

export interface ForwardProxy {
  /** The CA certificate file clients trust (NODE_EXTRA_CA_CERTS, the OS store). */
  caFile: string;
  /** Ends every tunnel and intercepted connection. */
  close(): void;
}

/** Intercepted connections and the origin their client believes it talks to (https://host[:port]). */
const intercepted = new WeakMap<object, string>();

/**
 * The origin the client called when `req` came through the forward proxy (https://directline.botframework.com),
 * else null: what the server puts into streamUrls and attachment URLs for it, so they lead back through the proxy.
 */
export function interceptedOrigin(req: IncomingMessage): string | null {
  return intercepted.get(req.socket) ?? null;
}

/** Makes `server` answer CONNECT as described above; resolves once the CA is loaded (or made). */
export async function attachForwardProxy(server: Server, opts: ForwardOptions, logger: Logger): Promise<ForwardProxy> {
  const ca = await LocalCa.open(opts.caDir);
  const contexts = new Map<string, SecureContext>();
  const open = new Set<Duplex>();
  const track = (s: Duplex) => {
    open.add(s);
    s.once('close', () => open.delete(s));
  };
  const extra = opts.hosts ?? [];

  server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    track(socket);
    socket.on('error', () => socket.destroy());
    const target = parseAuthority(req.url ?? '');
    if (!target) {
      socket.end(
        'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\ndirectline-vcr: CONNECT needs host:port\n',
      );
      return;
    }
    const { host, port } = target;
    if (isDirectLineHost(host, extra)) {
      let context = contexts.get(host);
      if (!context) {
        const leaf = ca.leafFor(host);
        context = createSecureContext({ cert: leaf.cert, key: leaf.key });
        contexts.set(host, context);
      }
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) socket.unshift(head);
      const tls = new TLSSocket(socket as Socket, { isServer: true, secureContext: context, ALPNProtocols: ['http/1.1'] });
      track(tls);
      tls.on('error', (err) => {
        logger.debug({ host, err: err.message }, 'forward proxy: intercepted TLS connection failed');
        tls.destroy();
      });
      intercepted.set(tls, `https://${host}${port === 443 ? '' : `:${port}`}`);
      logger.debug({ host, port }, 'forward proxy: intercepting');
      // An https server parses HTTP on 'secureConnection', a plain one on 'connection'.
      server.emit(server instanceof TlsServer ? 'secureConnection' : 'connection', tls);
      return;
    }
    if (opts.onlyDirectLine) {
      logger.warn({ host, port }, 'forward proxy: refused a CONNECT to a host that is not Direct Line (--forward-only-directline)');
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\ndirectline-vcr: ${host}:${port} is not ` +
          'a Direct Line host, and this proxy only serves Direct Line (--forward-only-directline)\n',
      );
      return;
    }
    const upstream = tcpConnect(port, host);
    track(upstream);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream);
      upstream.pipe(socket);
    });
    upstream.on('error', (err) => {
      logger.info({ host, port, err: err.message }, 'forward proxy: tunnel failed');
      if (socket.writable && !connected) {
        socket.end(
          'HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\ndirectline-vcr: cannot reach ' +
            `${host}:${port} (${err.message})\n`,
        );
      } else socket.destroy();
    });
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
    logger.debug({ host, port }, 'forward proxy: tunnelling');
  });

  const address = server.address();
  const where =
    address && typeof address === 'object'
      ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
      : 'this server';
  logger.info(
    { ca: ca.certFile, created: ca.created, onlyDirectLine: Boolean(opts.onlyDirectLine) },
    `forward proxy on: clients with HTTPS_PROXY=${where} reach Direct Line here ` +
      `(${opts.onlyDirectLine ? 'other hosts are refused' : 'other hosts are tunnelled untouched'}); ` +
      `they must trust the CA ${ca.certFile}${ca.created ? ' (made now)' : ''}: NODE_EXTRA_CA_CERTS=${ca.certFile} for Node, ` +
      'or add it to the OS trust store',
  );
  return {
    caFile: ca.certFile,
    close() {
      for (const s of open) s.destroy();
      open.clear();
    },
  };
}

/** host:port of a CONNECT (port required; [v6] brackets removed). */
function parseAuthority(raw: string): { host: string; port: number } | null {
  const m = /^(\[[^\]]+\]|[^:/\s]+):(\d{1,5})$/.exec(raw.trim());
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}
