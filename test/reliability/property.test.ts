// Property-based tests (fast-check) of the two places where arbitrary input meets the code:
//  1. the cassette loader: any text, any JSON value, any mutation of a valid cassette either validates or throws
//     CassetteError (never another error); what validates also indexes for replay without throwing; a generated
//     valid cassette round-trips through stringifyCassette + parseCassette unchanged;
//  2. request matching in replay: replaying the recorded user messages matches everything, and one changed text
//     gives exactly one mismatch, whose body names the text the cassette expected.
// DLVCR_PROPERTY_RUNS scales the number of runs (default 1 = the counts below); FC_SEED replays a failure.
import { ROUTE_NAMES } from '../../src/protocol/routes.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CassetteError, parseCassette, validateCassette } from '../../src/cassette/load.js';
import { stringifyCassette } from '../../src/cassette/serialize.js';
import type { Body, Cassette, CassetteEvent } from '../../src/cassette/schema.js';
import { Catalog } from '../../src/replay/catalog.js';
import { startReplayer } from '../../src/replay/index.js';
import { CassetteBuilder, ConversationScript, errorsCassette, pollingCassette, uploadCassette, wsCassette } from '../replay/fixtures.js';
import { call } from '../support/http.js';
import { envNumber } from './env.js';

const SCALE = envNumber('DLVCR_PROPERTY_RUNS', 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const seed = process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {};

/** Loads text as a cassette: returns 'valid' or 'refused', and fails the property on any other outcome. */
function loadOutcome(text: string): 'valid' | 'refused' {
  let c: Cassette;
  try {
    c = parseCassette(text, 'prop.json');
  } catch (err) {
    if (err instanceof CassetteError) {
      assert.equal(err.file, 'prop.json');
      assert.ok(err.message.startsWith('prop.json: '));
      return 'refused';
    }
    throw new Error(`parseCassette threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
  }
  // Whatever validates must also be indexable by the replayer.
  new Catalog(c);
  return 'valid';
}

// ---------- 1. the loader ----------

const VALID_FIXTURES: Cassette[] = [
  wsCassette(),
  wsCassette({ refusedHandshake: true }),
  pollingCassette(),
  errorsCassette(),
  uploadCassette(),
];

test('any text or JSON value: parseCassette returns a cassette or throws CassetteError', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
      loadOutcome(s);
    }),
    { numRuns: runs(300), ...seed },
  );
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
      loadOutcome(JSON.stringify(v) ?? 'null');
    }),
    { numRuns: runs(300), ...seed },
  );
  // Values shaped like a cassette header with arbitrary parts.
  fc.assert(
    fc.property(
      fc.record(
        {
          version: fc.oneof(fc.constant(1), fc.jsonValue({ maxDepth: 1 })),
          tool: fc.oneof(fc.constant({ name: 'directline-vcr', version: '0.1.0' }), fc.jsonValue({ maxDepth: 2 })),
          createdAt: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 1 })),
          upstream: fc.oneof(fc.constant({ origin: 'http://x', basePath: '/v3/directline' }), fc.jsonValue({ maxDepth: 2 })),
          redaction: fc.oneof(fc.constant({ placeholders: {} }), fc.jsonValue({ maxDepth: 2 })),
          events: fc.oneof(fc.constant([]), fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 4 })),
        },
        { requiredKeys: [] },
      ),
      (v) => {
        loadOutcome(JSON.stringify(v));
      },
    ),
    { numRuns: runs(300), ...seed },
  );
  // validateCassette takes any value, JSON or not.
  fc.assert(
    fc.property(fc.anything({ maxDepth: 3 }), (v) => {
      try {
        validateCassette(v, 'prop.json');
      } catch (err) {
        if (!(err instanceof CassetteError))
          throw new Error(`validateCassette threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
      }
    }),
    { numRuns: runs(300), ...seed },
  );
});

type Path = Array<string | number>;

/** Every path to a value inside a JSON tree (objects and arrays included). */
function pathsOf(v: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(v)) for (const [i, x] of v.entries()) pathsOf(x, [...prefix, i], out);
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) pathsOf(x, [...prefix, k], out);
  return out;
}

function parentOf(root: unknown, path: Path): { parent: any; key: string | number } | null {
  if (path.length === 0) return null;
  let node: any = root;
  for (const k of path.slice(0, -1)) node = node[k];
  return { parent: node, key: path[path.length - 1]! };
}

