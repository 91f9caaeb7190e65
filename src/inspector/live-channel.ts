// The live channel: Server-Sent Events on <prefix>api/live (the inspector's own path, never a Direct Line
// route). A page that connects gets the whole view, then only what changed: rows, conversations and
// cassette headers whose JSON differs from what was last sent, at most once per `intervalMs`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InspectorData } from './data.js';
import type { LiveMessage } from './view.js';

const HEARTBEAT_MS = 15_000;

export class LiveChannel {
  private readonly clients = new Set<ServerResponse>();
  private readonly sentRows = new Map<string, string>();
  private readonly sentConversations = new Map<string, string>();
  private readonly sentCassettes = new Map<number, string>();
  private timer: NodeJS.Timeout | null = null;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly data: InspectorData,
    private readonly intervalMs = 100,
  ) {
    this.unsubscribe = data.onChange(() => this.schedule());
    this.heartbeat = setInterval(() => {
      for (const res of this.clients) res.write(': keep-alive\n\n');
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  attach(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    // Bring the shared "last sent" state up to now, so the snapshot and the later diffs agree.
    this.flush();
    this.clients.add(res);
    const drop = () => this.clients.delete(res);
    req.on('close', drop);
    res.on('close', drop);
    this.send(res, { type: 'snapshot', view: this.data.view() });
  }

  close(): void {
    this.unsubscribe();
    clearInterval(this.heartbeat);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Computes what changed since the last message and sends it to every page. */
  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const view = this.data.view();
    const rows = view.rows.filter((r) => changed(this.sentRows, r.key, r));
    const conversations = view.conversations.filter((c) => changed(this.sentConversations, c.key, c));
    const cassettes = view.cassettes.filter((c) => changed(this.sentCassettes, c.index, c));
    if (rows.length === 0 && conversations.length === 0 && cassettes.length === 0) return;
    const msg: LiveMessage = { type: 'update', rows, conversations, cassettes };
    for (const res of this.clients) this.send(res, msg);
  }

  private send(res: ServerResponse, msg: LiveMessage): void {
    res.write(`data: ${JSON.stringify(msg)}\n\n`);
  }
}

function changed<K>(sent: Map<K, string>, key: K, value: unknown): boolean {
  const json = JSON.stringify(value);
  if (sent.get(key) === json) return false;
  sent.set(key, json);
  return true;
}
