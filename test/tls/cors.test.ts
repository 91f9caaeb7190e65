// Browser access from public pages: both servers answer CORS preflights locally for any origin by default,
// Chrome's Private Network Access preflight included, and --allow-origin restricts requests, preflights and
// WebSocket upgrades to the listed origins (plus the server's own).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startRecorder, type Recorder } from '../../src/record/recorder.js';
import { startReplayer, type Replayer } from '../../src/replay/index.js';
import { loadCassette } from '../../src/cassette/load.js';
import { CorsError } from '../../src/net/cors.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { rawRequest, tryUpgrade } from './support.js';
import { tempDir } from '../support/fs.js';

const PUBLIC = 'https://public-page.example';
const OTHER = 'https://not-listed.example';
let emu: Emulator;
let tmp: Awaited<ReturnType<typeof tempDir>>;
let cassette: string;

before(async () => {
  emu = await startEmulator({});
  tmp = await tempDir();
  // A one-conversation cassette for the replay side.
  cassette = tmp.file('cors.json');
  const rec = await startRecorder({ upstream: emu.domain, cassette });
  await rawRequest(`${rec.domain}/conversations`, { method: 'POST', headers: { authorization: `Bearer ${emu.secret}` } });
  await rec.close();
});
after(async () => {
  await emu?.close();
  await tmp?.cleanup();
});

function preflight(domain: string, origin: string, pna = true) {
  return rawRequest(`${domain}/conversations`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type,x-ms-bot-agent',
      ...(pna ? { 'access-control-request-private-network': 'true' } : {}),
    },
  });
}

type Server = { domain: string; port: number; close(): Promise<void> };
const servers: Record<'recorder' | 'replay', (allowOrigin?: string[]) => Promise<Server>> = {
  recorder: async (allowOrigin) =>
    startRecorder({ upstream: emu.domain, cassette: tmp.file(`rec-${Math.random()}.json`), allowOrigin }) as Promise<Recorder>,
  replay: async (allowOrigin) => startReplayer({ cassette, speed: 0, allowOrigin }) as Promise<Replayer>,
};

for (const [name, start] of Object.entries(servers)) {
  describe(`${name}: CORS`, () => {
    it('answers a Private Network Access preflight from any origin by default', async () => {
      const s = await start();
      try {
        const pre = await preflight(s.domain, PUBLIC);
        assert.equal(pre.status, 204);
        assert.equal(pre.headers['access-control-allow-origin'], PUBLIC);
        assert.equal(pre.headers['access-control-allow-credentials'], 'true');
        assert.equal(pre.headers['access-control-allow-private-network'], 'true');
        assert.match(String(pre.headers['access-control-allow-methods']), /POST/);
        assert.equal(pre.headers['access-control-allow-headers'], 'authorization,content-type,x-ms-bot-agent');
        const noPna = await preflight(s.domain, OTHER, false);
        assert.equal(noPna.status, 204);
        assert.equal(noPna.headers['access-control-allow-private-network'], undefined, 'only when asked');

        const res = await rawRequest(`${s.domain}/conversations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${emu.secret}`, origin: PUBLIC },
        });
        assert.equal(res.status, 201);
        assert.equal(res.headers['access-control-allow-origin'], PUBLIC, "our CORS header, not the upstream's *");
      } finally {
        await s.close();
      }
    });

    it("--allow-origin: listed origins and the server's own pass; others get 403 on preflights, requests and upgrades", async () => {
      const s = await start([`${PUBLIC}/`]);
      try {
        const ok = await preflight(s.domain, PUBLIC);
        assert.equal(ok.status, 204);
        assert.equal(ok.headers['access-control-allow-origin'], PUBLIC);
        assert.equal(ok.headers['access-control-allow-private-network'], 'true');

        const bad = await preflight(s.domain, OTHER);
        assert.equal(bad.status, 403);
        assert.equal(bad.headers['access-control-allow-origin'], undefined);
        assert.equal(bad.headers['access-control-allow-private-network'], undefined);
        assert.equal(bad.json.error.code, 'OriginNotAllowed');

        const before = emu.requests.length;
        const refused = await rawRequest(`${s.domain}/conversations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${emu.secret}`, origin: OTHER },
        });
        assert.equal(refused.status, 403);
        assert.match(refused.json.error.message, /origin https:\/\/not-listed\.example is not allowed.*--allow-origin/);
        assert.equal(emu.requests.length, before, 'not forwarded');

        const own = await rawRequest(`${s.domain}/conversations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${emu.secret}`, origin: `http://127.0.0.1:${s.port}` },
        });
        assert.equal(own.status, 201, "the server's own origin (its demo page) is allowed");
        const listed = await rawRequest(`${s.domain}/conversations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${emu.secret}`, origin: PUBLIC },
        });
        assert.notEqual(listed.status, 403, 'a listed origin goes on');
        assert.equal(listed.headers['access-control-allow-origin'], PUBLIC);
        const noOrigin = await rawRequest(`${s.domain}/conversations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${emu.secret}` },
        });
        assert.notEqual(noOrigin.status, 403, 'clients without Origin are not affected');

        const streamUrl = own.json.streamUrl as string;
        const wsBad = await tryUpgrade(streamUrl, { origin: OTHER });
        assert.equal(wsBad.status, 403);
        assert.equal(wsBad.body.error.code, 'OriginNotAllowed');
        const wsOk = await tryUpgrade(streamUrl, { origin: PUBLIC });
        assert.equal(wsOk.status, 101);
        wsOk.ws!.close();
      } finally {
        await s.close();
      }
    });
  });
}

describe('recorder: preflights', () => {
  it('are answered locally: never forwarded, never recorded', async () => {
    const file = tmp.file('preflight.json');
    const rec = await startRecorder({ upstream: emu.domain, cassette: file });
    const before = emu.requests.length;
    try {
      assert.equal((await preflight(rec.domain, PUBLIC)).status, 204);
    } finally {
      await rec.close();
    }
    assert.equal(emu.requests.length, before);
    assert.equal((await loadCassette(file)).events.length, 0);
  });

  it('an --allow-origin that is not an origin is refused at start', async () => {
    await assert.rejects(startRecorder({ upstream: emu.domain, allowOrigin: ['https://x.example/path'] }), CorsError);
    await assert.rejects(startReplayer({ cassette, allowOrigin: ['not a url'] }), /--allow-origin "not a url" is not an origin/);
  });
});
