import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkFloor, linkScore, type ScoreLink } from './link.js';

test('linkFloor inverts the sigmoid range and the clip: below the floor the link stays under x, just above it reaches x', () => {
  const sigmoid: ScoreLink = { yRange: [0, 5.5], clip: [-Infinity, Infinity] };
  const clip: ScoreLink = { yRange: undefined, clip: [0.5, 5] };
  for (const link of [sigmoid, clip]) {
    for (const x of [0.6, 1, 2.75, 4.2, 4.99]) {
      const floor = linkFloor(link, x);
      assert.ok(Number.isFinite(floor), `floor of ${x}`);
      assert.ok(linkScore(link, floor - 1e-9 * (1 + Math.abs(floor))) < x, `link just below the floor of ${x}`);
      assert.ok(linkScore(link, floor + 1e-9 * (1 + Math.abs(floor))) >= x, `link just above the floor of ${x}`);
    }
  }
  // every raw score reaches a value at or under the bottom of the range; none reaches one past the top
  assert.equal(linkFloor(sigmoid, 0), -Infinity);
  assert.equal(linkFloor(sigmoid, -1), -Infinity);
  assert.equal(linkFloor(sigmoid, 5.5), Infinity);
  assert.equal(linkFloor(clip, 0.5), -Infinity);
  assert.equal(linkFloor(clip, 5.01), Infinity);
  assert.equal(linkFloor(clip, 5), 5);
  assert.ok(Number.isNaN(linkFloor(sigmoid, NaN)));
});
