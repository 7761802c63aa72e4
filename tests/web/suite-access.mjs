// Access rules and CSRF (issue 16, Acceptance bullets "Access" and "CSRF").
//
// Access: a tenant-A viewer gets the 403 page on users/roles/tenants/audit/system and 403 from
// their APIs; tenant B's calls are not in its list, and their detail, audio and waveform are 404
// (the admin gets 200 for the same URLs: the 404 is the scoping, not a missing call).
// CSRF: with a valid session cookie, POST/DELETE without X-CSRF-Token, with a wrong one, or with
// a foreign Origin → 403 csrf_failed, and nothing changed (checked through the API); the same
// requests done right succeed (so the test can tell).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newContext } from './browser.mjs';
import { PASSWORDS } from './fixture.mjs';
import { request } from './harness.mjs';
import { apiLogin, open, pageFetch, settledIds } from './pages.mjs';

export function accessSuite(fx) {
  describe('access: tenant-A viewer', () => {
    let context, page;
    before(async () => {
      ({ context } = await newContext(fx.browser));
      await apiLogin(context, fx.server.base, 'viewer-a', PASSWORDS['viewer-a']);
      page = await context.newPage();
    });
    after(async () => { await context?.close(); });

    for (const p of ['/users', '/roles', '/tenants', '/audit', '/system']) {
      test(`page ${p} → 403 page`, async () => {
        const resp = await page.goto(fx.server.base + p);
        assert.equal(resp.status(), 403);
        assert.equal(new URL(page.url()).pathname, p, 'no redirect');
        assert.match(await page.textContent('body'), /You do not have access to this page/);
      });
    }
    for (const p of ['/api/v1/users', '/api/v1/roles', '/api/v1/tenants', '/api/v1/audit', '/api/v1/system']) {
      test(`API ${p} → 403`, async () => {
        await page.goto(fx.server.base + '/calls');
        const r = await pageFetch(page, p);
        assert.equal(r.status, 403, r.text);
        assert.equal(r.code, 'forbidden');
      });
    }

    test('nav: only the links the viewer may use', async () => {
      await open(page, fx.server.base, '/calls');
      const links = await page.$$eval('nav#nav a[data-nav]', (as) => as.map((a) => a.getAttribute('data-nav')).sort());
      for (const hidden of ['users', 'roles', 'tenants', 'audit', 'system']) {
        assert.ok(!links.includes(hidden), `nav shows ${hidden}: ${links}`);
      }
      assert.ok(links.includes('calls') && links.includes('live'), `nav: ${links}`);
      assert.equal((await page.textContent('#nav-user')).trim(), 'viewer-a');
    });

    test('list: exactly tenant A\'s calls, none of tenant B', async () => {
      const wantA = (await fx.api.allCalls('tenant=tenant-a')).map((c) => c.id);
      const idsB = new Set((await fx.api.allCalls('tenant=tenant-b')).map((c) => c.id));
      assert.ok(wantA.length > 0 && idsB.size > 0, 'fixture: calls in both tenants');
      await open(page, fx.server.base, '/calls');
      const shown = await settledIds(page);
      assert.ok(shown.length > 0, 'the viewer sees calls');
      assert.deepEqual(shown, wantA.slice(0, shown.length), 'the viewer\'s rows = tenant A\'s calls');
      assert.deepEqual(shown.filter((id) => idsB.has(id)), [], 'tenant B calls listed');
      // Filters cannot widen the scope.
      await open(page, fx.server.base, '/calls?q=tenant-b');
      assert.deepEqual((await settledIds(page)).filter((id) => idsB.has(id)), []);
    });

    test('tenant B\'s call: detail, audio, waveform → 404 (admin: 200)', async () => {
      const id = fx.calls.tenantB;
      const urls = [`/api/v1/calls/${id}`, `/api/v1/calls/${id}/audio`, `/api/v1/calls/${id}/waveform?points=100`];
      for (const u of urls) {
        const admin = await fx.api.get(u);
        assert.equal(admin.status, 200, `admin ${u}: ${admin.status}`);
      }
      const [resp] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === `/api/v1/calls/${id}`),
        page.goto(fx.server.base + `/calls/${id}`),
      ]);
      assert.equal(resp.status(), 404, 'the detail page\'s API call');
      for (const u of urls) {
        const r = await pageFetch(page, u);
        assert.equal(r.status, 404, `viewer ${u}: ${r.text}`);
      }
    });

    test('tenant A\'s call: detail page, audio and waveform → 200', async () => {
      const id = fx.calls.tenantA;
      await open(page, fx.server.base, `/calls/${id}`);
      assert.equal((await page.textContent('#call-id')).trim(), id);
      for (const u of [`/api/v1/calls/${id}/audio`, `/api/v1/calls/${id}/waveform?points=100`]) {
        const r = await pageFetch(page, u);
        assert.equal(r.status, 200, `${u}: ${r.text}`);
      }
      assert.equal(await page.$$eval('button#delete-call', (b) => b.length), 0, 'a viewer gets no delete button');
    });
  });
}

