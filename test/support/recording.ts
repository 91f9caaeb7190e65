// Records a cassette the way a user does: the test emulator as the upstream, the recorder (startRecorder) in
// front of it, a script of real clients against the recorder; then the cassette as replay loads it.
import WebSocket from 'ws';
import { startEmulator, type Emulator, type EmulatorOptions } from '../emulator/index.js';
import { startRecorder, type Recorder } from '../../src/record/recorder.js';
import { loadCassette } from '../../src/cassette/load.js';
import type { Cassette } from '../../src/cassette/schema.js';
import { eventually } from './async.js';
import { tempDir } from './fs.js';
import { call } from './http.js';

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
export async function recordCassette<T>(
  upstream: EmulatorOptions | Emulator,
  script: (rig: RecordingRig) => Promise<T>,
): Promise<{ cassette: Cassette; result: T }> {
  const tmp = await tempDir('dlvcr-recording-');
  const file = tmp.file('cassette.json');
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
    await tmp.cleanup();
  }
}

/** POST /tokens/generate with `bearer` (a secret, or anything a replay accepts); the token it answers. */
export async function generateToken(domain: string, bearer: string, userId?: string): Promise<string> {
  const res = await call(domain, 'POST', '/tokens/generate', { bearer, body: userId ? { user: { id: userId } } : {} });
  if (res.status !== 200 || typeof res.json?.token !== 'string') throw new Error(`tokens/generate answered ${res.status}: ${res.text}`);
  return res.json.token;
}

/**
 * Records a conversation as a raw client makes it (HTTP calls and ws, no library): tokens/generate with the
 * emulator's secret, a start with that token, the stream, then each message posted once the reply to the
 * previous one arrived ('You said: …' from the emulator's default bot).
 */
export async function recordRawConversation(messages: string[], userId = 'dl_raw-user'): Promise<Cassette> {
  const { cassette } = await recordCassette({}, async ({ domain, emu }) => {
    const token = await generateToken(domain, emu.secret, userId);
    const started = await call(domain, 'POST', '/conversations', { bearer: token, body: { user: { id: userId } } });
    if (started.status !== 201) throw new Error(`start answered ${started.status}: ${started.text}`);
    const start = started.json as { conversationId: string; streamUrl: string };
    const ws = new WebSocket(start.streamUrl);
    const texts: string[] = [];
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.trim())
        for (const a of (JSON.parse(text) as { activities: Array<{ text?: string }> }).activities) if (a.text) texts.push(a.text);
    });
    const seen = (text: string) =>
      eventually(
        () => texts.includes(text),
        () => `"${text}" on the stream; got ${JSON.stringify(texts)}`,
        10_000,
        2,
      );
    await seen('Welcome to the emulator bot!');
    for (const text of messages) {
      const posted = await call(domain, 'POST', `/conversations/${start.conversationId}/activities`, {
        bearer: token,
        body: { type: 'message', text, from: { id: userId } },
      });
      if (posted.status !== 200) throw new Error(`posting "${text}" answered ${posted.status}`);
      await seen(`You said: ${text}`);
    }
    ws.close();
    await new Promise((r) => ws.once('close', r));
  });
  return cassette;
}
