// The web portal benchmark (issue 16): the call list in headless Chromium over a catalog of N
// calls, on SQLite and on PostgreSQL, and the waveform of one-hour WAV and Opus calls.
// Run it through bench/portal_bench.sh (finds Node ≥ 20 and the binaries); results:
// docs/performance.md. Figures are printed, never asserted.
//
// Per backend:
//   1. bench/portal_fill ingests N corpus calls (bench/catalog_corpus.h, the calls catalog_bench
//      times) through Catalog::IngestManifests into the data dir's catalog.db, or into a private
//      PostgreSQL it starts and keeps running until its standard input closes; it also writes a
//      one-hour WAV and a one-hour Ogg/Opus call (the finalizer's encoder) with their manifests.
//   2. `callvault serve` on that data dir (tests/web/harness.mjs; `[catalog] url` for
//      PostgreSQL), a user made with `callvault user add`, logged in through the login page.
//   3. Three list pages, each WARMUPS + LOADS times, cold and warm:
//        first      /calls                                   (50 rows)
//        week+caller /calls?from=…&to=…&caller=+15551        (the corpus's last 7 days, 50 rows)
//        rare text  /calls?q=ticket <i>                      (one call has the note)
//      cold = a fresh browser context per load (empty HTTP cache) with a new session cookie from
//      POST /api/v1/session in its jar; warm = one page navigated again and again (assets from
//      the cache; the HTML shell is no-cache, revalidated: 304; the API is no-store).
//      Time = in the page, performance.now() (0 = the navigation's start, the document's time
//      origin) when the rows are painted: a MutationObserver installed by an init script sees
//      body[data-ready="1"] (set by the page once its rows are in the DOM), then one animation
//      frame and a task later the frame holding them is done. Also kept: the DOM time, the wall
//      time around page.goto + the wait (node side), and the page's own resource timings.
//      With --compare-encoding "gzip, deflate" each case is measured a second time with the
//      browser offering that instead of its own "gzip, deflate, br, zstd" (the server answers br
//      when offered), in the same run.
//   4. The same API requests the page makes (GET /api/v1/calls?…, and GET /api/v1/session),
//      from node with fetch (keep-alive, the session cookie), offering gzip and offering br as
//      Chromium does: the in-run baseline. The server's own handling time per route comes from
//      its log (`event=http.request … ms=`).
//   5. GET /api/v1/calls/{id}/waveform?points=N of both one-hour calls: first (computed; points
//      1000, then 1001 and 1002 — other cache keys, computed again) and cached (points=1000).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { Server, request, watchdog } from '../tests/web/harness.mjs';
import { CHROMIUM, launchBrowser, newContext } from '../tests/web/browser.mjs';
import { apiLogin } from '../tests/web/pages.mjs';

const USER = 'bench';
const PASSWORD = 'portal-bench-password-1';
const GOAL_MS = 300;
const LOAD_TIMEOUT_MS = 30000;  // one navigation until its rows are painted
const here = path.dirname(new URL(import.meta.url).pathname);

