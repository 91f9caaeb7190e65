// What the load tests share: a copy of a cassette whose replay answers the first user message with another
// text than the recorded one, so a load client checking replies against the original must report it.
import assert from 'node:assert/strict';
import type { Cassette } from '../../src/cassette/schema.js';
import { conversationScripts } from '../../src/load/script.js';

export function withAlteredReply(played: Cassette): Cassette {
  const served = structuredClone(played) as Cassette;
  const reply = conversationScripts(played)[0].turns[1].replies[0];
  const frame = served.events.find((e) => e.type === 'ws.message' && JSON.stringify(e).includes(JSON.stringify(reply)));
  assert.ok(frame, `the cassette's stream has the reply ${reply}`);
  const json = (frame as { data: { json: { activities: Array<{ text?: string }> } } }).data.json;
  json.activities.find((a) => a.text === reply)!.text = 'A different reply';
  return served;
}
