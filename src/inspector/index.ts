// The web inspector: a page that shows cassettes as timelines (src/inspector/page/), served by
// `inspect --web` on its own port, or at /_vcr/ on a running recorder or replay server (live-record.ts,
// live-replay.ts). Its data is a view of the read model (build-view.ts); it serves only what the cassette
// holds: placeholders, never secrets.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { loadCassette } from '../cassette/load.js';
import type { Cassette } from '../cassette/schema.js';
import type { Logger } from '../log.js';
import type { WebChatBundle } from '../web/index.js';
import { InspectorData } from './data.js';
import { createInspectorHandler, resolveWebChat } from './handler.js';

export { recordInspector, LIVE_PREFIX, type LiveInspectorOptions } from './live-record.js';
export { replayInspector } from './live-replay.js';
export type { InspectorView, RowView, ConversationView, RowDetail, ChatActivity } from './view.js';

export const DEFAULT_INSPECTOR_PORT = 4979;

export interface InspectorOptions {
  /** Cassette files (loaded and validated) or loaded cassettes with a name. */
  cassettes: Array<string | { cassette: Cassette; name: string }>;
  /** Default 0 (a free port); the CLI uses 4979. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Web Chat's bundle; null = not installed (the built-in chat view); default: looked up. */
  bundle?: WebChatBundle | null;
  /** Serve clients that are not on this machine. Default false. */
  allowRemote?: boolean;
  logger?: Logger;
}

export interface Inspector {
  /** http://127.0.0.1:PORT/ : the page. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startInspector(opts: InspectorOptions): Promise<Inspector> {
  const loaded = await Promise.all(
    opts.cassettes.map(async (c) => (typeof c === 'string' ? { cassette: await loadCassette(c), name: basename(c) } : c)),
  );
  const bundle = resolveWebChat(opts.bundle);
  const title = loaded.map((c) => c.name).join(', ') || 'no cassette';
  const data = new InspectorData(title, null, Boolean(bundle));
  for (const c of loaded) data.addCassette(c.cassette, c.name);
  data.viewJson(); // built (read model, rows) before the URL is printed, so the page opens at once
  const handler = createInspectorHandler({ data, prefix: '/', bundle, logger: opts.logger, allowRemote: opts.allowRemote });
  const server = http.createServer((req, res) => {
    if (!handler(req, res)) {
      res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('the inspector answers GET only\n');
    }
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        handler.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
