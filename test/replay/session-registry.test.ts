// SessionRegistry.inPath: which sessions an attachment path may belong to, found from the recorded ids (so the
// cost does not grow with the sessions), for minted ids with and without an instance, URI-encoded ids, and
// sessions resumed under an id the client chose.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SessionRegistry } from '../../src/replay/session-registry.js';
import { liveConversationId } from '../../src/replay/instance.js';
import type { Session } from '../../src/replay/session.js';
import type { StreamHub } from '../../src/replay/stream.js';

/** The two fields the registry reads of a session. */
const session = (recordedId: string | null, liveId: string | null) => ({ liveId, model: { recordedId } }) as unknown as Session;
const hub = {} as StreamHub;

describe('SessionRegistry.inPath', () => {
  const reg = new SessionRegistry();
  const plain = Array.from({ length: 2000 }, (_, n) => session('conv-A', liveConversationId('conv-A', n + 1, undefined)));
  const withInstance = Array.from({ length: 20 }, (_, n) => session('conv-A', liveConversationId('conv-A', n + 1, 'b-2')));
  const encoded = session('a|b c', liveConversationId('a|b c', 7, undefined));
  const resumed = session('conv-A', 'client-chosen-id');
  for (const s of [...plain, ...withInstance, encoded, resumed]) reg.add(s, hub);

  it('finds a minted id in the path (the whole id, not a shorter one it starts with)', () => {
    assert.deepEqual(reg.inPath('/v3/attachments/conv-A_12/images/1'), [plain[11]]);
    assert.deepEqual(reg.inPath('/v3/attachments/conv-A_1200/images/1'), [plain[1199]]);
    assert.deepEqual(reg.inPath('/x/conv-A.b-2_3/y'), [withInstance[2]]);
  });

  it('finds a URI-encoded id and a resumed session under its own id', () => {
    assert.deepEqual(reg.inPath(`/files/${encodeURIComponent('a|b c_7')}/pic.png`), [encoded]);
    assert.deepEqual(reg.inPath('/files/client-chosen-id/pic.png'), [resumed]);
  });

  it('finds nothing for a path with no live id (a recorded id alone, an unknown session number)', () => {
    assert.deepEqual(reg.inPath('/v3/attachments/conv-A/images/1'), []);
    assert.deepEqual(reg.inPath('/v3/attachments/conv-A_99999/images/1'), []);
    assert.deepEqual(reg.inPath('/elsewhere.png'), []);
  });
});
