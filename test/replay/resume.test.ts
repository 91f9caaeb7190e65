// Resumed conversations (a Web Chat app that persisted conversationId + token + watermark and resumes on
// reload): the client's first request is a reconnect (GET …/conversations/{id}?watermark=N), not a start.
// Recorded with botframework-directlinejs through the recorder from the emulator, WebSocket and polling:
// client A starts a conversation (cassette "fresh"), then client B resumes it with A's id, token and the
// watermark A had after the welcome, through a second recorder (cassette "resumed": its first request for the
// conversation is the resume). Replayed to live clients that resume the same way.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startReplayer, type Replayer } from '../../src/replay/index.js';
import type { Cassette } from '../../src/cassette/schema.js';
import { startEmulator } from '../emulator/index.js';
import {
  activitiesOf,
  createDirectLine,
  endDirectLine,
  postAndWait,
  waitForActivities,
  type CreateDirectLineOptions,
  type DirectLine,
} from '../support/directline-client.js';
import { sleep } from '../support/async.js';
import { generateToken, recordCassette } from '../support/recording.js';

const USER = 'dl_resume-user';
const WELCOME = 'Welcome to the emulator bot!';
const MODES = [
  { name: 'WebSocket', options: { webSocket: true } },
  { name: 'polling', options: { webSocket: false, pollingInterval: 200 } },
] as const;
type Mode = (typeof MODES)[number];

const has = (text: string) => (activities: any[]) => activities.some((a) => a.text === text);
const shape = (a: any) => `${a.type}:${a.from?.role ?? ''}:${a.text ?? ''}`;
const message = (text: string) => ({
  type: 'message',
  text,
  from: { id: USER, name: 'Resume User' },
  channelData: { clientActivityID: `cid-${text}` },
});
/** What a client persists and what the library keeps: conversationId, token and watermark are its fields. */
const state = (dl: DirectLine) => dl as unknown as { conversationId: string; token: string; watermark: string };

/** Ends the client; a polling one gets time for its last poll, so nothing is cut off mid-request. */
async function end(dl: DirectLine, mode: Mode): Promise<void> {
  endDirectLine(dl);
  if (!mode.options.webSocket) await sleep(mode.options.pollingInterval + 100);
}

interface Recorded {
  fresh: Cassette;
  resumed: Cassette;
  conversationId: string;
  /** A's watermark after the welcome: where B resumed. */
  watermark: string;
  /** B's watermark after the history it got on resuming (the echo of hello and its reply). */
  laterWatermark: string;
  /** What A saw (welcome, hello, reply) and what B saw (after the watermark, then again → reply). */
  seenByA: string[];
  seenByB: string[];
}

const recordings = new Map<string, Promise<Recorded>>();

function recorded(mode: Mode): Promise<Recorded> {
  let p = recordings.get(mode.name);
  if (!p) {
    p = recordBoth(mode);
    recordings.set(mode.name, p);
  }
  return p;
}

async function recordBoth(mode: Mode): Promise<Recorded> {
  const emu = await startEmulator({});
  try {
    const a = await recordCassette(emu, async ({ domain }) => {
      const dl = createDirectLine({ domain, token: await generateToken(domain, emu.secret, USER), ...mode.options });
      try {
        await waitForActivities(dl, has(WELCOME), 10_000);
        const watermark = state(dl).watermark;
        await postAndWait(dl, message('hello'));
        await waitForActivities(dl, has('You said: hello'), 10_000);
        return { conversationId: state(dl).conversationId, token: state(dl).token, watermark, seen: activitiesOf(dl).map(shape) };
      } finally {
        await end(dl, mode);
      }
    });
    assert.ok(a.result.watermark, 'the client had a watermark after the welcome');
    const b = await recordCassette(emu, async ({ domain }) => {
      const dl = createDirectLine({
        domain,
        token: a.result.token,
        conversationId: a.result.conversationId,
        watermark: a.result.watermark,
        ...mode.options,
      });
      try {
        await waitForActivities(dl, has('You said: hello'), 10_000);
        const laterWatermark = state(dl).watermark;
        await postAndWait(dl, message('again'));
        await waitForActivities(dl, has('You said: again'), 10_000);
        return { laterWatermark, seen: activitiesOf(dl).map(shape) };
      } finally {
        await end(dl, mode);
      }
    });
    const first = b.cassette.events.find((e) => e.type === 'http');
    assert.equal(first?.type === 'http' && first.route, 'conversations.reconnect', "the resumed cassette's first request is the resume");
    assert.ok(!b.cassette.events.some((e) => e.type === 'http' && (e.route === 'conversations.start' || e.route === 'tokens.generate')));
    return {
      fresh: a.cassette,
      resumed: b.cassette,
      conversationId: a.result.conversationId,
      watermark: a.result.watermark,
      laterWatermark: b.result.laterWatermark,
      seenByA: a.result.seen,
      seenByB: b.result.seen,
    };
  } finally {
    await emu.close();
  }
}

