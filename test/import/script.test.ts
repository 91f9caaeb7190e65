// Importing a script (YAML or JSON): turns, delays, typing, cards, images, suggested actions; the published
// JSON Schema (schema/script.schema.json) is current and accepts the shipped demo script; the shipped demo
// cassette is what `npm run build-demo` builds from it; a script that fails its schema, a YAML syntax error or a
// missing file is refused naming the file, the line and the JSON path.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import type { WsMessageEvent } from '../../src/cassette/schema.js';
import { stringifyCassette } from '../../src/cassette/serialize.js';
import { importFile } from '../../src/import/index.js';
import { scriptJsonSchema } from '../../src/import/script-schema.js';
import { DEMO_CASSETTE, DEMO_CREATED_AT, DEMO_SCRIPT } from '../../scripts/build-demo.js';
import { deliveredActivities, importText } from './fixtures.js';

const require = createRequire(import.meta.url);
const ROOT = new URL('../../', import.meta.url);

const SCRIPT = `turns:
  - bot: { text: "Welcome!", suggestedActions: [Hello, { title: Help, type: postBack, value: help }] }
  - user: Hello
  - bot:
      typing: 1.5s
      text: A card
      card: card.json
  - delay: 2s
  - bot:
      delay: 250ms
      image: picture.png
      attachments:
        - { contentType: text/plain, contentUrl: "https://example.invalid/notes.txt" }
  - user: { type: event, name: webchat/join, value: { x: 1 } }
  - bot: { type: event, name: done }
`;

test('a YAML script becomes the activities it describes, with its timing', async () => {
  const c = await importText('demo.yaml', SCRIPT);
  assert.equal(c.source?.from, 'script');
  const acts = deliveredActivities(c);
  assert.deepEqual(
    acts.map((a) => `${a.type}:${a.from?.role}`),
    ['message:bot', 'message:user', 'typing:bot', 'message:bot', 'message:bot', 'event:user', 'event:bot'],
  );
  assert.deepEqual((acts[0].suggestedActions as any).actions, [
    { type: 'imBack', title: 'Hello', value: 'Hello' },
    { type: 'postBack', title: 'Help', value: 'help' },
  ]);
  assert.equal((acts[3].attachments![0] as any).content.type, 'AdaptiveCard');
  assert.equal(acts[4].attachments?.[0].contentType, 'image/png');
  assert.equal(acts[4].attachments?.[1].contentUrl, 'https://example.invalid/notes.txt', 'a URL attachment is left as it is');
  assert.deepEqual([acts[5].name, acts[5].value], ['webchat/join', { x: 1 }]);
  const frames = c.events.filter((e): e is WsMessageEvent => e.type === 'ws.message');
  assert.equal(frames[3].t - frames[2].t, 1500, 'typing: 1.5s before the card');
  assert.equal(frames[4].t - frames[3].t, 2250, "delay: 2s, then the turn's own 250ms");
});

test('the same script in JSON imports to the same conversation', async () => {
  const yaml = await importText('demo.yaml', SCRIPT, { createdAt: new Date(0) });
  const json = await importText('demo.json', JSON.stringify(parse(SCRIPT)), { createdAt: new Date(0) });
  assert.deepEqual(
    deliveredActivities(json).map((a) => [a.type, a.text]),
    deliveredActivities(yaml).map((a) => [a.type, a.text]),
  );
});

test('schema/script.schema.json is current and accepts the demo script', () => {
  const onDisk = readFileSync(new URL('schema/script.schema.json', ROOT), 'utf8');
  assert.equal(onDisk, JSON.stringify(scriptJsonSchema(), null, 2) + '\n', 'regenerate with `npm run schema`');
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  (require('ajv-formats') as (a: Ajv2020) => Ajv2020)(ajv);
  const validate = ajv.compile(JSON.parse(onDisk));
  assert.ok(validate(parse(readFileSync(new URL(DEMO_SCRIPT, ROOT), 'utf8'))), JSON.stringify(validate.errors));
  assert.equal(validate(parse('turns:\n  - bot: { text: hi, colour: red }\n')), false, 'the schema is not vacuous');
});

test('recordings/demo.json is what npm run build-demo builds from recordings/demo/demo.yaml', async () => {
  const cwd = process.cwd();
  process.chdir(new URL('.', ROOT).pathname);
  try {
    const built = await importFile(DEMO_SCRIPT, { createdAt: DEMO_CREATED_AT });
    assert.equal(readFileSync(DEMO_CASSETTE, 'utf8'), stringifyCassette(built), 'rebuild with `npm run build-demo`');
  } finally {
    process.chdir(cwd);
  }
});

describe('a bad script is refused with the file, the line, the JSON path and what was expected', () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      'YAML syntax',
      'turns:\n  - user: hi\n  - bot: x: y\n',
      /bad\.yaml:3: not valid YAML\/JSON: Nested mappings are not allowed in compact mappings/,
    ],
    [
      'an unknown key',
      'turns:\n  - user: hi\n  - bot:\n      text: hi\n      colour: red\n',
      /bad\.yaml:5: turns\[1\]\.bot\.colour: unknown key "colour"/,
    ],
    [
      'a bad duration',
      'turns:\n  - bot:\n      text: hi\n      stream: { chunks: [a, b], every: soon }\n',
      /bad\.yaml:4: turns\[0\]\.bot\.stream\.every: expected a duration such as 60ms or 1\.5s/,
    ],
    [
      'a turn of no kind',
      'turns:\n  - user: hi\n  - robot: hello\n',
      /bad\.yaml:3: turns\[1\]: expected an object with one of "bot", "user", "delay", found keys "robot"/,
    ],
    ['a wrong type', 'turns:\n  - bot: 42\n', /bad\.yaml:2: turns\[0\]\.bot: expected string or object, found number 42/],
    ['no turns', 'title: nothing\n', /bad\.yaml:1: turns: missing: expected array/],
    ['empty chunks', 'turns:\n  - bot: { stream: { chunks: [] } }\n', /bad\.yaml:2: turns\[0\]\.bot\.stream\.chunks: Too small/],
    [
      'a missing card file',
      'turns:\n  - bot:\n      card: nope.json\n',
      /bad\.yaml:3: turns\[0\]\.bot\.card: attachment file "nope\.json" not found/,
    ],
    [
      'a missing image file',
      'turns:\n  - bot:\n      image: nope.png\n',
      /bad\.yaml:3: turns\[0\]\.bot\.image: attachment file "nope\.png" not found/,
    ],
    [
      'a card that is no Adaptive Card',
      'turns:\n  - bot:\n      text: x\n      card: picture.png\n',
      /bad\.yaml:4: turns\[0\]\.bot\.card: picture\.png is not valid JSON/,
    ],
    [
      'an empty bot message',
      'turns:\n  - bot: { delay: 1s }\n',
      /bad\.yaml:2: turns\[0\]\.bot: a bot message needs text, stream, card, image, attachments or suggestedActions/,
    ],
  ];
  for (const [what, text, expected] of cases) {
    test(what, async () => {
      await assert.rejects(importText('bad.yaml', text), (err: Error) => {
        assert.equal(err.name, 'ImportError');
        assert.match(err.message, expected);
        return true;
      });
    });
  }
  test('a bad JSON script names its line too', async () => {
    await assert.rejects(
      importText('bad.json', '{\n  "turns": [\n    { "bot": { "txt": "hi" } }\n  ]\n}'),
      /bad\.json:3: turns\[0\]\.bot\.txt: unknown key "txt"/,
    );
  });
});
