// The load runner (src/load/runner.ts) at a small size against replay on 127.0.0.1: every conversation of
// the demo cassette whole over WebSocket and polling, the report's counts and latencies; and a replay that
// serves other bot texts than the cassette the runner plays is reported as not whole.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadCassette } from '../../src/cassette/load.js';
import { runLoad } from '../../src/load/runner.js';
import { conversationScripts, scriptOf } from '../../src/load/script.js';
import { startReplayer, type Replayer } from '../../src/replay/index.js';
import { withAlteredReply } from './fixtures.js';

const DEMO = 'recordings/demo.json';
const open: Replayer[] = [];
after(async () => {
  await Promise.all(open.map((r) => r.close()));
});

describe('load runner', () => {
  it('reads the demo cassette as turns: the welcome, then each user message with the bot texts it brought', async () => {
    const [script, ...rest] = conversationScripts(await loadCassette(DEMO));
    assert.equal(rest.length, 0);
    assert.equal(script.generatesToken, true);
    // the user messages as posted, in order (read here straight from the events, as an independent check)
    const cassette = await loadCassette(DEMO);
    const posted = cassette.events.flatMap((e) =>
      e.type === 'http' && e.route === 'activities.post' && e.request.body && 'json' in e.request.body
        ? [(e.request.body.json as { text: string }).text]
        : [],
    );
    assert.ok(posted.length >= 2 && posted[0] === 'Hello', `the demo posts Hello first: ${JSON.stringify(posted)}`);
    assert.deepEqual(
      script.turns.map((t) => t.say),
      [null, ...posted],
    );
    assert.equal(script.turns[0].replies[0], 'Welcome to the directline-vcr demo bot!');
    for (const t of script.turns) assert.ok(t.replies.length > 0, `turn ${t.say} has replies`);
    assert.equal(scriptOf([script], `${script.recordedId}.replay-0_12`), script);
    assert.equal(scriptOf([script], `${script.recordedId}_3`), script);
    assert.equal(scriptOf([script], `X${script.recordedId}_3`), undefined);
  });

  it('plays 40 conversations, half WebSocket and half polling, each whole, and reports rates and latencies', async () => {
    const r = await startReplayer({ cassette: DEMO, speed: 0, instance: 'load' });
    open.push(r);
    const report = await runLoad({
      domain: r.domain,
      cassette: DEMO,
      conversations: 40,
      concurrency: 20,
      mode: 'mixed',
      refreshToken: true,
      deadlineMs: 60_000,
    });
    assert.deepEqual(report.failures, []);
    assert.deepEqual(report.conversations, { started: 40, whole: 40, failed: 0, notStarted: 0 });
    assert.deepEqual(report.byMode, { websocket: 20, polling: 20 });
    assert.deepEqual(report.byInstance, { load: 40 });
    const posts = conversationScripts(await loadCassette(DEMO))[0].turns.length - 1;
    assert.equal(report.turnMs.count, 40 * posts, 'a turn per user message of each conversation');
    assert.equal(report.startMs.count, 40);
    assert.ok(report.conversationsPerSecond > 0 && report.seconds > 0);
    assert.ok(report.turnMs.p50 <= report.turnMs.p99 && report.turnMs.p99 <= report.turnMs.max);
    const s = r.summary();
    assert.equal(s.conversations, 40);
    assert.equal(s.unmatched, 0);
  });

  it('reports a conversation that is not as recorded, with what arrived', async () => {
    const played = await loadCassette(DEMO);
    // the replay answers "Hello" with another text than the cassette the runner plays
    const r = await startReplayer({ cassette: withAlteredReply(played), speed: 0 });
    open.push(r);
    const report = await runLoad({ domain: r.domain, cassette: played, conversations: 2, mode: 'websocket', conversationTimeoutMs: 5000 });
    assert.equal(report.conversations.whole, 0);
    assert.equal(report.conversations.failed, 2);
    assert.match(report.failures[0].reason, /A different reply/);
  });
});