type Mutation =
  | { kind: 'delete'; pick: number }
  | { kind: 'replace'; pick: number; value: unknown }
  | { kind: 'retype'; pick: number }
  | { kind: 'add'; pick: number; key: string; value: unknown }
  | { kind: 'swapEvents'; a: number; b: number }
  | { kind: 'duplicateEvent'; a: number };

const weirdKey = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'type', 't', 'json', 'text', 'base64', ''),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({
    kind: fc.constant('replace' as const),
    pick: fc.nat(),
    value: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.double(), fc.constantFrom(-1, 0, 1e308, -0.5, 2 ** 53 + 1, '', 'DLVCR_TOKEN_1')),
  }),
  fc.record({ kind: fc.constant('retype' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('add' as const), pick: fc.nat(), key: weirdKey, value: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ kind: fc.constant('swapEvents' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('duplicateEvent' as const), a: fc.nat() }),
);

function mutate(root: any, m: Mutation): void {
  const paths = pathsOf(root);
  const events: unknown[] = Array.isArray(root.events) ? root.events : [];
  switch (m.kind) {
    case 'delete': {
      const p = parentOf(root, paths[m.pick % paths.length]!);
      if (!p) return;
      if (Array.isArray(p.parent)) p.parent.splice(p.key as number, 1);
      else delete p.parent[p.key];
      return;
    }
    case 'replace': {
      const p = parentOf(root, paths[m.pick % paths.length]!);
      if (p) p.parent[p.key] = m.value;
      return;
    }
    case 'retype': {
      const p = parentOf(root, paths[m.pick % paths.length]!);
      if (!p) return;
      const v = p.parent[p.key];
      p.parent[p.key] =
        typeof v === 'number'
          ? String(v)
          : typeof v === 'string'
            ? Number(v) || v.length
            : v === null
              ? {}
              : Array.isArray(v)
                ? { ...v }
                : typeof v === 'object'
                  ? [v]
                  : null;
      return;
    }
    case 'add': {
      const target = paths[m.pick % paths.length]!;
      let node: any = root;
      for (const k of target) node = node[k];
      if (node && typeof node === 'object' && !Array.isArray(node))
        Object.defineProperty(node, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      else if (Array.isArray(node)) node.push(m.value);
      return;
    }
    case 'swapEvents': {
      if (events.length < 2) return;
      const a = m.a % events.length;
      const b = m.b % events.length;
      [events[a], events[b]] = [events[b], events[a]];
      return;
    }
    case 'duplicateEvent': {
      if (events.length === 0) return;
      const a = m.a % events.length;
      events.splice(a, 0, structuredClone(events[a]));
    }
  }
}

test('arbitrary mutations of valid cassettes: they validate or throw CassetteError, and what validates indexes for replay', () => {
  let valid = 0;
  let refused = 0;
  fc.assert(
    fc.property(fc.nat({ max: VALID_FIXTURES.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (which, ms) => {
      const root = structuredClone(VALID_FIXTURES[which]!) as any;
      for (const m of ms) mutate(root, m);
      if (loadOutcome(JSON.stringify(root)) === 'valid') valid++;
      else refused++;
    }),
    { numRuns: runs(400), ...seed },
  );
  // Text-level damage: truncation, a byte flipped, a slice cut out or repeated.
  fc.assert(
    fc.property(
      fc.nat({ max: VALID_FIXTURES.length - 1 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.constantFrom('truncate', 'flip', 'cut', 'repeat'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }),
      (which, x, y, how, ch) => {
        const text = stringifyCassette(VALID_FIXTURES[which]!);
        const i = Math.floor(x * text.length);
        const j = Math.min(text.length, i + 1 + Math.floor(y * 200));
        const damaged =
          how === 'truncate'
            ? text.slice(0, i)
            : how === 'flip'
              ? text.slice(0, i) + ch + text.slice(i + 1)
              : how === 'cut'
                ? text.slice(0, i) + text.slice(j)
                : text.slice(0, j) + text.slice(i, j) + text.slice(j);
        if (loadOutcome(damaged) === 'valid') valid++;
        else refused++;
      },
    ),
    { numRuns: runs(400), ...seed },
  );
  assert.ok(valid > 0 && refused > 0, `the mutations reach both outcomes (valid ${valid}, refused ${refused})`);
});

// Generators of schema-valid cassettes, for the round trip.
const key = fc.oneof(
  { weight: 5, arbitrary: fc.string({ maxLength: 10 }) },
  { weight: 1, arbitrary: fc.constantFrom('constructor', 'hasOwnProperty', 'toString', 'valueOf') },
);
const strRecord = fc.dictionary(key, fc.string({ maxLength: 20 }), { maxKeys: 4 });
const body: fc.Arbitrary<Body> = fc.oneof(
  fc.constant(null),
  fc.record({ json: fc.jsonValue({ maxDepth: 4 }) }),
  fc.record({ text: fc.string({ unit: 'binary', maxLength: 40 }) }),
  fc.record({ base64: fc.base64String({ maxLength: 40 }) }),
);
const ms = fc.double({ min: 0, max: 1e7, noNaN: true, noDefaultInfinity: true });
const conversationId = fc.option(fc.string({ maxLength: 12 }), { nil: null });
const socketNo = fc.nat({ max: 20 });
const response = fc.record({ status: fc.integer({ min: 100, max: 599 }), headers: strRecord, body });

const eventWithoutT: fc.Arbitrary<Omit<CassetteEvent, 't'>> = fc.oneof(
  fc.record(
    {
      type: fc.constant('http' as const),
      conversationId,
      route: fc.constantFrom(...ROUTE_NAMES),
      request: fc.record({
        method: fc.constantFrom('GET', 'POST', 'OPTIONS', 'weird'),
        path: fc.string({ maxLength: 30 }),
        query: strRecord,
        headers: strRecord,
        body,
      }),
      response: fc.option(response, { nil: null }),
      error: fc.record({ code: fc.string({ maxLength: 10 }), message: fc.string({ maxLength: 30 }) }),
      duration: ms,
    },
    { requiredKeys: ['type', 'conversationId', 'route', 'request', 'response', 'duration'] },
  ),
  fc.record(
    {
      type: fc.constant('ws.open' as const),
      conversationId,
      socket: socketNo,
      path: fc.string({ maxLength: 30 }),
      query: strRecord,
      status: fc.integer({ min: 100, max: 599 }),
      response,
    },
    { requiredKeys: ['type', 'conversationId', 'socket', 'path', 'query', 'status'] },
  ),
  fc.record({
    type: fc.constant('ws.message' as const),
    conversationId,
    socket: socketNo,
    from: fc.constantFrom('server' as const, 'client' as const),
    data: fc.oneof(
      fc.record({ json: fc.jsonValue({ maxDepth: 4 }), text: fc.string({ maxLength: 20 }) }, { requiredKeys: ['json'] }),
      fc.record({ text: fc.string({ unit: 'binary', maxLength: 40 }) }),
      fc.record({ base64: fc.base64String({ maxLength: 40 }) }),
    ),
  }),
  fc.record({
    type: fc.constant('ws.close' as const),
    conversationId,
    socket: socketNo,
    by: fc.constantFrom('server' as const, 'client' as const, 'proxy' as const),
    code: fc.integer({ min: 0, max: 65535 }),
    reason: fc.string({ maxLength: 20 }),
  }),
) as fc.Arbitrary<Omit<CassetteEvent, 't'>>;

const cassette: fc.Arbitrary<Cassette> = fc
  .record(
    {
      $schema: fc.string({ maxLength: 20 }),
      tool: fc.record({ name: fc.string({ maxLength: 10 }), version: fc.string({ maxLength: 10 }) }),
      createdAt: fc.string({ maxLength: 30 }),
      upstream: fc.record({ origin: fc.string({ maxLength: 30 }), basePath: fc.string({ maxLength: 20 }) }),
      placeholders: strRecord,
      events: fc.array(fc.tuple(ms, eventWithoutT), { maxLength: 12 }),
    },
    { requiredKeys: ['tool', 'createdAt', 'upstream', 'placeholders', 'events'] },
  )
  .map(({ $schema, tool, createdAt, upstream, placeholders, events }) => {
    let t = 0;
    const out: Cassette = {
      ...($schema !== undefined ? { $schema } : {}),
      version: 1,
      tool,
      createdAt,
      upstream,
      redaction: { placeholders },
      events: events.map(([gap, e]) => ({ ...e, t: (t += gap) }) as CassetteEvent),
    };
    return out;
  });

test('generated valid cassettes round-trip through stringifyCassette + parseCassette unchanged', () => {
  fc.assert(
    fc.property(cassette, (c) => {
      const text = stringifyCassette(c);
      const parsed = parseCassette(text, 'round-trip.json');
      // The text holds exactly the generated data (JSON.stringify is the reference) ...
      assert.deepStrictEqual(JSON.parse(text), JSON.parse(JSON.stringify(c)));
      // ... and loading it gives back exactly what the text says: nothing dropped, added or reshaped by validation.
      assert.deepStrictEqual(parsed, JSON.parse(text));
      // Writing it again is stable: loading puts keys in schema order, after which text → load → text is byte-identical.
      const normal = stringifyCassette(parsed);
      assert.equal(stringifyCassette(parseCassette(normal, 'again.json')), normal);
      new Catalog(parsed);
    }),
    { numRuns: runs(300), ...seed },
  );
});

// Found by the round trip above: zod's copy of a record (headers, query, redaction.placeholders) dropped a key named
// "__proto__"; loading now returns the validated input itself, where JSON.parse keeps it as data.
test('a header, query parameter or placeholder named "__proto__" survives loading', () => {
  const c = wsCassette();
  const text = stringifyCassette(c)
    .replace('"placeholders": {', '"placeholders": {"__proto__": "token", ')
    .replace('"query":{"watermark":"-"', '"query":{"__proto__":"x","watermark":"-"');
  const parsed = parseCassette(text, 'proto.json');
  assert.deepStrictEqual(parsed, JSON.parse(text));
});

// ---------- 2. request matching in replay ----------

const CONV = 'PropConvAAAAAAAAAAAAAAAA-us';

function recordedConversation(texts: string[]): Cassette {
  const b = new CassetteBuilder();
  const c = new ConversationScript(b, CONV);
  c.generate(0);
  c.start(40);
  c.open(120);
  c.frame(180, [c.bot('Welcome')], '0');
  let t = 300;
  let wm = 1;
  texts.forEach((text, k) => {
    const echo = c.post(t, text, { duration: 20 });
    c.frame(t + 5, [echo], String(wm++));
    c.frame(t + 10, [c.bot(`reply ${k}`, { replyToId: echo.id })], String(wm++));
    t += 100;
  });
  c.close(t, 'client', 1005);
  return b.build();
}

const userText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    'hello',
    'Hello',
    'hello ',
    'burst 3',
    'DLVCR_TOKEN_1',
    CONV,
    `${CONV}|0000001`,
    '{"text":"x"}',
    '\u0000',
    '\ud800',
    'é',
    'e\u0301',
  ),
);

test('replay matching: the recorded messages always match; one changed text gives exactly one mismatch naming the expected text', {
  timeout: 120_000,
}, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(userText, { minLength: 1, maxLength: 6 }), fc.nat(), userText, async (texts, at, replacement) => {
      const k = at % texts.length;
      fc.pre(replacement !== texts[k]);
      const r = await startReplayer({ cassette: recordedConversation(texts), speed: 0 });
      try {
        const session = async (userId: string) => {
          const gen = await call(r.domain, 'POST', '/tokens/generate', { bearer: 'live-secret', body: { user: { id: userId } } });
          assert.equal(gen.status, 200, gen.text);
          const st = await call(r.domain, 'POST', '/conversations', { bearer: gen.json.token, body: { user: { id: userId } } });
          assert.equal(st.status, 201, st.text);
          return (text: string, n: number) =>
            call(r.domain, 'POST', `/conversations/${encodeURIComponent(st.json.conversationId)}/activities`, {
              bearer: st.json.token,
              body: { type: 'message', text, from: { id: userId, role: 'user' }, channelData: { clientActivityID: `${userId}-${n}` } },
            });
        };
        // The same sequence: everything matches.
        const same = await session('dl_same');
        for (const [n, text] of texts.entries()) {
          const res = await same(text, n);
          assert.equal(res.status, 200, `recorded text ${JSON.stringify(text)} → ${res.status} ${res.text}`);
        }
        assert.equal(r.summary().unmatched, 0);

        // One text changed: exactly that request is refused, with the expected text in the body; then the client
        // can go on with the recorded texts.
        const changed = await session('dl_changed');
        for (let n = 0; n < k; n++) assert.equal((await changed(texts[n]!, n)).status, 200);
        const bad = await changed(replacement, k);
        assert.equal(bad.status, 400, bad.text);
        assert.equal(bad.json.error.code, 'ReplayMismatch');
        assert.equal(bad.json.replay.expected.activity.text, texts[k]);
        assert.equal(bad.json.replay.received.activity.text, replacement);
        assert.ok(
          bad.json.error.message.includes(JSON.stringify(texts[k])),
          `the message names the expected text: ${bad.json.error.message}`,
        );
        for (let n = k; n < texts.length; n++)
          assert.equal((await changed(texts[n]!, n)).status, 200, `recorded text ${n} after the mismatch`);
        const s = r.summary();
        assert.equal(s.unmatched, 1);
        assert.equal(s.unmatchedRequests[0]!.route, 'activities.post');
      } finally {
        await r.close();
      }
    }),
    { numRuns: runs(30), ...seed },
  );
});
