// Live calls and XSS (issue 16, Acceptance bullets "Live" and "XSS").
//
// Live: a sipp SIPREC call appears on /live ≤ 3 s after its 200 OK (the moment sipp logs it),
// its duration ticks, and it is gone ≤ 5 s after its BYE (the moment sipp logs that it sends it).
// XSS: the display names `<img src=x onerror=alert(1)>` and `"><script>alert(2)</script>` and the
// AOR `javascript:alert(3)` — SIPREC metadata of sipp calls (recorded and live) and names of API
// tokens (their audit entries) — show as literal text on the list, the detail, /live and /audit:
// no element created from them, no inline handler or javascript: URL, no dialog, no CSP violation.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { allGuards, newContext } from './browser.mjs';
import { PASSWORDS, XSS } from './fixture.mjs';
import { request, sleep } from './harness.mjs';
import { apiLogin, markupFindings, open, rowIds } from './pages.mjs';
import { sippCall } from './sipp.mjs';

const CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

// Polls the live table until a row not in `known` shows up (or the deadline); {id, at} or null.
async function newLiveRow(page, known, deadline) {
  for (;;) {
    const id = (await rowIds(page, 'table#live-table')).find((x) => !known.has(x));
    if (id) return { id, at: Date.now() };
    if (Date.now() > deadline) return null;
    await sleep(50);
  }
}

async function liveRowGone(page, id, deadline) {
  for (;;) {
    if (!(await rowIds(page, 'table#live-table')).includes(id)) return Date.now();
    if (Date.now() > deadline) return null;
    await sleep(50);
  }
}

async function assertText(page, selector, strings, what) {
  const text = await page.textContent(selector);
  for (const s of strings) assert.ok(text.includes(s), `${what}: ${JSON.stringify(s)} not shown as text in ${selector}`);
}

async function assertClean(page, guards, what) {
  assert.deepEqual(await markupFindings(page), [], `${what}: markup from network strings`);
  assert.deepEqual(guards.dialogs, [], `${what}: dialogs`);
  assert.deepEqual(guards.csp, [], `${what}: CSP violations`);
  assert.deepEqual(guards.pageErrors, [], `${what}: page errors`);
}

export function liveSuite(fx) {
  describe('live calls', () => {
    let context, page;
    before(async () => {
      ({ context } = await newContext(fx.browser));
      await apiLogin(context, fx.server.base, 'admin', PASSWORDS.admin);
      page = await context.newPage();
    });
    after(async () => { await context?.close(); });

    test('a sipp call appears ≤ 3 s after its 200 OK, its duration ticks, gone ≤ 5 s after its BYE',
      { timeout: 90000 }, async () => {
        await open(page, fx.server.base, '/live');
        const known = new Set(await rowIds(page, 'table#live-table'));
        if (known.size === 0) assert.ok(await page.isVisible('#live-empty'), '#live-empty with no calls');
        const call = await sippCall(fx.server, fx.server.work, {
          tag: 'live', durationMs: 9000, fromName: 'Live Caller',
          participants: [{ name: 'Live Caller', aor: 'sip:+15558001@example.com' }, { name: 'Live Callee', aor: 'sip:+15558002@example.com' }],
        });
        try {
          const answered = await call.answered;
          assert.ok(answered, `sipp got no 200 OK (see ${call.dir})`);
          const row = await newLiveRow(page, known, answered.at + 3000);
          assert.ok(row, `no new row on /live within 3 s of the 200 OK`);
          const detail = (await fx.api.get(`/api/v1/calls/${row.id}`)).json;
          assert.equal(detail?.sip_call_id, answered.sipCallId, 'the new row is the sipp call');
          console.log(`live: row after ${row.at - answered.at} ms`);
          const cell = `table#live-table tr[data-call-id="${row.id}"] td.duration`;
          const d1 = (await page.textContent(cell)).trim();
          await sleep(1300);
          const d2 = (await page.textContent(cell)).trim();
          assert.match(d2, /^(\d+:)?\d{1,2}:\d\d$/, `duration cell ${JSON.stringify(d2)}`);
          assert.notEqual(d1, d2, 'the duration ticks');
          const bye = await call.bye;
          assert.ok(bye, 'sipp sent its BYE');
          const gone = await liveRowGone(page, row.id, bye.at + 5000);
          assert.ok(gone, `the row is still on /live 5 s after the BYE`);
          console.log(`live: gone ${gone - bye.at} ms after the BYE`);
        } finally {
          const r = await call.done;
          assert.equal(r.rc, 0, `sipp (see ${call.dir})`);
        }
      });
  });
}

