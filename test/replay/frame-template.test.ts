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
import { uploadCassette, wsCassette } from './fixtures.js';

/** Releases every item of the cassette's first conversation in one session and compares both paths for each frame. */
function compareAll(cassette: Cassette, liveUser: string | undefined): { templated: number; general: number } {
  const catalog = new Catalog(cassette);
  const model = catalog.models[0];
  const counts = { templated: 0, general: 0 };
  const session: Session = new Session(1, model, {
    basePath: catalog.basePath, speed: 0, logger: createLogger({ level: 'silent' }), clock: () => 0,
    registerToken: () => {}, isUpstreamUrl: (url) => url.startsWith(cassette.upstream.origin),
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
