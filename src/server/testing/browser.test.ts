import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserSkip } from './browser.js';

const missing = () => false;
const present = () => true;

test('browserSkip: without Chromium outside CI the browser test is skipped with how to enable it', () => {
  assert.equal(browserSkip({}, '/usr/bin/chromium', missing), 'Chromium is not at /usr/bin/chromium: apt-get install chromium (or set CHROMIUM_PATH) to run the browser test');
});

test('browserSkip: under CI the browser test runs (and fails) even when Chromium is missing or a skip is asked for', () => {
  assert.equal(browserSkip({ CI: 'true' }, '/usr/bin/chromium', missing), false);
  assert.equal(browserSkip({ CI: '1', COLLAB_SKIP_BROWSER: '1' }, '/usr/bin/chromium', present), false);
});

test('browserSkip: COLLAB_SKIP_BROWSER=1 skips outside CI; with Chromium present the test runs', () => {
  assert.equal(browserSkip({ COLLAB_SKIP_BROWSER: '1' }, '/usr/bin/chromium', present), 'COLLAB_SKIP_BROWSER=1');
  assert.equal(browserSkip({}, '/usr/bin/chromium', present), false);
});
