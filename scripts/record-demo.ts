// Re-records recordings/demo.json: the test upstream's bot, recorded through directline-vcr's own
// recorder by the official client (botframework-directlinejs) over the WebSocket stream.
// Run: npm run record-demo
import { resolve } from 'node:path';
import { startEmulator, type BotReplyStep } from '../test/emulator/index.js';
import { createDirectLine, endDirectLine, postAndWait, waitForActivities } from '../test/support/directline-client.js';
import { startRecorder } from '../src/record/recorder.js';
import { createLogger } from '../src/log.js';

const out = resolve(process.argv[2] ?? 'recordings/demo.json');
const buttons = (...values: string[]) => ({ actions: values.map((v) => ({ type: 'imBack', title: v, value: v })) });

// The demo bot: every reply offers the next message as a button, so a person replaying the demo in
// Web Chat sends exactly what was recorded by clicking.
const reply = (a: { type?: string; text?: string }): BotReplyStep[] => {
  if (a.type !== 'message') return [];
  const text = (a.text ?? '').trim().toLowerCase();
  if (text === 'hello') {
    return [
      { type: 'typing' },
      { type: 'message', text: 'Hello! I am a recorded bot: this conversation is replayed from a cassette, offline.', delayMs: 1200, suggestedActions: buttons('Tell me a joke') },
    ];
  }
  if (text === 'tell me a joke') {
    return [
      { type: 'typing' },
      { type: 'message', text: 'Why did the WebSocket go to therapy?', delayMs: 900 },
      { type: 'typing', delayMs: 300 },
      { type: 'message', text: 'It had too many unresolved frames.', delayMs: 1500, suggestedActions: buttons('Show me a burst') },
    ];
  }
  if (text === 'show me a burst') {
    const steps: BotReplyStep[] = [{ type: 'typing' }];
    for (let i = 1; i <= 4; i++) steps.push({ type: 'message', text: `Burst message ${i} of 4`, delayMs: i === 1 ? 600 : 80 });
    steps.push({ type: 'message', text: 'That is the whole demo. Record your own bot with `directline-vcr record`.', delayMs: 700 });
    return steps;
  }
  return [{ type: 'message', text: `I only know the demo script; you said "${a.text}".` }];
};

const emulator = await startEmulator({
  keepAliveMs: 2500,
  bot: {
    welcome: [{ type: 'message', text: 'Welcome to the directline-vcr demo bot!', delayMs: 300, suggestedActions: buttons('Hello') }],
    reply,
    postDelayMs: 40,
  },
});
const recorder = await startRecorder({ upstream: emulator.domain, cassette: out, logger: createLogger({ level: 'warn' }) });
// A token, as a browser page would use: generated with the secret first (the secret stays here).
const gen = await fetch(`${recorder.domain}/tokens/generate`, { method: 'POST', headers: { authorization: `Bearer ${emulator.secret}` } });
const { token } = (await gen.json()) as { token: string };
const dl = createDirectLine({ domain: recorder.domain, token, webSocket: true });
const say = async (text: string, until: (acts: any[]) => boolean) => {
  await new Promise((r) => setTimeout(r, 800)); // a person reading before clicking
  await postAndWait(dl, { type: 'message', text, from: { id: 'demo-user', name: 'You' } });
  await waitForActivities(dl, until, 15_000);
};
const has = (t: string) => (acts: any[]) => acts.some((a) => a.text === t);
await waitForActivities(dl, has('Welcome to the directline-vcr demo bot!'), 10_000);
await say('Hello', (a) => a.some((x) => x.text?.startsWith('Hello! I am')));
await say('Tell me a joke', has('It had too many unresolved frames.'));
await say('Show me a burst', (a) => a.some((x) => x.text?.startsWith('That is the whole demo')));
await new Promise((r) => setTimeout(r, 3000)); // a keep-alive or two
endDirectLine(dl);
await new Promise((r) => setTimeout(r, 300));
await recorder.close();
await emulator.close();
console.log(`wrote ${out} (${recorder.eventCount()} events)`);
