// Screenshots of every page (issue 16, last Acceptance bullet): 1366×768 for all, 390×844 also for
// the list and the detail, saved under the artifacts dir (CALLVAULT_WEB_ARTIFACTS; ctest passes
// <build>/web-artifacts) and printed. Each page must also fit its width: no horizontal scrolling
// of the document (tables scroll inside their wrapper on a phone).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newContext, ready, screenshot } from './browser.mjs';
import { PASSWORDS } from './fixture.mjs';
import { apiLogin } from './pages.mjs';

const DESKTOP = { width: 1366, height: 768 };
const PHONE = { width: 390, height: 844 };

async function fits(page, viewport, what) {
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(w <= viewport.width, `${what}: the document is ${w} px wide at ${viewport.width} px`);
}

export function screensSuite(fx) {
  const shots = (viewport, user, pages, tag) => describe(`screenshots ${viewport.width}×${viewport.height} (${user || 'logged out'})`, () => {
    let context, page;
    before(async () => {
      ({ context } = await newContext(fx.browser, { viewport }));
      if (user) await apiLogin(context, fx.server.base, user, PASSWORDS[user]);
      page = await context.newPage();
    });
    after(async () => { await context?.close(); });
    for (const [name, where, status = 200, waitReady = true] of pages) {
      test(name, async () => {
        const path = typeof where === 'function' ? where() : where;
        const resp = await page.goto(fx.server.base + path);
        assert.equal(resp.status(), status, `${path}: ${resp.status()}`);
        if (waitReady) await ready(page);
        else await page.waitForLoadState('load');
        await page.evaluate(() => document.fonts.ready);
        await screenshot(page, fx.artifacts, `${tag}-${name}`);
        await fits(page, viewport, `${name} at ${viewport.width} px`);
      });
    }
  });

  shots(DESKTOP, null, [['login', '/login', 200, false]], '1366x768');
  shots(DESKTOP, 'admin', [
    ['calls', '/calls'],
    ['calls-filtered', '/calls?participant=Grace&sort=duration'],
    ['call-detail', () => `/calls/${fx.calls.wav}`],
    ['call-detail-xss', () => `/calls/${fx.calls.xss}`],
    ['live', '/live'],
    ['users', '/users'],
    ['roles', '/roles'],
    ['tenants', '/tenants'],
    ['tokens', '/tokens'],
    ['audit', '/audit'],
    ['system', '/system'],
  ], '1366x768');
  shots(DESKTOP, 'viewer-a', [['forbidden', '/users', 403, false]], '1366x768');
  shots(PHONE, 'admin', [
    ['calls', '/calls'],
    ['call-detail', () => `/calls/${fx.calls.wav}`],
  ], '390x844');
}
