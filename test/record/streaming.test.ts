// Answers that need no rewrite reach the client as they arrive (not after the upstream's last byte), and the
// cassette still holds the whole body; answers that carry a streamUrl are still rewritten (http.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startRecorder } from '../../src/record/recorder.js';
import { loadCassette } from '../../src/cassette/load.js';
import { within } from '../support/async.js';
import { tempDir } from '../support/fs.js';
import { httpEvents } from './helpers.js';

test('a send answer is streamed to the client: its first bytes arrive before the upstream has finished', async () => {
  let held: ServerResponse | null = null;
  const upstream = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.write('{"id":"conv-1|');
    held = res; // the rest only once the client has seen the first part
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const tmp = await tempDir();
  const file = tmp.file('c.json');
  const rec = await startRecorder({
    upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v3/directline`,
    cassette: file,
  });
  try {
    const body = await within(
      new Promise<string>((resolve, reject) => {
        const req = request(
          `${rec.domain}/conversations/conv-1/activities`,
          { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer x' } },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => {
              text += d;
              if (held && text === '{"id":"conv-1|') held.end('0000001"}'); // the first part came through on its own
            });
            res.on('end', () => resolve(text));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ type: 'message', text: 'hi' }));
      }),
      'the streamed answer',
    );
    assert.equal(body, '{"id":"conv-1|0000001"}');
    await rec.close();
    const [ev] = httpEvents(await loadCassette(file));
    assert.equal(ev?.route, 'activities.post');
    assert.deepEqual(ev?.response?.body, { json: { id: 'conv-1|0000001' } });
  } finally {
    await rec.close();
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
    await tmp.cleanup();
  }
});
