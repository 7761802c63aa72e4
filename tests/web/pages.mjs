// Page helpers of the browser tests, written against the DOM hooks of /work/notes/web-contract.md
// ("DOM hooks the browser tests use"): login, reading the calls table, waiting for a reload to
// settle, local date-time strings as a datetime-local input takes them.
import assert from 'node:assert/strict';
import { TIMEZONE, ready } from './browser.mjs';
import { sleep } from './harness.mjs';

// Logs `context` in through the API (the cookie lands in the context's jar). Returns the body.
export async function apiLogin(context, base, username, password) {
  const r = await context.request.post(base + '/api/v1/session', {
    data: { username, password }, failOnStatusCode: false, timeout: 15000,
  });
  assert.equal(r.status(), 201, `POST /api/v1/session as ${username}: ${r.status()} ${await r.text()}`);
  return r.json();
}

// The call ids of the rows of `table` (calls list or live), in page order.
export function rowIds(page, table = 'table#calls-table') {
  return page.$$eval(`${table} tr[data-call-id]`, (rows) => rows.map((r) => r.getAttribute('data-call-id')));
}

// Waits until the page is rendered (body[data-ready="1"]) and its rows stay the same over two
// reads 300 ms apart; returns the ids. Bounded by timeoutMs.
export async function settledIds(page, table = 'table#calls-table', timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  let last = null;
  for (;;) {
    await ready(page, Math.max(1, deadline - Date.now()));
    const ids = await rowIds(page, table);
    const still = await page.evaluate(() => document.body.dataset.ready === '1');
    if (still && last && JSON.stringify(ids) === JSON.stringify(last)) return ids;
    last = still ? ids : null;
    if (Date.now() > deadline) throw new Error(`${page.url()}: the rows did not settle in ${timeoutMs} ms`);
    await sleep(300);
  }
}

// Opens `path`, waits for the first render.
export async function open(page, base, path) {
  const resp = await page.goto(base + path);
  await ready(page);
  return resp;
}

// 'YYYY-MM-DDTHH:MM' of instant `ms` in the browsers' time zone (what a datetime-local input
// shows for it).
export function localDateTime(ms, timeZone = TIMEZONE) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

// fetch() from inside the page (the browser's own cookie, Origin and CSRF handling); returns
// {status, code, text}. opts: {method, headers, body (object → JSON)}.
export function pageFetch(page, url, opts = {}) {
  return page.evaluate(async ({ url, opts }) => {
    const init = { method: opts.method || 'GET', headers: opts.headers || {}, credentials: 'same-origin' };
    if (opts.body !== undefined) {
      init.body = JSON.stringify(opts.body);
      init.headers['Content-Type'] = 'application/json';
    }
    const r = await fetch(url, init);
    const text = await r.text();
    let code = null;
    try { code = JSON.parse(text).error.code; } catch { /* not an error body */ }
    return { status: r.status, code, text: text.slice(0, 500) };
  }, { url, opts });
}

// Every DOM trace an injected string could leave: elements it could have created, inline
// handlers, javascript: URLs, inline scripts. Returns a list of findings (empty = clean).
export function markupFindings(page) {
  return page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('*')) {
      const tag = el.tagName.toLowerCase();
      if (tag === 'img' && /(^|\/)x$/.test(el.getAttribute('src') || '')) out.push('img src=x');
      if (tag === 'script' && (!el.src || !new URL(el.src).pathname.startsWith('/assets/'))) {
        out.push('script ' + (el.src || JSON.stringify(el.textContent.slice(0, 60))));
      }
      for (const a of el.attributes) {
        if (/^on/i.test(a.name)) out.push(`${tag}[${a.name}]`);
        if (/^\s*javascript:/i.test(a.value)) out.push(`${tag}[${a.name}=${a.value}]`);
      }
    }
    return out;
  });
}