function parseArgs(argv) {
  const o = {
    calls: 100000, backends: ['sqlite', 'postgresql'], loads: 50, warmups: 5, waveformRuns: 3,
    cachedRuns: 10, keep: false, out: null, cases: null, compareEncoding: null,
    fill: process.env.PORTAL_FILL || path.resolve(here, '..', 'build', 'release', 'bench', 'portal_fill'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--calls') o.calls = Number(val());
    else if (a === '--backends') o.backends = val().split(',').filter(Boolean);
    else if (a === '--loads') o.loads = Number(val());
    else if (a === '--warmups') o.warmups = Number(val());
    else if (a === '--waveform-runs') o.waveformRuns = Number(val());
    else if (a === '--cases') o.cases = val().split(',').filter(Boolean);
    else if (a === '--out') o.out = val();
    else if (a === '--keep') o.keep = true;
    else if (a === '--compare-encoding') o.compareEncoding = val();
    else throw new Error(`unknown option ${a}`);
  }
  for (const b of o.backends) {
    if (b !== 'sqlite' && b !== 'postgresql') throw new Error(`unknown backend ${b}`);
  }
  if (!(o.calls >= 1000) || !(o.loads >= 1) || !(o.warmups >= 0)) {
    throw new Error('--calls ≥ 1000, --loads ≥ 1, --warmups ≥ 0');
  }
  return o;
}

const log = (msg) => console.log(`[portal_bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

// Nearest-rank percentile of `values` (p in 0..100).
function pct(values, p) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)];
}
const ms = (v) => (v === undefined || v === null ? '–' : v < 10 ? v.toFixed(1) : v.toFixed(0));

// --- the catalog: bench/portal_fill -------------------------------------------------------------
// Starts portal_fill (own process group, so a terminal's ^C reaches node, whose exit closes the
// pipe: portal_fill then stops its PostgreSQL cleanly). Resolves {child, ready} once it printed
// its ready line; rejects on exit or after timeoutMs.
function startFill(bin, args, logPath, timeoutMs) {
  const err = fs.openSync(logPath, 'a');
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', err], detached: true });
  fs.closeSync(err);
  child.exited = new Promise((resolve) => child.once('exit', (code, sig) => resolve({ code, sig })));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
      reject(new Error(`portal_fill not ready after ${timeoutMs / 1000} s (log ${logPath})`));
    }, timeoutMs);
    child.stdout.on('data', (d) => {
      out += d.toString();
      const m = /^portal_fill: ready (.*)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, ready: JSON.parse(m[1]) });
      }
    });
    child.exited.then(({ code, sig }) => {
      clearTimeout(timer);
      reject(new Error(`portal_fill exited (${code ?? sig}) before it was ready: ` +
        fs.readFileSync(logPath, 'utf8').slice(-2000)));
    });
  });
}

async function stopFill(fill) {
  fill.child.stdin.end();
  const timer = setTimeout(() => { try { process.kill(-fill.child.pid, 'SIGTERM'); } catch { /* gone */ } }, 60000);
  await fill.child.exited;
  clearTimeout(timer);
}

// `callvault serve` on the filled data dir; PostgreSQL through `[catalog] url`.
class BenchServer extends Server {
  constructor(work, catalogUrl) {
    super(work, { format: 'wav', nodeId: 'portal-bench' });
    this.catalogUrl = catalogUrl;
  }

  async writeConfig() {
    await super.writeConfig();
    if (this.catalogUrl) fs.appendFileSync(this.config, `\n[catalog]\nurl = "${this.catalogUrl}"\n`);
  }
}

// --- the browser --------------------------------------------------------------------------------
// Init script of every context: times the first rendered data load of each document.
function timingScript() {
  const st = { dom: null, painted: null, rows: 0, empty: false };
  window.__cvBench = st;
  const check = () => {
    const body = document.body;
    if (st.dom !== null || !body || body.dataset.ready !== '1') return;
    st.dom = performance.now();
    st.rows = document.querySelectorAll('table#calls-table tr[data-call-id]').length;
    st.empty = document.getElementById('calls-empty') !== null;
    observer.disconnect();
    requestAnimationFrame(() => setTimeout(() => { st.painted = performance.now(); }, 0));
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-ready'] });
}

// `encodings`: what the context's requests offer as Accept-Encoding instead of Chromium's own
// (--compare-encoding "gzip, deflate": what the page costs when the server does not answer in
// brotli); null = Chromium's.
async function benchContext(browser, base, encodings = null) {
  const { context, guards } = await newContext(browser, { baseURL: base });
  if (encodings) await context.setExtraHTTPHeaders({ 'Accept-Encoding': encodings });
  context.setDefaultTimeout(LOAD_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(LOAD_TIMEOUT_MS);
  await context.addInitScript(timingScript);
  return { context, guards };
}

// One navigation to `url` until its rows are painted. Returns the page's figures.
async function timedLoad(page, url, expectRows) {
  const t0 = performance.now();
  await page.goto(url, { waitUntil: 'commit', timeout: LOAD_TIMEOUT_MS });
  await page.waitForFunction(() => window.__cvBench && window.__cvBench.painted !== null, null,
    { timeout: LOAD_TIMEOUT_MS, polling: 'raf' });
  const wall = performance.now() - t0;
  const m = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const res = performance.getEntriesByType('resource');
    const api = (p) => res.find((e) => new URL(e.name).pathname === p);
    const calls = api('/api/v1/calls');
    const session = api('/api/v1/session');
    const assets = res.filter((e) => new URL(e.name).pathname.startsWith('/assets/'));
    return {
      ...window.__cvBench,
      html: nav ? nav.responseEnd : null,
      parsed: nav ? nav.domInteractive : null,
      sessionStart: session ? session.startTime : null,
      sessionEnd: session ? session.responseEnd : null,
      callsStart: calls ? calls.startTime : null,
      callsEnd: calls ? calls.responseEnd : null,
      callsUrl: calls ? calls.name : null,
      assets: assets.length,
      assetsFetched: assets.filter((e) => e.transferSize > 0).length,
      assetsEnd: assets.reduce((t, e) => Math.max(t, e.responseEnd), 0),
    };
  });
  if (m.rows !== expectRows) {
    throw new Error(`${url}: ${m.rows} rows rendered, the API lists ${expectRows}`);
  }
  return { ...m, wall };
}

function checkGuards(guards, what) {
  const bad = [...guards.pageErrors, ...guards.consoleErrors, ...guards.csp];
  if (bad.length) throw new Error(`${what}: page errors ${JSON.stringify(bad.slice(0, 3))}`);
}

async function coldLoads(browser, base, url, expectRows, n, encodings) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const { context, guards } = await benchContext(browser, base, encodings);
    try {
      await apiLogin(context, base, USER, PASSWORD);  // a new session cookie in the context's jar
      const page = await context.newPage();
      out.push(await timedLoad(page, url, expectRows));
      checkGuards(guards, url);
    } finally {
      await context.close();
    }
  }
  return out;
}

async function warmLoads(page, url, expectRows, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await timedLoad(page, url, expectRows));
  return out;
}

// What Chromium 120+ sends (the server picks br when offered; node's fetch offers gzip, deflate).
const BROWSER_ENCODINGS = 'gzip, deflate, br, zstd';

// The same request from node: fetch with keep-alive, the session cookie and `encodings` as
// Accept-Encoding; ms per answer received and parsed.
async function apiLoads(base, apiPath, cookie, n, encodings = 'gzip, deflate') {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await fetch(base + apiPath, {
      headers: { Cookie: cookie, Accept: 'application/json', 'Accept-Encoding': encodings },
      signal: AbortSignal.timeout(LOAD_TIMEOUT_MS) });
    await r.json();
    if (r.status !== 200) throw new Error(`GET ${apiPath}: ${r.status}`);
    out.push(performance.now() - t0);
  }
  return out;
}

// Medians of the server's own handling time (`event=http.request … route=… ms=`, its log) per
// route, over the log lines since `from` (a length of the log).
function serverTimes(server, from) {
  const by = {};
  for (const m of server.log().slice(from).matchAll(/event=http\.request .*?route="([^"]*)" status=\d+ .*?ms=([\d.]+)/g)) {
    (by[m[1]] ||= []).push(Number(m[2]));
  }
  const med = (route) => (by[route] ? pct(by[route], 50) : null);
  return { html: med('/calls'), session: med('/api/v1/session'), calls: med('/api/v1/calls'),
    assets: med('/assets/{hash}/{path}') };
}

function summary(loads, key = 'painted') {
  const v = loads.map((l) => l[key]);
  return { p50: pct(v, 50), p95: pct(v, 95) };
}

function medianOf(loads, key) {
  const v = loads.map((l) => l[key]).filter((x) => x !== null && x !== undefined);
  return v.length ? pct(v, 50) : null;
}

// --- one backend --------------------------------------------------------------------------------
async function runBackend(o, backend, root, browser) {
  const work = path.join(root, backend);
  const dataDir = path.join(work, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const fillLog = path.join(work, 'portal_fill.log');
  const args = [`--calls=${o.calls}`, `--recordings=${path.join(dataDir, 'recordings')}`,
    backend === 'sqlite' ? `--catalog=sqlite:${path.join(dataDir, 'catalog.db')}` : '--postgresql'];
  log(`${backend}: portal_fill ${args.join(' ')} (log ${fillLog})`);
  const fillTimeoutMs = 600000 + o.calls * 20;
  const fill = await startFill(o.fill, args, fillLog, fillTimeoutMs);
  const r = fill.ready;
  const result = { backend, calls: r.calls, ingest_s: r.ingest_s, cases: [], waveform: {} };
  log(`${backend}: ${r.calls} calls ingested in ${r.ingest_s.toFixed(1)} s ` +
    `(${(r.calls / r.ingest_s).toFixed(0)} calls/s); one-hour calls wav ${r.wav_call}, opus ${r.opus_call}`);
  let server = null;
  try {
    server = new BenchServer(work, backend === 'postgresql' ? r.catalog : null);
    await server.writeConfig();
    server.addUser(USER, 'admin', PASSWORD);
    const t0 = performance.now();
    await server.start(120000);
    const build = /event=server\.starting (version=\S+ git=\S+)/.exec(server.log());
    log(`${backend}: callvault serve ${build ? build[1] : ''} on ${server.base} ` +
      `(up in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    const base = server.base;

    // Logged in through the portal's login page: this context is the warm one.
    const warm = await benchContext(browser, base);
    const page = await warm.context.newPage();
    await page.goto('/login?next=%2Fcalls');
    await page.fill('#username', USER);
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(/\/calls$/), page.click('#login-submit')]);
    await page.waitForSelector('body[data-ready="1"]', { state: 'attached' });
    const cookie = (await warm.context.cookies()).find((c) => /cv_session$/.test(c.name));
    if (!cookie) throw new Error('no session cookie after logging in');
    const cookieHeader = `${cookie.name}=${cookie.value}`;

    const c = r.corpus;
    const day = 86400000;
    const weekTo = c.t0_ms + c.span_days * day;
    const iso = (t) => new Date(t).toISOString().replace('.000Z', 'Z');
    const ticket = Math.floor(r.calls / 2 / c.ticket_every) * c.ticket_every;
    const cases = [
      ['first', 'first page, unfiltered', {}],
      ['week_caller', `last 7 days + caller "${c.caller_prefix}1"`,
        { from: iso(weekTo - 7 * day), to: iso(weekTo), caller: `${c.caller_prefix}1` }],
      ['rare_text', `rare free text "ticket ${ticket}"`, { q: `ticket ${ticket}` }],
    ].filter(([key]) => !o.cases || o.cases.includes(key));
    for (const [key, label, params] of cases) {
      const qs = new URLSearchParams(params).toString();
      const url = '/calls' + (qs ? `?${qs}` : '');
      const first = await request(base, 'GET', '/api/v1/calls' + (qs ? `?${qs}` : ''),
        { headers: { Cookie: cookieHeader }, timeoutMs: LOAD_TIMEOUT_MS });
      if (first.status !== 200) throw new Error(`GET /api/v1/calls?${qs}: ${first.status} ${first.text.slice(0, 200)}`);
      const expectRows = first.json.calls.length;
      log(`${backend} ${key}: ${url} → ${expectRows} rows`);
      // The API alone, from node, as the page asks for it.
      const apiPath = url.replace(/^\/calls/, '/api/v1/calls');
      const api = (await apiLoads(base, apiPath, cookieHeader, o.warmups + o.loads)).slice(o.warmups);
      const apiBr = (await apiLoads(base, apiPath, cookieHeader, o.warmups + o.loads, BROWSER_ENCODINGS))
        .slice(o.warmups);
      const session = (await apiLoads(base, '/api/v1/session', cookieHeader, o.warmups + o.loads)).slice(o.warmups);
      for (const encodings of [null, ...(o.compareEncoding ? [o.compareEncoding] : [])]) {
        const offers = encodings || 'Chromium\'s own';
        log(`${backend} ${key} (browser offers ${offers}): cold ${o.warmups}+${o.loads}`);
        await coldLoads(browser, base, url, expectRows, o.warmups, encodings);
        let mark = server.log().length;
        const cold = await coldLoads(browser, base, url, expectRows, o.loads, encodings);
        const coldServer = serverTimes(server, mark);
        log(`${backend} ${key} (browser offers ${offers}): warm ${o.warmups}+${o.loads}`);
        await page.setExtraHTTPHeaders(encodings ? { 'Accept-Encoding': encodings } : {});
        await warmLoads(page, url, expectRows, o.warmups);
        mark = server.log().length;
        const warmRuns = await warmLoads(page, url, expectRows, o.loads);
        const warmServer = serverTimes(server, mark);
        checkGuards(warm.guards, url);
        const pageApi = warmRuns[0].callsUrl && new URL(warmRuns[0].callsUrl);
        if (!pageApi || pageApi.pathname + pageApi.search !== apiPath) {
          throw new Error(`the page asked for ${warmRuns[0].callsUrl}, the bench times ${apiPath}`);
        }
        const row = {
          key, label, url, apiPath, rows: expectRows, offers,
          cold: summary(cold), warm: summary(warmRuns),
          coldDom: summary(cold, 'dom'), warmDom: summary(warmRuns, 'dom'),
          coldWall: summary(cold, 'wall'), warmWall: summary(warmRuns, 'wall'),
          api: { p50: pct(api, 50), p95: pct(api, 95) },
          apiBr: { p50: pct(apiBr, 50), p95: pct(apiBr, 95) },
          sessionApi: { p50: pct(session, 50), p95: pct(session, 95) },
          server: { cold: coldServer, warm: warmServer },
          // Medians of the page's own timeline (ms from navigation start).
          timeline: Object.fromEntries(['cold', 'warm'].map((k) => {
            const runs = k === 'cold' ? cold : warmRuns;
            return [k, Object.fromEntries(['html', 'parsed', 'assetsEnd', 'sessionStart', 'sessionEnd', 'callsStart',
              'callsEnd', 'dom', 'painted', 'assetsFetched'].map((f) => [f, medianOf(runs, f)]))];
          })),
        };
        result.cases.push(row);
        printCase(backend, row);
      }
    }
    await warm.context.close();

    // Waveform of the one-hour calls: first = computed, cached = from the cache.
    for (const [fmt, id] of [['wav', r.wav_call], ['opus', r.opus_call]]) {
      if (!id || o.waveformRuns < 1) continue;
      const get = async (points, encodings = 'identity') => {
        const t0 = performance.now();
        const w = await request(base, 'GET', `/api/v1/calls/${id}/waveform?points=${points}`,
          { headers: { Cookie: cookieHeader, 'Accept-Encoding': encodings }, timeoutMs: 300000 });
        const t = performance.now() - t0;
        const enc = w.headers['content-encoding'];
        const body = JSON.parse(enc === 'br' ? zlib.brotliDecompressSync(w.buffer)
          : enc === 'gzip' ? zlib.gunzipSync(w.buffer) : w.buffer);
        if (w.status !== 200 || body.channels.length !== 2 || body.points !== points) {
          throw new Error(`waveform ${fmt} points=${points}: ${w.status} ${w.text.slice(0, 200)}`);
        }
        return t;
      };
      const first = [];
      for (let i = 0; i < o.waveformRuns; i++) first.push(await get(1000 + i));
      const cached = [];
      for (let i = 0; i < o.cachedRuns; i++) cached.push(await get(1000));
      // As a browser asks for it: the JSON (~30 kB) then comes compressed in brotli.
      const cachedBr = [];
      for (let i = 0; i < o.cachedRuns; i++) cachedBr.push(await get(1000, BROWSER_ENCODINGS));
      result.waveform[fmt] = { first, cached: { p50: pct(cached, 50), max: Math.max(...cached) },
        cachedBr: { p50: pct(cachedBr, 50) } };
      log(`${backend} waveform ${fmt} (1 h): first ${first.map(ms).join(' / ')} ms ` +
        `(points 1000, 1001, …), cached p50 ${ms(pct(cached, 50))} ms (max ${ms(Math.max(...cached))}), ` +
        `cached with br offered p50 ${ms(pct(cachedBr, 50))} ms`);
    }
  } finally {
    if (server) await server.stop().catch(() => {});
    await stopFill(fill);
  }
  return result;
}

