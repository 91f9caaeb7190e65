// Frame templates: a recorded frame serialised once and filled in per session gives exactly the bytes of the
// general path (substitution walk + JSON.stringify), and frames that need the general path get no template.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Cassette } from '../../src/cassette/schema.js';
import { createLogger } from '../../src/log.js';
import { readModel } from '../../src/model/index.js';
import { Catalog } from '../../src/replay/catalog.js';
import { httpCause, type StreamItem } from '../../src/replay/conversation-model.js';
import { Session } from '../../src/replay/session.js';
import { JsonTemplate } from '../../src/replay/frame-template.js';
import { Substituter } from '../../src/replay/substitute.js';
import { uploadCassette, wsCassette } from './fixtures.js';

/** Releases every item of the cassette's first conversation in one session and compares both paths for each frame. */
function compareAll(cassette: Cassette, liveUser: string | undefined): { templated: number; general: number } {
  const catalog = new Catalog(cassette);
  const model = catalog.models[0];
  const counts = { templated: 0, general: 0 };
  const session: Session = new Session(1, model, {
    basePath: catalog.basePath,
    speed: 0,
    logger: createLogger({ level: 'silent' }),
    clock: () => 0,
    registerToken: () => {},
    isUpstreamUrl: (url) => url.startsWith(cassette.upstream.origin),
    placeholderKind: (p) => readModel(cassette).placeholderKind(p),
    onRelease: (_s, item: StreamItem) => {
      if (item.kind !== 'activities' || !item.frame) return;
      const templated = session.templatedFrame(item);
      if (templated === null) {
        counts.general++;
        return;
      }
      counts.templated++;
      assert.equal(templated, session.generalFrame(item));
    },
  });
  session.subst.liveUserId = liveUser;
  session.begin(0);
  session.attach(0, 'stream');
  for (const queue of model.requests.values()) for (const r of queue) session.scheduler.causeHappened(httpCause(r.index), 0);
  session.close();
  return counts;
}

describe('frame templates', () => {
  it('give the bytes of the general path, with the live conversation, user, tokens and delivery time', () => {
    const counts = compareAll(wsCassette(), 'live-user "quoted"');
    assert.ok(counts.templated >= 5, `bot frames are templated (${counts.templated})`);
    assert.ok(counts.general >= 3, `echoes of the client's posts take the general path (${counts.general})`);
    compareAll(wsCassette(), undefined);
  });

  it('leave frames with upstream attachment URLs to the general path', () => {
    const counts = compareAll(uploadCassette(), 'u2');
    assert.ok(counts.general >= 1);
  });
});

describe('reply templates', () => {
  it('render a recorded JSON body exactly as the substitution walk does', () => {
    const body = {
      conversationId: 'ConvAAAAAAAAAAAAAAAAAA-us',
      id: 'ConvAAAAAAAAAAAAAAAAAA-us|0000003',
      token: 'DLVCR_TOKEN_2',
      expires_in: 3600,
      members: [{ id: 'dl_rec' }, { userId: 'dl_rec', name: 'x "y"' }],
      note: 'see DLVCR_TOKEN_2 and DLVCR_CUSTOM_1',
    };
    const ids = { recordedId: 'ConvAAAAAAAAAAAAAAAAAA-us', userId: 'dl_rec' };
    const tokens = new Map<string, string>([
      ['DLVCR_TOKEN_2', 'eyJ.live.token'],
      ['DLVCR_CUSTOM_1', 'vcr-custom'],
    ]);
    const subst = new Substituter({
      recordedConversationId: ids.recordedId,
      liveConversationId: 'ConvAAAAAAAAAAAAAAAAAA-us_7',
      recordedUserId: ids.userId,
      token: (p) => tokens.get(p)!,
      streamUrl: (s) => s,
    });
    for (const liveUser of [undefined, 'live "user"']) {
      subst.liveUserId = liveUser;
      const template = JsonTemplate.of(body, ids, () => false)!;
      const rendered = template.render({
        recordedConversationId: ids.recordedId,
        liveConversationId: 'ConvAAAAAAAAAAAAAAAAAA-us_7',
        recordedUserId: ids.userId,
        liveUserId: liveUser,
        token: (p) => tokens.get(p)!,
      });
      assert.equal(rendered, JSON.stringify(subst.json(body)));
    }
    assert.equal(
      JsonTemplate.of({ streamUrl: 'ws://x/y' }, ids, () => false),
      null,
      'a streamUrl takes the general path (without streamUrl slots)',
    );
    assert.equal(
      JsonTemplate.of({ token: 'eyJraw' }, ids, () => false),
      null,
      'an unredacted token takes the general path',
    );
  });
});

describe('reply templates with streamUrl slots', () => {
  it('give the bytes of the substitution walk: stream URLs as the session makes them, nothing substituted in them', () => {
    const rec = 'ConvBBBBBBBBBBBBBBBBBB-us';
    const live = `${rec}_3`;
    const body = {
      conversationId: rec,
      token: 'DLVCR_TOKEN_1',
      expires_in: 3600,
      // The live stream URL holds the live id, which holds the recorded one: it must not be substituted again.
      streamUrl: `ws://127.0.0.1:5555/v3/directline/conversations/${rec}/stream?watermark=-&t=DLVCR_STREAMTOKEN_1`,
      nested: [{ streamUrl: 'ws://other/stream?t=DLVCR_STREAMTOKEN_1', id: 'dl_rec' }],
      referenceGrammarId: 'g',
    };
    const ids = { recordedId: rec, userId: 'dl_rec' };
    const tokens = new Map([
      ['DLVCR_TOKEN_1', 'eyJ.token'],
      ['DLVCR_STREAMTOKEN_1', 'eyJ.stream'],
    ]);
    const streamUrl = (s: string) => `ws://live:1/conversations/${live}/stream?from=${encodeURIComponent(s.slice(0, 12))}&t=eyJ.stream`;
    const subst = new Substituter({
      recordedConversationId: rec,
      liveConversationId: live,
      recordedUserId: ids.userId,
      token: (p) => tokens.get(p)!,
      streamUrl,
    });
    // (A live user id holding a placeholder or the recorded id never reaches a template: Session walks then.)
    for (const liveUser of [undefined, 'dl_live', 'with "quotes"']) {
      subst.liveUserId = liveUser;
      const template = JsonTemplate.of(body, ids, () => false, true);
      assert.ok(template, 'a body with streamUrls gets a template when they are slots');
      const rendered = template.render({
        recordedConversationId: rec,
        liveConversationId: live,
        recordedUserId: ids.userId,
        liveUserId: liveUser,
        token: (p) => tokens.get(p)!,
        streamUrl,
      });
      assert.equal(rendered, JSON.stringify(subst.json(body)));
    }
  });
});
