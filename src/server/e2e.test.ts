import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { DEFAULT_WEB_ROOT } from './app.js';
import { startServer } from './start.js';
import { browserSkip, CHROMIUM } from './testing/browser.js';
import { sqliteTestDatabase } from './testing/databases.js';
import { makeFactorRecommender } from './testing/factor-recommender.js';

/**
 * End to end in Debian's real headless Chromium: search, rate five movies, see recommendations appear
 * and change. Without Chromium the test is skipped with how to install it, except under CI (which installs
 * it), where a missing browser is a failure; COLLAB_SKIP_BROWSER=1 skips on purpose outside CI.
 */

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
// the few browser globals the page functions below use (this file is compiled without the DOM library)
declare const document: {
  querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }>;
  querySelector(selector: string): { getBoundingClientRect(): { height: number } } | null;
  documentElement: { scrollWidth: number };
};
declare const window: { innerWidth: number };

const skip = browserSkip();

async function recTitles(page: Page): Promise<string[]> {
  return page.locator('[data-testid=rec-item] .title').allTextContents();
}

async function rateFromSearch(page: Page, query: string, title: string, stars: number): Promise<void> {
  const before = (await recTitles(page)).join('|');
  await page.fill('[data-testid=search]', query);
  const button = page.locator(`[data-testid=results] button[aria-label="Rate ${title} ${stars} star${stars > 1 ? 's' : ''}"]`);
  await button.waitFor({ state: 'visible', timeout: 30_000 });
  await button.click();
  // the list is re-rendered from the server's fold-in after each rating
  await page.waitForFunction((prev) => Array.from(document.querySelectorAll('[data-testid=rec-item] .title'), (e) => e.textContent).join('|') !== prev, before, { timeout: 30_000 });
}

