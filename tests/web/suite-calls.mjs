// The calls list (issue 16, Acceptance bullet 2): each filter and sort shows exactly the ids the
// API returns for the same query; paging and back/forward keep the filters.
//
// The page's page size is its own choice: its rows must be the first rows of the API's answer
// for the same query, and all of them unless it offers a next page.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newContext } from './browser.mjs';
import { PASSWORDS } from './fixture.mjs';
import { apiLogin, localDateTime, open, settledIds } from './pages.mjs';

const MIN = 60000;
const URL_DEFAULTS = { sort: 'started', order: 'desc' };

// Fills the filter form (fields absent from `fields` stay as they are), applies, waits for the
// URL to carry every field and the rows to settle. Returns the ids shown.
async function applyFilters(page, fields) {
  for (const [name, value] of Object.entries(fields)) {
    const sel = `form#call-filters [name="${name}"]`;
    const tag = await page.$eval(sel, (el) => el.tagName.toLowerCase());
    if (tag === 'select') await page.selectOption(sel, value);
    else await page.fill(sel, value);
  }
  const before = page.url();
  await page.click('button#filter-apply');
  // A field at its default (sort=started, order=desc) may be left out of the URL.
  await page.waitForURL((u) => u.href !== before &&
    Object.keys(fields).every((k) => u.searchParams.get(k) || URL_DEFAULTS[k] === fields[k]));
  return settledIds(page);
}

// The page shows the head of `want` (all of it unless a next page is offered).
async function assertHead(page, shown, want, what) {
  assert.ok(shown.length > 0 || want.length === 0, `${what}: no rows shown, the API has ${want.length}`);
  assert.deepEqual(shown, want.slice(0, shown.length), `${what}: rows differ from the API's answer`);
  if (shown.length < want.length) {
    const next = await page.$('button#next-page');
    assert.ok(next && await next.isVisible() && await next.isEnabled(),
      `${what}: ${shown.length} of ${want.length} rows shown and no next page`);
  }
  if (want.length === 0) assert.ok(await page.isVisible('#calls-empty'), `${what}: #calls-empty not shown`);
}