export function csrfSuite(fx) {
  describe('CSRF: cookie-authenticated unsafe requests', () => {
    let context, page, csrf, cookie, target;
    before(async () => {
      ({ context } = await newContext(fx.browser));
      const session = await apiLogin(context, fx.server.base, 'admin', PASSWORDS.admin);
      csrf = session.csrf_token;
      const [c] = (await context.cookies()).filter((x) => x.name === 'cv_session');
      cookie = `cv_session=${c.value}`;
      page = await context.newPage();
      await open(page, fx.server.base, '/calls');
      target = fx.synthetic[5].id;
    });
    after(async () => { await context?.close(); });

    const state = async () => {
      const call = await fx.api.get(`/api/v1/calls/${target}`);
      const users = await fx.api.get('/api/v1/users');
      const session = await request(fx.server.base, 'GET', '/api/v1/session', { headers: { Cookie: cookie } });
      return {
        call: call.status, tags: call.json?.tags,
        users: (users.json?.users || []).map((u) => u.username).sort(), session: session.status,
      };
    };
    const unsafe = () => [
      ['POST tags', 'POST', `/api/v1/calls/${target}/tags`, { tags: ['csrf-probe'] }],
      ['DELETE tag', 'DELETE', `/api/v1/calls/${target}/tags/vip`],
      ['DELETE call', 'DELETE', `/api/v1/calls/${target}`],
      ['POST users', 'POST', '/api/v1/users', { username: 'csrf-user', password: 'csrf-password-1', role: 'admin' }],
      ['DELETE session', 'DELETE', '/api/v1/session'],
    ];

    test('without the token, with a wrong one, from a foreign Origin → 403 csrf_failed, nothing changed', async () => {
      // The target carries a tag so that DELETE tag would change something.
      assert.equal((await fx.api.post(`/api/v1/calls/${target}/tags`, { tags: ['vip'] })).status, 200);
      const before = await state();
      assert.equal(before.call, 200);
      assert.equal(before.session, 200);
      for (const [label, method, url, body] of unsafe()) {
        const none = await pageFetch(page, url, { method, body });
        assert.equal(none.status, 403, `${label} without X-CSRF-Token: ${none.text}`);
        assert.equal(none.code, 'csrf_failed', `${label} without X-CSRF-Token`);
        const wrong = await pageFetch(page, url, { method, body, headers: { 'X-CSRF-Token': 'A'.repeat(43) } });
        assert.equal(wrong.status, 403, `${label} with a wrong X-CSRF-Token: ${wrong.text}`);
        assert.equal(wrong.code, 'csrf_failed');
        const foreign = await request(fx.server.base, method, url, {
          body, headers: { Cookie: cookie, 'X-CSRF-Token': csrf, Origin: 'http://evil.example' },
        });
        assert.equal(foreign.status, 403, `${label} from a foreign Origin: ${foreign.text}`);
        assert.equal(foreign.json?.error?.code, 'csrf_failed');
      }
      assert.deepEqual(await state(), before, 'nothing changed');
    });

    test('the same requests with the token from the page\'s origin succeed', async () => {
      const add = await pageFetch(page, `/api/v1/calls/${target}/tags`,
        { method: 'POST', body: { tags: ['csrf-ok'] }, headers: { 'X-CSRF-Token': csrf } });
      assert.equal(add.status, 200, add.text);
      const del = await pageFetch(page, `/api/v1/calls/${target}/tags/csrf-ok`,
        { method: 'DELETE', headers: { 'X-CSRF-Token': csrf } });
      assert.ok(del.status === 200 || del.status === 204, del.text);
      const same = await request(fx.server.base, 'POST', `/api/v1/calls/${target}/tags`, {
        body: { tags: ['csrf-ok2'] },
        headers: { Cookie: cookie, 'X-CSRF-Token': csrf, Origin: fx.server.base },
      });
      assert.equal(same.status, 200, `own Origin: ${same.text}`);
      assert.ok((await fx.api.get(`/api/v1/calls/${target}`)).json.tags.includes('csrf-ok2'));
      await fx.api.del(`/api/v1/calls/${target}/tags/csrf-ok2`);
    });
  });
}

// Tenants page (issue 17): an admin disables tenant B (new calls are no longer recorded under
// it), the row and GET /api/v1/tenants say so, and enables it again.
export function tenantsSuite(fx) {
  describe('tenants: disable and enable', () => {
    let context, page;
    before(async () => {
      ({ context } = await newContext(fx.browser));
      await apiLogin(context, fx.server.base, 'admin', PASSWORDS.admin);
      page = await context.newPage();
    });
    after(async () => { await context?.close(); });

    const status = () => page.$eval('tr[data-tenant="tenant-b"] td[data-field="status"]',
                                    (td) => td.textContent.trim());
    const apiDisabled = async () => {
      const r = await pageFetch(page, '/api/v1/tenants');
      assert.equal(r.status, 200, r.text);
      return JSON.parse(r.text).tenants.find((t) => t.name === 'tenant-b')?.disabled;
    };

    test('Disable → disabled in the row and the API; Enable → active again', async () => {
      await open(page, fx.server.base, '/tenants');
      assert.equal(await status(), 'active');
      assert.equal(await apiDisabled(), false);
      await page.click('tr[data-tenant="tenant-b"] button[data-action="toggle"]');
      await page.waitForFunction(() => document.querySelector(
        'tr[data-tenant="tenant-b"] td[data-field="status"]')?.textContent.trim() === 'disabled');
      assert.equal(await apiDisabled(), true);
      await page.click('tr[data-tenant="tenant-b"] button[data-action="toggle"]');
      await page.waitForFunction(() => document.querySelector(
        'tr[data-tenant="tenant-b"] td[data-field="status"]')?.textContent.trim() === 'active');
      assert.equal(await apiDisabled(), false);
    });
  });
}
