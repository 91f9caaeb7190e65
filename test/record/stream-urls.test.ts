// streamUrl rewriting in the recorder: the client gets a URL on the proxy (same path and query), and the
// proxy opens the upstream socket exactly at the URL the service handed out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamUrls, rewriteStreamUrls } from '../../src/record/stream-urls.js';

const PROXY = 'ws://127.0.0.1:4978';
const PATH = '/v3/directline/conversations/FBfS-us/stream?watermark=-&t=eyJ.stream.token';

test('rewrite keeps path and query on the proxy origin; resolve gives back the upstream URL as a ws(s) URL', () => {
  const urls = new StreamUrls();
  const rewritten = urls.rewrite(`wss://directline.botframework.com${PATH}`, PROXY);
  assert.equal(rewritten, `${PROXY}${PATH}`);
  assert.equal(urls.resolve(PATH, 'ws://fallback.invalid'), `wss://directline.botframework.com${PATH}`);
});

test('an https:// or http:// streamUrl (as the docs show) is dialled as wss:// or ws://', () => {
  const urls = new StreamUrls();
  const a = '/v3/directline/conversations/a/stream?t=1';
  const b = '/directline/conversations/b/stream?watermark=7&t=2';
  assert.equal(urls.rewrite(`https://europe.directline.botframework.com${a}`, PROXY), PROXY + a);
  assert.equal(urls.rewrite(`http://127.0.0.1:3000${b}`, 'wss://localhost:8443'), `wss://localhost:8443${b}`);
  assert.equal(urls.resolve(a, 'ws://x'), `wss://europe.directline.botframework.com${a}`);
  assert.equal(urls.resolve(b, 'ws://x'), `ws://127.0.0.1:3000${b}`);
});

test('a path the upstream never handed out resolves on the fallback origin; a changed query is a different URL', () => {
  const urls = new StreamUrls();
  urls.rewrite(`wss://directline.botframework.com${PATH}`, PROXY);
  assert.equal(
    urls.resolve('/v3/directline/conversations/other/stream?t=x', 'wss://up.example'),
    'wss://up.example/v3/directline/conversations/other/stream?t=x',
  );
  const tampered = PATH.replace('watermark=-', 'watermark=5');
  assert.equal(urls.resolve(tampered, 'wss://up.example'), `wss://up.example${tampered}`);
});

test('a reconnect for the same path and query replaces the remembered upstream URL', () => {
  const urls = new StreamUrls();
  urls.rewrite(`wss://old.example${PATH}`, PROXY);
  urls.rewrite(`wss://new.example${PATH}`, PROXY);
  assert.equal(urls.resolve(PATH, 'ws://x'), `wss://new.example${PATH}`);
});

test('a value that is no URL is passed through unchanged and remembered nowhere', () => {
  const urls = new StreamUrls();
  assert.equal(urls.rewrite('not a url', PROXY), 'not a url');
  assert.equal(urls.rewrite('', PROXY), '');
  assert.equal(urls.resolve('not a url', 'ws://fallback'), 'ws://fallbacknot a url');
});

test('rewriteStreamUrls rewrites every streamUrl property, any case and any depth, and says whether it changed anything', () => {
  const body = {
    conversationId: 'c',
    streamUrl: 'wss://up/a',
    nested: { StreamURL: 'wss://up/b', list: [{ streamurl: 'wss://up/c' }] },
    other: 'wss://up/not-a-stream-url-key',
    streamUrlCount: 3,
  };
  const seen: string[] = [];
  const changed = rewriteStreamUrls(body, (u) => {
    seen.push(u);
    return u.replace('wss://up', 'ws://proxy');
  });
  assert.equal(changed, true);
  assert.deepEqual(seen.sort(), ['wss://up/a', 'wss://up/b', 'wss://up/c']);
  assert.equal(body.streamUrl, 'ws://proxy/a');
  assert.equal(body.nested.StreamURL, 'ws://proxy/b');
  assert.equal(body.nested.list[0]!.streamurl, 'ws://proxy/c');
  assert.equal(body.other, 'wss://up/not-a-stream-url-key');
  assert.equal(body.streamUrlCount, 3);
});

test('rewriteStreamUrls reports false when nothing changed, and leaves non-objects alone', () => {
  const body = { streamUrl: 'ws://proxy/a', token: 't' };
  assert.equal(
    rewriteStreamUrls(body, (u) => u),
    false,
  );
  assert.deepEqual(body, { streamUrl: 'ws://proxy/a', token: 't' });
  assert.equal(
    rewriteStreamUrls({ activities: [] }, () => 'x'),
    false,
  );
  assert.equal(
    rewriteStreamUrls(null, () => 'x'),
    false,
  );
  assert.equal(
    rewriteStreamUrls('wss://up/a', () => 'x'),
    false,
  );
  assert.equal(
    rewriteStreamUrls({ streamUrl: 42 }, () => 'x'),
    false,
  );
});
