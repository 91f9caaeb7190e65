// --text similar: normalisation and the Dice coefficient of character bigrams, with the documented threshold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseText, SIMILAR_TEXT_THRESHOLD, textsMatch, textSimilarity } from '../../src/diff/text-similarity.js';

test('text similarity: normalised texts, Dice over bigrams, threshold 0.5', () => {
  assert.equal(SIMILAR_TEXT_THRESHOLD, 0.5);
  assert.equal(normaliseText('  Hello,   WORLD!! ＡＢ '), 'hello world ab');
  assert.equal(textSimilarity('Hello, world!', 'hello world'), 1);
  assert.equal(textSimilarity('night', 'nacht'), 0.25); // ni ig gh ht / na ac ch ht: one common of 4+4
  const reworded = textSimilarity('The weather in Paris is sunny today.', 'Today, it is sunny in Paris.');
  assert.ok(reworded > SIMILAR_TEXT_THRESHOLD && reworded < 1, String(reworded));
  const other = textSimilarity('The weather in Paris is sunny today.', 'I cannot help with that request.');
  assert.ok(other < 0.3, String(other));
  assert.equal(textSimilarity('', ''), 1);
  assert.equal(textSimilarity('a', 'b'), 0);
  assert.equal(textsMatch('x', 'y', 'ignore'), true);
  assert.equal(textsMatch('x', 'x ', 'exact'), false);
  assert.equal(textsMatch('Sunny in Paris today', 'Today: sunny in Paris', 'similar'), true);
  assert.equal(textsMatch('Sunny in Paris today', 'Rain all week in Oslo', 'similar'), false);
  assert.equal(textsMatch('Sunny in Paris today', 'Today: sunny in Paris', 'similar', 0.99), false);
  const long = 'word '.repeat(200_000);
  assert.equal(textSimilarity(long, long + 'end') > 0.99, true, 'a 1 MB text compares in linear time');
});