test('web page in headless Chromium: search Toy Story, rate five movies, recommendations appear and change; model curves, map by touch, sign-in, long rating lists', { skip, timeout: 120_000 }, async (t) => {
  assert.ok(existsSync(join(DEFAULT_WEB_ROOT, 'index.html')), 'the web page is built (npm run build)');
  assert.ok(existsSync(CHROMIUM), `Chromium is not at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
  const rec = makeFactorRecommender({ seed: 1, nUsers: 60 });
  const db = sqliteTestDatabase();
  const server = await startServer({ recommender: rec, db: db.db, port: 0, token: 'e2e-secret-token', initialRatings: () => rec.trainingRatings().map((r) => ({ userId: r.userId, movieId: r.itemId, rating: r.rating })) });
  const profile = mkdtempSync(join(tmpdir(), 'collab-chromium-'));
  const shots = mkdtempSync(join(tmpdir(), 'collab-e2e-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    // CI shares two cores with the rest of the suite: generous waits, so load does not fail the page test.
    page.setDefaultTimeout(45_000);
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(server.url);
    await page.locator('[data-testid=search]').waitFor();
    assert.equal(await page.locator('[data-testid=rec-item]').count(), 0, 'no recommendations before any rating');
    // an anonymous visitor sees one sign-in control, not the id and token boxes
    assert.equal(await page.locator('#who input').count(), 0, 'no id/token boxes until asked for');
    assert.equal(await page.locator('#who button.signin').textContent(), 'Sign in as a user');

    // MovieLens stores "Matrix, The (1999)": either order finds it, shown in natural order
    await page.fill('[data-testid=search]', 'The Matrix');
    await page.locator('[data-testid=results] .title', { hasText: 'The Matrix' }).waitFor();
    assert.deepEqual(await page.locator('[data-testid=results] .title').allTextContents(), ['The Matrix']);

    await page.fill('[data-testid=search]', 'Toy Story');
    await page.locator('[data-testid=results] .title', { hasText: 'Toy Story 2' }).waitFor();
    const found = await page.locator('[data-testid=results] .title').allTextContents();
    assert.deepEqual(found.sort(), ['Toy Story', 'Toy Story 2']);

    await rateFromSearch(page, 'Toy Story', 'Toy Story (1995)', 5);
    const first = await recTitles(page);
    assert.equal(first.length, 10, 'recommendations appear after the first rating');
    await rateFromSearch(page, 'Toy Story', 'Toy Story 2 (1999)', 5);
    await rateFromSearch(page, 'Lion King', 'The Lion King (1994)', 4);
    await rateFromSearch(page, 'Godfather', 'The Godfather (1972)', 1);
    await rateFromSearch(page, 'Nemo', 'Finding Nemo (2003)', 5);
    const last = await recTitles(page);
    assert.notDeepEqual(last, first, 'recommendations changed as ratings were added');
    assert.equal(await page.locator('[data-testid=rated-count]').textContent(), '5');
    for (const rated of ['Toy Story', 'Toy Story 2', 'The Lion King', 'The Godfather', 'Finding Nemo']) assert.ok(!last.includes(rated), `${rated} is rated, so not recommended`);
    assert.match((await page.locator('[data-testid=recs] .because').first().textContent()) ?? '', /^Because you liked /);
    // each pick names the few liked movies that drive it, not all four the visitor liked
    const reasonCounts = await page.locator('[data-testid=recs] .rec-body').evaluateAll((items) => items.map((i) => (i as unknown as { querySelectorAll(s: string): ArrayLike<unknown> }).querySelectorAll('.because a').length));
    assert.ok(reasonCounts.every((n) => n <= 3), `at most 3 reasons per pick: ${reasonCounts}`);
    assert.ok(reasonCounts.some((n) => n <= 2), `some picks name only one or two movies: ${reasonCounts}`);
    assert.match((await page.locator('[data-testid=recs] .score').first().textContent()) ?? '', /^predicted \d\.\d★$/);
    // the ratings live in the browser: a reload keeps them and the recommendations
    await page.reload();
    await page.locator('[data-testid=rec-item]').first().waitFor();
    assert.deepEqual(await recTitles(page), last);

    await page.fill('[data-testid=search]', '');
    await page.locator('[data-testid=results] .title').nth(5).waitFor();
    await page.screenshot({ path: join(shots, 'home.png'), fullPage: true });

    await page.click('[data-testid=recs] .title >> nth=0');
    await page.locator('.moviepage h2', { hasText: 'Similar movies' }).waitFor();
    assert.ok((await page.locator('.similar .card').count()) > 0);
    await page.screenshot({ path: join(shots, 'movie.png'), fullPage: true });

    await page.goto(`${server.url}/#/map`);
    await page.locator('svg.map circle.dot').first().waitFor();
    await page.locator('svg.map circle.dot.rated').first().hover();
    assert.notEqual(await page.locator('svg.map .map-label').textContent(), '');
    await page.screenshot({ path: join(shots, 'map.png'), fullPage: true });

    await page.goto(`${server.url}/#/model`);
    await page.locator('svg.curves path.line').first().waitFor();
    // per-batch loss as a smoothed thin line, per-epoch losses on an epoch axis numbered like the epoch table
    assert.deepEqual(await page.locator('[data-testid=curve-legend] .key').allTextContents(), ['train loss (per batch, smoothed)', 'train loss', 'valid MSE']);
    assert.deepEqual(await page.locator('svg.curves path.line').evaluateAll((ps) => ps.map((p) => (p as unknown as { getAttribute(a: string): string }).getAttribute('data-series'))), ['train loss (per batch, smoothed)', 'train loss', 'valid MSE']);
    assert.equal(await page.locator('svg.curves circle').count(), 10, 'dots only for the 5 epochs of train and valid, none per batch');
    const xTicks = await page.locator('svg.curves text.tick[text-anchor=middle]').allTextContents();
    assert.deepEqual(xTicks, ['0', '1', '2', '3', '4']);
    const yTicks = (await page.locator('svg.curves text.tick[text-anchor=end]').allTextContents()).map(Number);
    assert.ok(Math.min(...yTicks) >= 0, `the loss axis does not go below 0: ${yTicks}`);
    assert.equal(await page.locator('[data-testid=rating-scale] strong').textContent(), '0.5 – 5');
    await page.screenshot({ path: join(shots, 'model.png'), fullPage: true });

    // a user id with the token: ratings go to the server and the recommendations follow them
    await page.goto(`${server.url}/#/`);
    await page.click('#who button.signin');
    await page.fill('[aria-label="User id"]', '3');
    await page.fill('[aria-label="Token"]', 'e2e-secret-token');
    await page.click('.whoform button[type=submit]');
    await page.locator('.badge', { hasText: 'User 3' }).waitFor();
    await page.locator('[data-testid=rec-item]').first().waitFor();
    // the visitor's list is replaced by user 3's once the switch has loaded
    await page.locator('#recs .how', { hasText: 'trained profile' }).waitFor();
    assert.equal(await page.locator('#recs .how').textContent(), 'Picked from your trained profile');
    const trained = Number(await page.locator('[data-testid=rated-count]').textContent());
    // a long list of ratings shows the latest few and a "show all"
    assert.ok(trained > 8, `user 3 has ${trained} ratings`);
    assert.equal(await page.locator('[data-testid=mine] .chip').count(), 8);
    await page.screenshot({ path: join(shots, 'signed-in.png'), fullPage: true });
    await page.click('[data-testid=mine-toggle]');
    assert.equal(await page.locator('[data-testid=mine] .chip').count(), trained);
    assert.equal(await page.locator('[data-testid=mine-toggle]').textContent(), 'Show the latest only');
    await rateFromSearch(page, 'Toy Story', 'Toy Story (1995)', rec.trainingRatings().some((r) => r.userId === 3 && r.itemId === 1 && r.rating === 1) ? 2 : 1);
    assert.match((await page.locator('#recs .how').textContent()) ?? '', /^Picked from your \d+ ratings$/);
    const stored = (await (await fetch(`${server.url}/api/users/3/ratings`)).json()) as { ratings: { movieId: number; source: string }[] };
    assert.deepEqual(stored.ratings.filter((r) => r.source === 'api').map((r) => r.movieId), [1]);
    assert.ok(Number(await page.locator('[data-testid=rated-count]').textContent()) >= trained);
    await page.click('button.link');

    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}/#/`);
    await page.locator('[data-testid=rec-item]').first().waitFor();
    await page.screenshot({ path: join(shots, 'phone.png'), fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling on a phone (overflow ${overflow}px)`);

    // the map on a phone: readable landmark names, a tap shows a title, and a list of every movie
    await page.goto(`${server.url}/#/map`);
    await page.locator('svg.map circle.dot').first().waitFor();
    const nameHeight = await page.evaluate(() => document.querySelector('svg.map .map-name')?.getBoundingClientRect().height ?? 0);
    assert.ok(nameHeight >= 10, `map names are readable on a phone (${nameHeight.toFixed(1)} px tall)`);
    await page.locator('svg.map circle.dot').nth(3).click();
    const picked = (await page.locator('[data-testid=map-selected] .title').textContent()) ?? '';
    assert.ok(picked.length > 0, 'a tap shows the title');
    assert.equal(await page.locator('svg.map .map-label').textContent(), picked.replace(/\s*\(\d{4}\)$/, ''));
    assert.equal(await page.locator('.maplist li').count(), await page.locator('svg.map circle.dot').count());
    await page.screenshot({ path: join(shots, 'phone-map.png'), fullPage: true });

    assert.deepEqual(problems, [], 'no console errors (CSP violations show up here)');
    t.diagnostic(`screenshots: ${shots}/home.png (also movie.png, map.png, model.png, signed-in.png, phone.png, phone-map.png)`);
  } finally {
    await context.close();
    await server.close();
    await db.dispose();
    rmSync(profile, { recursive: true, force: true });
  }
});