function printCase(backend, row) {
  const goal = (s) => (s.p50 <= GOAL_MS ? 'goal met' : 'goal NOT met');
  const t = row.timeline;
  console.log([
    `${backend} ${row.key} (${row.label}, ${row.rows} rows; the browser offers ${row.offers}):`,
    `  cold: p50 ${ms(row.cold.p50)} ms, p95 ${ms(row.cold.p95)} ms (${goal(row.cold)}; DOM p50 ${ms(row.coldDom.p50)}, wall p50 ${ms(row.coldWall.p50)})`,
    `  warm: p50 ${ms(row.warm.p50)} ms, p95 ${ms(row.warm.p95)} ms (${goal(row.warm)}; DOM p50 ${ms(row.warmDom.p50)}, wall p50 ${ms(row.warmWall.p50)})`,
    `  API alone (node fetch): ${row.apiPath} p50 ${ms(row.api.p50)} ms, p95 ${ms(row.api.p95)} ms (gzip offered); ` +
      `p50 ${ms(row.apiBr.p50)} ms, p95 ${ms(row.apiBr.p95)} ms (br offered, as Chromium does); ` +
      `/api/v1/session p50 ${ms(row.sessionApi.p50)} ms`,
    `  ratio to the API p50 (gzip / br): cold ${(row.cold.p50 / row.api.p50).toFixed(1)} / ${(row.cold.p50 / row.apiBr.p50).toFixed(1)}, ` +
      `warm ${(row.warm.p50 / row.api.p50).toFixed(1)} / ${(row.warm.p50 / row.apiBr.p50).toFixed(1)}`,
    ...['cold', 'warm'].map((k) => `  ${k} timeline (medians, ms): HTML ${ms(t[k].html)}, parsed ${ms(t[k].parsed)}, ` +
      `assets done ${ms(t[k].assetsEnd)} (${t[k].assetsFetched} fetched), session ${ms(t[k].sessionStart)}–${ms(t[k].sessionEnd)}, ` +
      `calls ${ms(t[k].callsStart)}–${ms(t[k].callsEnd)}, DOM ${ms(t[k].dom)}, painted ${ms(t[k].painted)}; ` +
      `server (its log) HTML ${ms(row.server[k].html)}, assets ${ms(row.server[k].assets)} each, ` +
      `session ${ms(row.server[k].session)}, calls ${ms(row.server[k].calls)}`),
  ].join('\n'));
}

