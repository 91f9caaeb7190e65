// The route table: every Direct Line 3.0 route by method and path below the base path, what is not a route,
// conversation ids as the path carries them, and the base-path helpers both servers use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchRoute, normaliseBasePath, stripBase } from '../../src/protocol/routes.js';

const CONV = 'FBfS7aBcDeFgHiJkLmNoP-us';

test('matchRoute names every Direct Line route, with the conversation id where the path has one', () => {
  const cases: Array<[method: string, path: string, route: string, conversationId: string | null]> = [
    ['POST', '/tokens/generate', 'tokens.generate', null],
    ['POST', '/tokens/refresh', 'tokens.refresh', null],
    ['POST', '/conversations', 'conversations.start', null],
    ['GET', `/conversations/${CONV}`, 'conversations.reconnect', CONV],
    ['POST', `/conversations/${CONV}/activities`, 'activities.post', CONV],
    ['GET', `/conversations/${CONV}/activities`, 'activities.get', CONV],
    ['POST', `/conversations/${CONV}/upload`, 'upload', CONV],
    ['GET', `/conversations/${CONV}/stream`, 'stream', CONV],
    ['GET', '/session/getsessionid', 'session.getsessionid', null],
  ];
  for (const [method, path, route, conversationId] of cases) {
    assert.deepEqual(matchRoute(method, path), { route, conversationId }, `${method} ${path}`);
  }
});

test('matchRoute ignores the method case and empty path segments (double and trailing slashes)', () => {
  assert.deepEqual(matchRoute('post', '/conversations/'), { route: 'conversations.start', conversationId: null });
  assert.deepEqual(matchRoute('get', `//conversations//${CONV}//activities/`), { route: 'activities.get', conversationId: CONV });
  assert.deepEqual(matchRoute('Post', '/tokens/generate/'), { route: 'tokens.generate', conversationId: null });
});

test('matchRoute decodes the conversation id; a malformed escape is kept as it came', () => {
  assert.deepEqual(matchRoute('POST', '/conversations/a%7Cb%20c/activities'), { route: 'activities.post', conversationId: 'a|b c' });
  assert.deepEqual(matchRoute('GET', '/conversations/bad%ZZid'), { route: 'conversations.reconnect', conversationId: 'bad%ZZid' });
});

test('the wrong method on a known path is unknown, and keeps the conversation id so it can still be grouped', () => {
  assert.deepEqual(matchRoute('GET', '/tokens/generate'), { route: 'unknown', conversationId: null });
  assert.deepEqual(matchRoute('PUT', '/tokens/refresh'), { route: 'unknown', conversationId: null });
  assert.deepEqual(matchRoute('GET', '/conversations'), { route: 'unknown', conversationId: null });
  assert.deepEqual(matchRoute('POST', '/session/getsessionid'), { route: 'unknown', conversationId: null });
  assert.deepEqual(matchRoute('DELETE', `/conversations/${CONV}`), { route: 'unknown', conversationId: CONV });
  assert.deepEqual(matchRoute('GET', `/conversations/${CONV}/upload`), { route: 'unknown', conversationId: CONV });
  assert.deepEqual(matchRoute('POST', `/conversations/${CONV}/stream`), { route: 'unknown', conversationId: CONV });
  assert.deepEqual(matchRoute('PUT', `/conversations/${CONV}/activities`), { route: 'unknown', conversationId: CONV });
});

test('paths that are no Direct Line route are unknown', () => {
  for (const path of ['/', '', '/tokens', '/tokens/generate/extra', '/session', '/v3/directline/conversations', '/favicon.ico']) {
    assert.equal(matchRoute('POST', path).route, 'unknown', `POST ${JSON.stringify(path)}`);
    assert.equal(matchRoute('GET', path).route, 'unknown', `GET ${JSON.stringify(path)}`);
  }
  // Deeper below a conversation: not a route, but it is that conversation's.
  assert.deepEqual(matchRoute('GET', `/conversations/${CONV}/activities/123`), { route: 'unknown', conversationId: CONV });
  assert.deepEqual(matchRoute('GET', `/conversations/${CONV}/members`), { route: 'unknown', conversationId: CONV });
  // The attachment route exists only for paths the upstream handed out; matchRoute never returns it.
  assert.equal(matchRoute('GET', '/attachments/abc/views/original').route, 'unknown');
});

test('stripBase: the path below the base, "/" for the base itself, null outside it', () => {
  assert.equal(stripBase('/v3/directline/conversations', '/v3/directline'), '/conversations');
  assert.equal(stripBase('/v3/directline/conversations/x/stream', '/v3/directline/'), '/conversations/x/stream');
  assert.equal(stripBase('/v3/directline', '/v3/directline'), '/');
  assert.equal(stripBase('/v3/directline/', '/v3/directline'), '/');
  // A longer segment that merely starts with the base is outside it.
  assert.equal(stripBase('/v3/directlinex/conversations', '/v3/directline'), null);
  assert.equal(stripBase('/directline/conversations', '/v3/directline'), null);
  assert.equal(stripBase('/', '/v3/directline'), null);
});

test('stripBase with the root as base returns the path unchanged', () => {
  assert.equal(stripBase('/conversations', ''), '/conversations');
  assert.equal(stripBase('/conversations', '/'), '/conversations');
  assert.equal(stripBase('/', ''), '/');
});

test('normaliseBasePath: one leading slash, no trailing slash, "" for the root', () => {
  assert.equal(normaliseBasePath('/v3/directline'), '/v3/directline');
  assert.equal(normaliseBasePath('v3/directline'), '/v3/directline');
  assert.equal(normaliseBasePath('/v3/directline///'), '/v3/directline');
  assert.equal(normaliseBasePath('directline/'), '/directline');
  assert.equal(normaliseBasePath('/'), '');
  assert.equal(normaliseBasePath(''), '');
  // What it returns is what stripBase expects.
  assert.equal(stripBase('/directline/tokens/generate', normaliseBasePath('directline/')), '/tokens/generate');
});
