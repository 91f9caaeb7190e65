// Records a cassette the way a user does: the test emulator as the upstream, the recorder (startRecorder) in
// front of it, a script of real clients against the recorder; then the cassette as replay loads it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startEmulator, type Emulator, type EmulatorOptions } from '../emulator/index.js';
import { startRecorder, type Recorder } from '../../src/record/recorder.js';
import { loadCassette } from '../../src/cassette/load.js';
import type { Cassette } from '../../src/cassette/schema.js';

export interface RecordingRig {
  emu: Emulator;
  rec: Recorder;
  /** What a client passes as `domain`: the recorder's. */
  domain: string;
}

/**
 * Runs `script` against a recorder in front of the emulator and returns the cassette (read after the recorder
 * closed, so every stream close is in it) with the script's result. `upstream`: options of a fresh emulator,
 * closed at the end, or a running one (kept running, e.g. to record a second client of its conversations).
 */
export async function recordCassette<T>(upstream: EmulatorOptions | Emulator, script: (rig: RecordingRig) => Promise<T>): Promise<{ cassette: Cassette; result: T }> {
  const dir = await mkdtemp(join(tmpdir(), 'dlvcr-recording-'));
  const file = join(dir, 'cassette.json');
  const running = 'domain' in upstream;
  const emu = running ? upstream : await startEmulator(upstream);
  let rec: Recorder | undefined;
  try {
    rec = await startRecorder({ upstream: emu.domain, cassette: file, port: 0 });
    const result = await script({ emu, rec, domain: rec.domain });
    await rec.close();
    rec = undefined;
    return { cassette: await loadCassette(file), result };
  } finally {
    await rec?.close();
    if (!running) await emu.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** POST /tokens/generate with `bearer` (a secret, or anything a replay accepts); the token it answers. */
export async function generateToken(domain: string, bearer: string, userId?: string): Promise<string> {
  const res = await fetch(`${domain}/tokens/generate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(userId ? { user: { id: userId } } : {}),
  });
  const body = (await res.json()) as { token?: string };
  if (res.status !== 200 || typeof body.token !== 'string') throw new Error(`tokens/generate answered ${res.status}: ${JSON.stringify(body)}`);
  return body.token;
}

/**
 * Records a conversation as a raw client makes it (fetch and ws, no library): tokens/generate with the
 * emulator's secret, a start with that token, the stream, then each message posted once the reply to the
 * previous one arrived ('You said: …' from the emulator's default bot).
 */
export async function recordRawConversation(messages: string[], userId = 'dl_raw-user'): Promise<Cassette> {
  const { cassette } = await recordCassette({}, async ({ domain, emu }) => {
    const token = await generateToken(domain, emu.secret, userId);
    const started = await fetch(`${domain}/conversations`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ user: { id: userId } }) });
    const start = (await started.json()) as { conversationId: string; streamUrl: string };
    if (started.status !== 201) throw new Error(`start answered ${started.status}`);
    const ws = new WebSocket(start.streamUrl);
    const texts: string[] = [];
    const waiters = new Set<() => void>();
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.trim()) for (const a of (JSON.parse(text) as { activities: Array<{ text?: string }> }).activities) if (a.text) texts.push(a.text);
      for (const w of [...waiters]) w();
    });
    const seen = (text: string) => new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${text}" on the stream; got ${JSON.stringify(texts)}`)), 10_000);
      const check = () => {
        if (!texts.includes(text)) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });
    await seen('Welcome to the emulator bot!');
    for (const text of messages) {
      const posted = await fetch(`${domain}/conversations/${start.conversationId}/activities`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'message', text, from: { id: userId } }),
      });
      if (posted.status !== 200) throw new Error(`posting "${text}" answered ${posted.status}`);
      await seen(`You said: ${text}`);
    }
    ws.close();
    await new Promise((r) => ws.once('close', r));
  });
  return cassette;
}