/** A live client resuming `conversationId` against the replay: waits for `until`, posts `post`, waits for its reply. */
async function resumeAndPost(
  r: Replayer,
  mode: Mode,
  opts: Pick<CreateDirectLineOptions, 'conversationId' | 'watermark' | 'token'>,
  until: string | null,
  post: string,
): Promise<{ seen: string[]; before: string[]; echo: any }> {
  const dl = createDirectLine({ domain: r.domain, ...opts, ...mode.options });
  try {
    if (until) await waitForActivities(dl, has(until), 10_000);
    else await sleep(600); // nothing after its watermark yet: nothing must come
    const before = activitiesOf(dl).map(shape);
    await postAndWait(dl, message(post));
    await waitForActivities(dl, has(`You said: ${post}`), 10_000);
    return { seen: activitiesOf(dl).map(shape), before, echo: activitiesOf(dl).find((x) => x.text === post) };
  } finally {
    await end(dl, mode);
  }
}

for (const mode of MODES) {
  describe(`resumed conversations, ${mode.name}`, { timeout: 120_000 }, () => {
    it('a cassette that begins with a resume: own session, the activities after the watermark, and the client goes on', async () => {
      const rec = await recorded(mode);
      assert.deepEqual(
        rec.seenByB.slice(0, 2),
        ['message:user:hello', 'message:bot:You said: hello'],
        'B got the history after the welcome',
      );
      const r = await startReplayer({ cassette: rec.resumed, speed: 2 });
      try {
        // The recorded id, token and watermark, as the app persisted them.
        const c = await resumeAndPost(
          r,
          mode,
          { conversationId: rec.conversationId, token: 'persisted-token', watermark: rec.watermark },
          'You said: hello',
          'again',
        );
        assert.deepEqual(c.seen, rec.seenByB, 'the live client saw what the resuming client saw while recording');
        assert.equal(c.echo.conversation.id, rec.conversationId, 'the session goes by the id the client resumed');
        assert.equal(c.echo.channelData.clientActivityID, 'cid-again');
        // Another client, another id (the cassette holds one conversation), resuming after everything it saw:
        // its own session, in which nothing at or before its watermark comes again.
        const other = 'persisted-elsewhere-us';
        const d = await resumeAndPost(
          r,
          mode,
          { conversationId: other, token: 'another-persisted-token', watermark: rec.laterWatermark },
          null,
          'again',
        );
        assert.deepEqual(d.before, [], 'nothing before the post: the history is at or before its watermark');
        assert.deepEqual(d.seen, rec.seenByB.slice(2), 'only what came after its watermark');
        assert.equal(d.echo.conversation.id, other);
        assert.match(d.echo.id, new RegExp(`^${other}\\|`), 'activity ids carry the id it resumed');
        const s = r.summary();
        assert.equal(s.conversations, 2, 'one session per resumed conversation');
        assert.equal(s.unmatched, 0, JSON.stringify(s.unmatchedRequests));
      } finally {
        await r.close();
      }
    });

    it('a fresh cassette (started normally), replayed to a client that resumes with any id', async () => {
      const rec = await recorded(mode);
      const first = rec.fresh.events.find((e) => e.type === 'http');
      assert.equal(first?.type === 'http' && first.route, 'tokens.generate');
      const r = await startReplayer({ cassette: rec.fresh, speed: 2 });
      try {
        const id = 'conversation-from-yesterday';
        const e = await resumeAndPost(r, mode, { conversationId: id, token: 'persisted-token' }, WELCOME, 'hello');
        assert.deepEqual(e.seen, rec.seenByA, 'the recorded conversation, from its welcome');
        assert.equal(e.echo.conversation.id, id);
        const s = r.summary();
        assert.equal(s.conversations, 1);
        assert.equal(s.unmatched, 0, JSON.stringify(s.unmatchedRequests));
      } finally {
        await r.close();
      }
    });
  });
}
