// Records a scripted conversation through the real recorder in front of a Direct Line upstream (the
// emulator), as a plain HTTP + WebSocket client would: token, start, stream or polling, messages and
// uploads, each after the bot answered the previous one. Used by the diff and verify tests.
import WebSocket from 'ws';
import { loadCassette } from '../../src/cassette/load.js';
import type { Cassette } from '../../src/cassette/schema.js';
import { startRecorder, type RecordOptions } from '../../src/record/recorder.js';

export interface UploadFile {
  name: string;
  type: string;
  data: Buffer | string;
}

/** One thing the user does: say `text`, or upload files (with an optional text). */
export type ScriptedTurn = string | { upload: UploadFile[]; text?: string };

export interface RecordConversationOptions {
  upstream: string;
  secret: string;
  cassette: string;
  transport: 'stream' | 'polling';
  turns: ScriptedTurn[];
  user?: string;
  recorder?: Partial<RecordOptions>;
  /** How long to wait for each answer (ms); default 5000. */
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Records the conversation and returns the cassette as written. */
export async function recordConversation(opts: RecordConversationOptions): Promise<Cassette> {
  const rec = await startRecorder({ upstream: opts.upstream, cassette: opts.cassette, port: 0, ...opts.recorder });
  const user = opts.user ?? 'dl_tester';
  const timeout = opts.timeoutMs ?? 5000;
  let ws: WebSocket | undefined;
  let polling = true;
  try {
    const gen = await json(
      await fetch(`${rec.domain}/tokens/generate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ user: { id: user } }),
      }),
    );
    const start = await json(
      await fetch(`${rec.domain}/conversations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gen.token}`, 'content-type': 'application/json' },
        body: '{}',
      }),
    );
    const id: string = start.conversationId;
    const token: string = start.token;
    const seen: any[] = [];
    const ids = new Set<string>();
    const take = (set: any) => {
      for (const a of set?.activities ?? []) {
        if (typeof a.id === 'string') {
          if (ids.has(a.id)) continue;
          ids.add(a.id);
        }
        seen.push(a);
      }
    };
    let watermark = '';
    if (opts.transport === 'stream') {
      ws = new WebSocket(start.streamUrl);
      ws.on('message', (d) => {
        const t = d.toString();
        if (t.trim()) take(JSON.parse(t));
      });
      await new Promise<void>((resolve, reject) => {
        ws!.once('open', () => resolve());
        ws!.once('error', reject);
      });
    } else {
      void (async () => {
        while (polling) {
          const r = await fetch(`${rec.domain}/conversations/${id}/activities?watermark=${encodeURIComponent(watermark)}`, {
            headers: { authorization: `Bearer ${token}` },
          });
          if (r.ok) {
            const set = await r.json();
            if (set.watermark) watermark = set.watermark;
            take(set);
          }
          await sleep(100);
        }
      })();
    }
    const until = async (what: string, check: () => boolean) => {
      const end = Date.now() + timeout;
      while (!check()) {
        if (Date.now() > end)
          throw new Error(`timed out waiting for ${what}; seen ${JSON.stringify(seen.map((a) => `${a.type}:${a.text ?? ''}`))}`);
        await sleep(10);
      }
    };
    await until('the welcome', () => seen.some((a) => a.from?.role === 'bot' && a.type === 'message'));
    for (const turn of opts.turns) {
      let res: Response;
      if (typeof turn === 'string') {
        res = await fetch(`${rec.domain}/conversations/${id}/activities`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'message', from: { id: user }, text: turn }),
        });
      } else {
        const form = new FormData();
        if (turn.text !== undefined) {
          form.append(
            'activity',
            new Blob([JSON.stringify({ type: 'message', text: turn.text, from: { id: user } })], {
              type: 'application/vnd.microsoft.activity',
            }),
          );
        }
        for (const f of turn.upload)
          form.append('file', new Blob([typeof f.data === 'string' ? f.data : new Uint8Array(f.data)], { type: f.type }), f.name);
        res = await fetch(`${rec.domain}/conversations/${id}/upload?userId=${encodeURIComponent(user)}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
          body: form,
        });
      }
      const sent = await json(res);
      await until(`the answer to ${JSON.stringify(turn)}`, () => seen.some((a) => a.replyToId === sent.id && a.type === 'message'));
    }
  } finally {
    polling = false;
    await sleep(150); // the last poll finishes
    if (ws) {
      const closed = new Promise<void>((resolve) => ws!.once('close', () => resolve()));
      ws.close(1000);
      await closed;
    }
    await rec.close();
  }
  return loadCassette(opts.cassette);
}

async function json(res: Response): Promise<any> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${res.url}: ${res.status} ${text}`);
  return JSON.parse(text);
}