export function xssSuite(fx) {
  describe('XSS: network strings are text', () => {
    let context, guards, page;
    before(async () => {
      ({ context, guards } = await newContext(fx.browser));
      await apiLogin(context, fx.server.base, 'admin', PASSWORDS.admin);
      page = await context.newPage();
    });
    after(async () => { await context?.close(); });

    test('HTML answers carry the Content-Security-Policy', async () => {
      const [c] = (await context.cookies()).filter((x) => x.name === 'cv_session');
      for (const p of ['/login', '/calls', `/calls/${fx.calls.xss}`, '/live', '/audit']) {
        const r = await request(fx.server.base, 'GET', p, { headers: { Cookie: `cv_session=${c.value}` } });
        assert.equal(r.status, 200, `${p}: ${r.status}`);
        assert.match(r.headers['content-type'] || '', /^text\/html/);
        assert.equal(r.headers['content-security-policy'], CSP, p);
      }
    });

    test('list', async () => {
      await open(page, fx.server.base, '/calls');
      assert.ok((await rowIds(page)).includes(fx.calls.xss), 'the XSS call is on the first page');
      await assertText(page, `table#calls-table tr[data-call-id="${fx.calls.xss}"]`, [XSS.img, XSS.script], 'list');
      await assertClean(page, guards, 'list');
    });

    test('detail: participants and metadata', async () => {
      await open(page, fx.server.base, `/calls/${fx.calls.xss}`);
      await assertText(page, '#participants', [XSS.img, XSS.script, XSS.uri], 'detail');
      const raw = (await fx.api.get(`/api/v1/calls/${fx.calls.xss}`)).json.metadata[0].raw;
      const pre = await page.$$eval('#metadata pre.metadata-snapshot', (ps) => ps.map((p) => p.textContent));
      assert.ok(pre.some((t) => t.includes('&lt;img src=x onerror=alert(1)&gt;') && t.includes(XSS.uri)),
        'the metadata snapshot is shown as its XML text');
      assert.ok(pre.some((t) => t.trim() === raw.trim()), 'the snapshot text is the raw metadata');
      await assertClean(page, guards, 'detail');
    });

    test('live', { timeout: 60000 }, async () => {
      await open(page, fx.server.base, '/live');
      const known = new Set(await rowIds(page, 'table#live-table'));
      const call = await sippCall(fx.server, fx.server.work, {
        tag: 'xss-live', durationMs: 6000, fromName: XSS.img,
        participants: [{ name: XSS.script, aor: XSS.uri }, { name: XSS.img, aor: 'sip:+15552002@example.com' }],
      });
      try {
        const answered = await call.answered;
        assert.ok(answered, 'sipp got its 200 OK');
        const row = await newLiveRow(page, known, answered.at + 5000);
        assert.ok(row, 'the XSS call shows on /live');
        await assertText(page, `table#live-table tr[data-call-id="${row.id}"]`, [XSS.img, XSS.script], 'live');
        await assertClean(page, guards, 'live');
      } finally {
        await call.done;
      }
    });

    test('audit', async () => {
      await open(page, fx.server.base, '/audit?action=token.create');
      await page.waitForSelector('table#audit-table tr[data-audit-id]');
      await assertText(page, 'table#audit-table', [XSS.img, '<script>alert(2)</script>', XSS.uri], 'audit');
      await assertClean(page, guards, 'audit');
    });
  });
}

// Last: across every page of the run, no dialog and no CSP violation.
export function guardsSuite() {
  test('no dialog and no CSP violation on any page of the run', () => {
    const dialogs = allGuards.flatMap((g) => g.dialogs);
    const csp = allGuards.flatMap((g) => g.csp);
    const errors = allGuards.flatMap((g) => g.pageErrors);
    if (errors.length) console.log('page errors:', JSON.stringify(errors.slice(0, 10)));
    assert.deepEqual(dialogs, []);
    assert.deepEqual(csp, []);
  });
}
