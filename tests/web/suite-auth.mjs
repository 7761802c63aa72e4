// Login, logout, the session cookie, and the login back-off (issue 16, Acceptance bullet 1).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newContext, ready } from './browser.mjs';
import { PASSWORDS } from './fixture.mjs';
import { request, sleep } from './harness.mjs';
import { apiLogin, open } from './pages.mjs';

const LOCK_SOURCE = '127.0.0.2';  // the bad passwords come from here, so 127.0.0.1 stays unlocked

async function loginForm(page, username, password) {
  await page.waitForSelector('form#login-form');
  await page.fill('#username', username);
  await page.fill('#password', password);
  const [resp] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/session' && r.request().method() === 'POST'),
    page.click('#login-submit'),
  ]);
  return resp;
}

export function authSuite(fx) {
  describe('login and logout', () => {
    let context, guards, page;
    before(async () => {
      ({ context, guards } = await newContext(fx.browser));
      page = await context.newPage();
    });
    after(async () => { await context?.close(); });

    test('no session: a page redirects to /login?next=', async () => {
      const resp = await page.goto(fx.server.base + '/calls?caller=1555');
      const u = new URL(page.url());
      assert.equal(u.pathname, '/login', `landed on ${page.url()}`);
      assert.equal(u.searchParams.get('next'), '/calls?caller=1555');
      assert.ok(resp.ok(), `the login page answered ${resp.status()}`);
      await page.waitForSelector('form#login-form');
    });

    test('bad password: 401 and the error is shown, no cookie', async () => {
      await page.goto(fx.server.base + '/login');
      const resp = await loginForm(page, 'admin', 'not-the-password');
      assert.equal(resp.status(), 401);
      await page.waitForFunction(() => (document.querySelector('#login-error')?.textContent || '').trim() !== '');
      assert.equal((await page.textContent('#login-error')).trim(), 'Wrong user name or password.');
      assert.equal(new URL(page.url()).pathname, '/login');
      assert.deepEqual((await context.cookies()).filter((c) => /cv_session/.test(c.name)), []);
    });

    test('login: lands on next, cookie HttpOnly; SameSite=Strict; Path=/', async () => {
      await page.goto(fx.server.base + '/login?next=' + encodeURIComponent('/calls?state=completed'));
      const resp = await loginForm(page, 'admin', PASSWORDS.admin);
      assert.equal(resp.status(), 201);
      await page.waitForURL((u) => u.pathname === '/calls' && u.searchParams.get('state') === 'completed');
      await ready(page);
      const session = await page.evaluate(() => fetch('/api/v1/session').then((r) => r.json()));
      assert.equal(session.user?.username, 'admin');
      assert.match(session.csrf_token || '', /^[A-Za-z0-9_-]{43}$/, 'csrf_token: 43 base64url characters');
      assert.equal((await page.textContent('#nav-user')).trim(), 'admin');
      const setCookie = await resp.headerValue('set-cookie');
      assert.ok(setCookie, 'Set-Cookie on the login answer');
      const attrs = setCookie.split(';').map((s) => s.trim());
      assert.match(attrs[0], /^cv_session=[^;]{20,}$/);
      for (const want of ['HttpOnly', 'SameSite=Strict', 'Path=/']) {
        assert.ok(attrs.some((a) => a.toLowerCase() === want.toLowerCase()), `Set-Cookie ${setCookie} lacks ${want}`);
      }
      const [c] = (await context.cookies()).filter((x) => x.name === 'cv_session');
      assert.ok(c, 'the browser keeps cv_session');
      assert.equal(c.httpOnly, true);
      assert.equal(c.sameSite, 'Strict');
      assert.equal(c.path, '/');
      assert.equal(await page.evaluate(() => document.cookie.includes('cv_session')), false, 'readable by script');
      fx.adminCookie = `cv_session=${c.value}`;
    });

    test('logout: the old cookie is refused (401)', async () => {
      const [c] = (await context.cookies()).filter((x) => x.name === 'cv_session');
      assert.ok(c, 'logged in');
      const old = `cv_session=${c.value}`;
      const before = await request(fx.server.base, 'GET', '/api/v1/session', { headers: { Cookie: old } });
      assert.equal(before.status, 200, 'the cookie works before the logout');
      const [resp] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/session' && r.request().method() === 'DELETE'),
        page.click('#logout'),
      ]);
      assert.equal(resp.status(), 204);
      await page.waitForURL((u) => u.pathname === '/login');
      assert.deepEqual((await context.cookies()).filter((x) => x.name === 'cv_session'), [], 'cookie cleared');
      for (const p of ['/api/v1/session', '/api/v1/calls', '/api/v1/me']) {
        const r = await request(fx.server.base, 'GET', p, { headers: { Cookie: old } });
        assert.equal(r.status, 401, `GET ${p} with the old cookie: ${r.status}`);
      }
      const r = await request(fx.server.base, 'GET', '/calls', { headers: { Cookie: old } });
      assert.equal(r.status, 302, 'a page with the old cookie redirects to /login');
      assert.match(r.headers.location || '', /^\/login\?next=/);
      assert.deepEqual(guards.dialogs, []);
    });

    test('a session ended elsewhere: the page\'s next API call goes to /login?next=, and back', async () => {
      const { context: other } = await newContext(fx.browser);
      try {
        const session = await apiLogin(other, fx.server.base, 'admin', PASSWORDS.admin);
        const p = await other.newPage();
        await open(p, fx.server.base, '/calls?participant=Grace');
        const [c] = (await other.cookies()).filter((x) => x.name === 'cv_session');
        const end = await request(fx.server.base, 'DELETE', '/api/v1/session',
          { headers: { Cookie: `cv_session=${c.value}`, 'X-CSRF-Token': session.csrf_token } });
        assert.equal(end.status, 204);
        await p.fill('form#call-filters [name="caller"]', '1555');
        await p.click('button#filter-apply');
        await p.waitForURL((u) => u.pathname === '/login');
        const next = new URL(p.url()).searchParams.get('next') || '';
        assert.match(next, /^\/calls\?/, `next=${next}`);
        assert.ok(new URLSearchParams(next.split('?')[1]).get('participant') === 'Grace', `next=${next}`);
        const resp = await loginForm(p, 'admin', PASSWORDS.admin);
        assert.equal(resp.status(), 201);
        await p.waitForURL((u) => u.pathname + u.search === next);
        await ready(p);
      } finally {
        await other.close();
      }
    });

    test('6 bad passwords → 429 + Retry-After; then even the right one, also in the browser', async () => {
      const statuses = [];
      let last = null;
      for (let i = 0; i < 6; i++) {
        last = await request(fx.server.base, 'POST', '/api/v1/session',
          { body: { username: 'lockme', password: `wrong-${i}-password` }, localAddress: LOCK_SOURCE });
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429], 'bad passwords from ' + LOCK_SOURCE);
      const retry = Number(last.headers['retry-after']);
      assert.ok(retry > 0 && retry <= 900, `Retry-After ${last.headers['retry-after']}`);
      assert.equal(last.json?.error?.code, 'too_many_attempts');
      const right = await request(fx.server.base, 'POST', '/api/v1/session',
        { body: { username: 'lockme', password: PASSWORDS.lockme }, localAddress: LOCK_SOURCE });
      assert.equal(right.status, 429, 'the right password while locked');
      // The browser (127.0.0.1, not locked as an address): the user name is locked.
      await page.goto(fx.server.base + '/login');
      const resp = await loginForm(page, 'lockme', PASSWORDS.lockme);
      assert.equal(resp.status(), 429);
      const n = Number(await resp.headerValue('retry-after'));
      await page.waitForFunction(() => /Too many attempts/.test(document.querySelector('#login-error')?.textContent || ''));
      const text = (await page.textContent('#login-error')).trim();
      assert.match(text, /^Too many attempts — try again in \d+ s\.$/);
      assert.ok(Math.abs(Number(/(\d+) s/.exec(text)[1]) - n) <= 2, `${text} vs Retry-After ${n}`);
      assert.equal(new URL(page.url()).pathname, '/login');
      fx.lockedUntil = Date.now() + Math.max(retry, n) * 1000;
    });
  });
}

// Run late (the wait overlaps the other tests): after Retry-After the right password works.
export function lockExpirySuite(fx) {
  test('after Retry-After the right password logs in', { timeout: 200000 }, async () => {
    assert.ok(fx.lockedUntil, 'the lock-out test ran');
    const wait = fx.lockedUntil - Date.now() + 1500;
    assert.ok(wait < 180000, `Retry-After too long to wait for: ${wait} ms`);
    if (wait > 0) await sleep(wait);
    const { context } = await newContext(fx.browser);
    try {
      const page = await context.newPage();
      await page.goto(fx.server.base + '/login');
      const resp = await loginForm(page, 'lockme', PASSWORDS.lockme);
      assert.equal(resp.status(), 201);
      await page.waitForURL((u) => u.pathname === '/calls');
      await ready(page);
    } finally {
      await context.close();
    }
  });
}