function printTable(results) {
  console.log('\n| case | backend | rows | browser offers | cold p50 / p95 | warm p50 / p95 | API p50 / p95, gzip | ' +
    'API p50 / p95, br | warm ÷ API (gzip) | goal p50 ≤ 300 ms |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    for (const row of r.cases) {
      const met = (x) => (x.p50 <= GOAL_MS ? 'met' : 'not met');
      console.log(`| ${row.label} | ${r.backend} | ${row.rows} | ${row.offers} | ${ms(row.cold.p50)} / ${ms(row.cold.p95)} ms | ` +
        `${ms(row.warm.p50)} / ${ms(row.warm.p95)} ms | ${ms(row.api.p50)} / ${ms(row.api.p95)} ms | ` +
        `${ms(row.apiBr.p50)} / ${ms(row.apiBr.p95)} ms | ` +
        `${(row.warm.p50 / row.api.p50).toFixed(0)} | cold ${met(row.cold)}, warm ${met(row.warm)} |`);
    }
  }
  console.log('\n| waveform, one-hour call | backend | first (computed) runs | cached p50 | cached p50, br offered |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of results) {
    for (const [fmt, w] of Object.entries(r.waveform)) {
      console.log(`| ${fmt} | ${r.backend} | ${w.first.map(ms).join(' / ')} ms | ${ms(w.cached.p50)} ms | ` +
        `${ms(w.cachedBr.p50)} ms |`);
    }
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(o.fill)) throw new Error(`${o.fill} not found: cmake --build build/release --target portal_fill`);
  // Bounded: fill, serve and every load have their own timeouts; this ends a hung run.
  watchdog(o.backends.length * (600000 + o.calls * 20 + 3600000));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cv-portal-bench-'));
  log(`${o.calls} calls, backends ${o.backends.join(',')}, ${o.warmups} warm-ups + ${o.loads} loads per case; ` +
    `work dir ${root}; node ${process.version}; ${CHROMIUM}; ` +
    `${o.compareEncoding ? `each page also with Accept-Encoding: ${o.compareEncoding}; ` : ''}load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const browser = await launchBrowser();
  log(`Chromium ${browser.version()}`);
  const results = [];
  let ok = false;
  try {
    for (const backend of o.backends) results.push(await runBackend(o, backend, root, browser));
    ok = true;
  } finally {
    await browser.close().catch(() => {});
    if (o.out) fs.writeFileSync(o.out, JSON.stringify({ options: o, results }, null, 1));
    if (ok && !o.keep) fs.rmSync(root, { recursive: true, force: true });
    else log(`kept ${root}`);
  }
  printTable(results);
  log(`done; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

main().then(() => process.exit(0), (e) => {
  console.error(`portal_bench: ${e.stack || e}`);
  process.exit(1);
});