export function callsSuite(fx) {
  describe('calls list: filters, sort, paging, history', () => {
    let context, page, all;
    before(async () => {
      ({ context } = await newContext(fx.browser));
      await apiLogin(context, fx.server.base, 'admin', PASSWORDS.admin);
      page = await context.newPage();
      all = (await fx.api.allCalls()).map((c) => c.id);
    });
    after(async () => { await context?.close(); });

    test('no filter: the newest calls, each row linking to its detail', async () => {
      await open(page, fx.server.base, '/calls');
      const shown = await settledIds(page);
      await assertHead(page, shown, all, 'no filter');
      const href = await page.$eval(`tr[data-call-id="${shown[0]}"] a[href]`, (a) => a.getAttribute('href'));
      assert.equal(href, `/calls/${shown[0]}`);
    });

    // [label, form fields, API query (defaults to the fields), is it a sort (order matters only)]
    const cases = () => {
      const now = Date.now();
      const from = Math.floor((now - 6 * 86400000) / MIN) * MIN;
      const to = Math.floor((now - 2 * 86400000) / MIN) * MIN;
      return [
        ['caller', { caller: '+155530001' }],
        ['callee', { callee: '5556000' }],
        ['number', { number: '+15551001' }],
        ['participant', { participant: 'Grace' }],
        ['min_duration', { min_duration: '300' }],
        ['max_duration', { max_duration: '5' }],
        ['tag', { tag: 'vip' }],
        ['state', { state: 'timed_out' }],
        ['q (free text)', { q: 'Mallory' }],
        ['from + to (local time)', { from: localDateTime(from), to: localDateTime(to) },
          { from: new Date(from).toISOString(), to: new Date(to).toISOString() }],
        ['sort duration', { sort: 'duration' }, null, true],
        ['sort started, order asc', { sort: 'started', order: 'asc' }, null, true],
        ['sort duration, order asc + participant', { sort: 'duration', order: 'asc', participant: 'Callee' }, null, true],
      ];
    };
    for (const [label] of cases()) {
      test(`filter: ${label}`, async () => {
        const [, fields, query, isSort] = cases().find((c) => c[0] === label);
        const want = (await fx.api.allCalls(new URLSearchParams(query || fields).toString())).map((c) => c.id);
        // The fixture must make the filter matter: a non-empty proper subset, or another order.
        if (isSort) {
          assert.ok(want.length > 1, `${label}: fixture gives ${want.length} calls`);
        } else {
          assert.ok(want.length > 0 && want.length < all.length, `${label}: fixture gives ${want.length} of ${all.length}`);
        }
        await open(page, fx.server.base, '/calls');
        const shown = await applyFilters(page, fields);
        await assertHead(page, shown, want, label);
        // The filters are in the URL: a reload shows the same rows and fills the form again.
        await page.reload();
        assert.deepEqual(await settledIds(page), shown, `${label}: after a reload`);
        for (const [name, value] of Object.entries(fields)) {
          assert.equal(await page.$eval(`form#call-filters [name="${name}"]`, (el) => el.value), value,
            `${label}: form field ${name} after a reload`);
        }
      });
    }

    test('paging keeps the filters; back/forward and first page', async () => {
      const want = (await fx.api.allCalls('state=completed')).map((c) => c.id);
      await open(page, fx.server.base, '/calls');
      const p1 = await applyFilters(page, { state: 'completed' });
      assert.ok(p1.length > 0 && p1.length < want.length,
        `the first page shows ${p1.length} of ${want.length} calls: nothing to page through`);
      await assertHead(page, p1, want, 'page 1');
      const url1 = page.url();
      await page.click('button#next-page');
      await page.waitForURL((u) => u.searchParams.get('cursor') && u.searchParams.get('state') === 'completed');
      const p2 = await settledIds(page);
      assert.ok(p2.length > 0, 'page 2 has rows');
      assert.deepEqual(p2, want.slice(p1.length, p1.length + p2.length), 'page 2 continues page 1');
      assert.equal(await page.$eval('form#call-filters [name="state"]', (el) => el.value), 'completed');
      const url2 = page.url();

      await page.goBack();
      await page.waitForURL(url1);
      assert.deepEqual(await settledIds(page), p1, 'back: page 1 again');
      await page.goForward();
      await page.waitForURL(url2);
      assert.deepEqual(await settledIds(page), p2, 'forward: page 2 again');
      assert.equal(await page.$eval('form#call-filters [name="state"]', (el) => el.value), 'completed');

      await page.click('button#first-page');
      await page.waitForURL((u) => !u.searchParams.get('cursor') && u.searchParams.get('state') === 'completed');
      assert.deepEqual(await settledIds(page), p1, 'first page');
    });

    test('back/forward between two filters', async () => {
      const a = { participant: 'Heidi' };
      const b = { participant: 'Heidi', min_duration: '120' };
      const wantA = (await fx.api.allCalls(new URLSearchParams(a).toString())).map((c) => c.id);
      const wantB = (await fx.api.allCalls(new URLSearchParams(b).toString())).map((c) => c.id);
      assert.notDeepEqual(wantA, wantB, 'fixture: the two filters must differ');
      await open(page, fx.server.base, '/calls');
      await assertHead(page, await applyFilters(page, a), wantA, 'filter A');
      const urlA = page.url();
      await assertHead(page, await applyFilters(page, b), wantB, 'filter B');
      const urlB = page.url();
      await page.goBack();
      await page.waitForURL(urlA);
      await assertHead(page, await settledIds(page), wantA, 'back to filter A');
      assert.equal(await page.$eval('form#call-filters [name="min_duration"]', (el) => el.value), '',
        'back: the form shows filter A');
      await page.goForward();
      await page.waitForURL(urlB);
      await assertHead(page, await settledIds(page), wantB, 'forward to filter B');
      assert.equal(await page.$eval('form#call-filters [name="min_duration"]', (el) => el.value), '120');
    });

    test('a URL with filters opens filtered (no form needed)', async () => {
      const q = 'participant=Ivan&sort=duration&order=asc';
      const want = (await fx.api.allCalls(q)).map((c) => c.id);
      await open(page, fx.server.base, '/calls?' + q);
      await assertHead(page, await settledIds(page), want, q);
      assert.equal(await page.$eval('form#call-filters [name="participant"]', (el) => el.value), 'Ivan');
    });
  });
}
