// The inspector's HTTP side: its own paths only (Direct Line routes untouched), loopback only by default
// (remote address and Host name), the live channel as Server-Sent Events: a snapshot, then what changed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../emulator/index.js';
import { tempDir } from '../support/fs.js';
import { startRecorder } from '../../src/record/recorder.js';
import { startReplayer } from '../../src/replay/index.js';
import { startInspector } from '../../src/index.js'; // the package's own export
import type { InspectorView, LiveMessage } from '../../src/inspector/view.js';

const DEMO = fileURLToPath(new URL('../../recordings/demo.json', import.meta.url));

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body, type: String(res.headers['content-type']) }));
      })
      .on('error', reject);
  });
}

/** Reads Server-Sent Events until `until` accepts the messages so far. */
function readEvents(url: string, until: (msgs: LiveMessage[]) => boolean, timeoutMs = 10_000): Promise<LiveMessage[]> {
  return new Promise((resolve, reject) => {
    const msgs: LiveMessage[] = [];
    const req = http.get(url, (res) => {
      assert.match(String(res.headers['content-type']), /^text\/event-stream/);
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const chunk = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = chunk
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6))
            .join('\n');
          if (data) msgs.push(JSON.parse(data) as LiveMessage);
        }
        if (until(msgs)) {
          clearTimeout(timer);
          req.destroy();
          resolve(msgs);
        }
      });
    });
    req.on('error', () => {});
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`SSE: timed out with ${msgs.length} messages`));
    }, timeoutMs);
  });
}

describe('the inspector handler', () => {
  it('serves the page, its modules and the view; refuses a non-loopback Host name', async () => {
    const insp = await startInspector({ cassettes: [DEMO], bundle: null });
    try {
      const page = await get(insp.url);
      assert.equal(page.status, 200);
      assert.match(page.body, /<script type="module" src="\.\/page\/main\.js">/);
      const main = await get(`${insp.url}page/main.js`);
      assert.equal(main.status, 200);
      assert.match(main.type, /text\/javascript/);
      assert.doesNotMatch(main.body, /: InspectorView|import type/, 'types are stripped');
      assert.equal((await get(`${insp.url}page/..%2Fhandler.js`)).status, 404);
      const view = JSON.parse((await get(`${insp.url}api/view`)).body) as InspectorView;
      assert.equal(view.live, null);
      assert.equal(view.webChat, false);
      assert.ok(view.rows.length > 10);
      // DNS rebinding: a page elsewhere that resolves its own name to 127.0.0.1 is not served.
      const rebound = await get(`${insp.url}api/view`, { host: `evil.example:${insp.port}` });
      assert.equal(rebound.status, 403);
      assert.match(rebound.body, /loopback host name/);
      assert.equal((await get(`${insp.url}api/view`, { host: `localhost:${insp.port}` })).status, 200);
      assert.equal((await get(`${insp.url}api/live`)).status, 404, 'no live channel for cassette files');
    } finally {
      await insp.close();
    }
  });

  it('on a replay: lives under /_vcr/ beside the Direct Line routes, and is off unless asked for', async () => {
    const off = await startReplayer({ cassette: DEMO, speed: 0 });
    try {
      assert.equal(off.inspectorUrl, null);
      assert.equal((await get(`${off.url}/_vcr/api/view`)).status, 404);
    } finally {
      await off.close();
    }
    const vcr = await startReplayer({ cassette: DEMO, speed: 0, inspector: true });
    try {
      assert.equal((await get(`${vcr.url}/_vcr`)).status, 308);
      const view = JSON.parse((await get(`${vcr.inspectorUrl}api/view`)).body) as InspectorView;
      assert.equal(view.live, 'replay');
      const got = readEvents(`${vcr.inspectorUrl}api/live`, (m) =>
        m.some((x) => x.type === 'update' && x.rows.some((r) => r.kind === 'session')),
      );
      const start = await fetch(`${vcr.domain}/tokens/generate`, { method: 'POST', headers: { authorization: 'Bearer x' } });
      assert.equal(start.status, 200, 'the Direct Line route still answers');
      const msgs = await got;
      assert.equal(msgs[0].type, 'snapshot');
      const update = msgs.find((m) => m.type === 'update' && m.rows.some((r) => r.kind === 'session'));
      assert.ok(update && update.type === 'update' && update.conversations.some((c) => c.live));
    } finally {
      await vcr.close();
    }
  });

  it('on a recorder: the live channel sends each captured exchange, with placeholders, never the secret', async () => {
    const emu = await startEmulator();
    const dir = await tempDir('dlvcr-inspector-');
    const rec = await startRecorder({ upstream: emu.domain, cassette: dir.file('c.json'), inspector: true });
    try {
      const got = readEvents(`${rec.inspectorUrl}api/live`, (m) =>
        m.some((x) => x.type === 'update' && x.rows.some((r) => r.route === 'conversations.start')),
      );
      const res = await fetch(`${rec.domain}/conversations`, { method: 'POST', headers: { authorization: `Bearer ${emu.secret}` } });
      assert.equal(res.status, 201);
      const msgs = await got;
      const row = msgs.flatMap((m) => (m.type === 'update' ? m.rows : [])).find((r) => r.route === 'conversations.start')!;
      const detail = await get(`${rec.inspectorUrl}api/detail?row=${row.key}`);
      assert.equal(detail.status, 200);
      assert.ok(!detail.body.includes(emu.secret), 'the secret is not served');
      assert.match(detail.body, /Bearer DLVCR_SECRET_1/);
      assert.match(detail.body, /"DLVCR_SECRET_1":"secret"/);
    } finally {
      await rec.close();
      await emu.close();
      await dir.cleanup();
    }
  });
});
