// multipart/form-data as replay reads uploads: the boundary from the header or the body, each part's
// headers, name, filename, type and exact bytes, and bodies it cannot parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { dispositionParam, findBoundary, isMultipart, parseMultipart } from '../../src/replay/multipart.js';

/** A multipart body as the platform's own FormData encoder writes it (what a browser or fetch sends). */
async function encode(form: FormData): Promise<{ body: Buffer; contentType: string }> {
  const res = new Response(form);
  return { body: Buffer.from(await res.arrayBuffer()), contentType: res.headers.get('content-type')! };
}

function handMade(boundary: string, parts: Array<{ head: string; body: Buffer | string }>): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(
      Buffer.from(`--${boundary}\r\n${p.head}\r\n\r\n`, 'latin1'),
      Buffer.isBuffer(p.body) ? p.body : Buffer.from(p.body),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

test('an upload as FormData encodes it: the activity part and every file, with their bytes intact', async () => {
  const bytes = randomBytes(4096); // any byte values, CR LF and dashes included
  const activity = { type: 'message', from: { id: 'u1' }, text: 'two files' };
  const form = new FormData();
  form.append('activity', new Blob([JSON.stringify(activity)], { type: 'application/vnd.microsoft.activity' }));
  form.append('file', new Blob([bytes], { type: 'image/png' }), 'photo.png');
  form.append('file', new Blob(['line1\r\n--not-the-boundary\r\nline3'], { type: 'text/plain' }), 'notes.txt');
  const { body, contentType } = await encode(form);

  assert.equal(isMultipart(contentType, body), true);
  const boundary = findBoundary(contentType, body);
  assert.ok(boundary && contentType.includes(boundary));
  const parts = parseMultipart(body, boundary);
  assert.equal(parts.length, 3);

  assert.equal(parts[0]!.name, 'activity');
  assert.equal(parts[0]!.contentType, 'application/vnd.microsoft.activity');
  assert.deepEqual(JSON.parse(parts[0]!.body.toString('utf8')), activity);

  assert.deepEqual([parts[1]!.name, parts[1]!.filename, parts[1]!.contentType], ['file', 'photo.png', 'image/png']);
  assert.ok(parts[1]!.body.equals(bytes), 'the binary file comes back byte for byte');

  assert.deepEqual([parts[2]!.name, parts[2]!.filename, parts[2]!.contentType], ['file', 'notes.txt', 'text/plain']);
  assert.equal(parts[2]!.body.toString('utf8'), 'line1\r\n--not-the-boundary\r\nline3');
  assert.equal(parts[2]!.headers['content-disposition'], 'form-data; name="file"; filename="notes.txt"');
});

test('two encodings of the same upload differ in bytes (random boundaries) but parse to the same parts', async () => {
  const make = () => {
    const form = new FormData();
    form.append('file', new Blob(['same content'], { type: 'text/plain' }), 'a.txt');
    return encode(form);
  };
  const [one, two] = await Promise.all([make(), make()]);
  assert.notDeepEqual(one.body, two.body);
  const partsOf = ({ body, contentType }: { body: Buffer; contentType: string }) =>
    parseMultipart(body, findBoundary(contentType, body)!).map((p) => [p.name, p.filename, p.contentType, p.body.toString()]);
  assert.deepEqual(partsOf(one), partsOf(two));
  assert.deepEqual(partsOf(one), [['file', 'a.txt', 'text/plain', 'same content']]);
});

test("findBoundary reads a quoted or bare boundary from Content-Type, else the body's first line", () => {
  const body = handMade('xyz', [{ head: 'Content-Disposition: form-data; name="file"; filename="f"', body: 'x' }]);
  assert.equal(findBoundary('multipart/form-data; boundary=abc123', body), 'abc123');
  assert.equal(findBoundary('multipart/form-data; boundary="with space"; charset=utf-8', body), 'with space');
  assert.equal(findBoundary('Multipart/Form-Data; BOUNDARY=Upper', body), 'Upper');
  assert.equal(findBoundary(undefined, body), 'xyz');
  assert.equal(findBoundary('multipart/form-data', body), 'xyz', 'a Content-Type without boundary falls back to the body');
  assert.equal(findBoundary(undefined, Buffer.from('{"type":"message"}')), undefined);
  assert.equal(findBoundary(undefined, Buffer.from('--')), undefined);
});

test('isMultipart trusts Content-Type when there is one, and otherwise looks for a delimiter line and a header block', () => {
  const body = handMade('b', [{ head: 'Content-Disposition: form-data; name="file"', body: 'x' }]);
  assert.equal(isMultipart('multipart/form-data; boundary=b', body), true);
  assert.equal(isMultipart('  MULTIPART/mixed', Buffer.alloc(0)), true);
  assert.equal(isMultipart('image/png', body), false, 'a raw single-file upload says what it is');
  assert.equal(isMultipart(undefined, body), true);
  assert.equal(isMultipart(undefined, Buffer.from('--b\r\nno header block')), false);
  assert.equal(isMultipart(undefined, Buffer.from('plain bytes')), false);
});

test('parseMultipart: parts without headers or bodies, lower-cased header names, and bodies it cannot parse', () => {
  const body = handMade('B', [
    { head: 'CONTENT-DISPOSITION: form-data; name=bare\r\nContent-Type: text/plain', body: '' },
    { head: 'X-Extra: 1', body: 'no disposition' },
  ]);
  const parts = parseMultipart(body, 'B');
  assert.equal(parts.length, 2);
  assert.equal(parts[0]!.name, 'bare');
  assert.equal(parts[0]!.filename, undefined);
  assert.equal(parts[0]!.contentType, 'text/plain');
  assert.equal(parts[0]!.body.length, 0);
  assert.deepEqual(parts[1]!.headers, { 'x-extra': '1' });
  assert.equal(parts[1]!.name, undefined);
  assert.equal(parts[1]!.body.toString(), 'no disposition');

  assert.deepEqual(parseMultipart(Buffer.from('no delimiter at all'), 'B'), []);
  assert.deepEqual(parseMultipart(Buffer.from('--B\r\nContent-Type: x\r\n\r\ntruncated, never closed'), 'B'), []);
  assert.deepEqual(parseMultipart(body, 'other-boundary'), []);
  assert.deepEqual(parseMultipart(Buffer.from('--B--\r\n'), 'B'), [], 'only the closing delimiter');
});

test('dispositionParam: quoted and bare values, any case, and name is not read out of filename', () => {
  const d = 'form-data; filename="my name.txt"; name="file"';
  assert.equal(dispositionParam(d, 'name'), 'file');
  assert.equal(dispositionParam(d, 'filename'), 'my name.txt');
  assert.equal(dispositionParam('attachment; FILENAME=report.pdf', 'filename'), 'report.pdf');
  assert.equal(dispositionParam('form-data; name = spaced ; filename=""', 'name'), 'spaced');
  assert.equal(dispositionParam('form-data; name = spaced ; filename=""', 'filename'), '');
  assert.equal(dispositionParam('form-data; name="file"', 'filename'), undefined);
  assert.equal(dispositionParam(undefined, 'name'), undefined);
});
