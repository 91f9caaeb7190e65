// The README's example is the file next to this one, word for word, so the README never shows code
// that npm test does not run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

test('README shows test/examples/bot-conversation.test.ts verbatim', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = /<!-- example:start -->\n```ts\n([\s\S]*?)```\n<!-- example:end -->/.exec(readme);
  assert.ok(block, 'README has an example block');
  const file = readFileSync(new URL('./bot-conversation.test.ts', import.meta.url), 'utf8');
  assert.equal(block[1], file);
});
