// The data set every browser test works on, built once per run:
//
// Server A (`recording.format = "wav"`): WAV calls recorded with sipp — "wav" (WAV_SECONDS, long
// enough that Chromium does not hold the whole file when it seeks, so a seek makes a Range request),
// "silent" (second leg streams A-law digital silence: a flat channel), "xss" (participant names
// `<img src=x onerror=alert(1)>` and `"><script>alert(2)</script>`, a participant AOR
// `javascript:alert(3)`, the From display name too), "short"; then ~140 synthetic calls put
// through the catalog's documented hand-off (a manifest + an outbox entry, docs/formats/
// manifest.md and outbox.md) with audio copied from the recorded ones: spread over 20 days, with
// tenants "tenant-a" / "tenant-b" (set in the manifests, as a recorder's [[tenants.rule]] would —
// tests/tenants/ checks the rules themselves),
// varied participants, durations and states, enough for paging; tags set through the API; three
// API tokens named after the XSS strings (their audit entries carry the names).
//
// Server B (`recording.format = "opus"`): one long Opus call ("opus", started in the background,
// OPUS_SECONDS long so that its file outgrows Chromium's preload) — the recording format is a
// per-server setting, so the Opus call gets its own server (own data dir and origin).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Api, Server, makeWorkDir, waitFor } from './harness.mjs';
import { sippCall, sippCalls } from './sipp.mjs';

export const XSS = {
  img: '<img src=x onerror=alert(1)>',
  script: '"><script>alert(2)</script>',
  uri: 'javascript:alert(3)',
};
export const PASSWORDS = {
  admin: 'admin-password-1',
  'viewer-a': 'viewer-a-password',
  'user-b': 'user-b-password',
  lockme: 'lockme-password',
};
// Long enough that the files outgrow what Chromium reads ahead (suite-media.mjs).
export const WAV_SECONDS = 30;
export const OPUS_SECONDS = 150;
const DAY = 86400000;

// Names and numbers of the synthetic calls (index i picks from these).
const FIRST = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank', 'Grace', 'Heidi', 'Ivan', 'Judy', 'Mallory', 'Zed'];

function uuidv7(ms) {
  const hex = ms.toString(16).padStart(12, '0');
  const r = crypto.randomBytes(10).toString('hex');
  const variant = ((parseInt(r[3], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${r.slice(0, 3)}-${variant}${r.slice(4, 7)}-${r.slice(7, 19)}`;
}

const iso = (ms) => new Date(ms).toISOString();
const xmlText = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function metadataXml(sipCallId, parts) {
  const p = parts.map((x, i) => `<participant participant_id="cA${i}"><nameID aor="${xmlText(x.aor)}"><name>${xmlText(x.name)}</name></nameID></participant>`);
  return '<?xml version="1.0" encoding="UTF-8"?>\r\n<recording xmlns="urn:ietf:params:xml:ns:recording:1">\r\n' +
    `<datamode>complete</datamode>\r\n<session session_id="c3ludGg="><sipSessionID>${xmlText(sipCallId)}</sipSessionID></session>\r\n` +
    p.join('\r\n') + '\r\n</recording>';
}

// Every manifest under the recordings dir: {sip_call_id → {path, manifest}}.
function manifestsBySipId(dir) {
  const out = {};
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.json')) {
        try {
          const m = JSON.parse(fs.readFileSync(p, 'utf8'));
          out[m.sip_call_id] = { path: p, manifest: m };
        } catch { /* being written */ }
      }
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

// A synthetic call from `source` (a recorded call's manifest): the audio file is copied, the
// manifest rewritten (new UUIDv7 call id and SIP Call-ID, times, tenant, participants, state),
// then an outbox entry hands it to the running server's catalog ingest.
function injectCall(server, source, spec) {
  const rec = server.recordingsDir();
  const started = Math.round(spec.startedMs);
  const id = uuidv7(started);
  const sipCallId = `synthetic-${id}@web.test`;
  const m = structuredClone(source.manifest);
  const ext = path.extname(m.audio.file);
  const rel = `synthetic/${id}${ext}`;
  fs.mkdirSync(path.join(rec, 'synthetic'), { recursive: true });
  fs.copyFileSync(path.join(rec, m.audio.file), path.join(rec, rel));
  m.call_id = id;
  m.sip_call_id = sipCallId;
  m.tenant = spec.tenant || null;
  m.state = spec.state || 'completed';
  m.end_reason = m.state === 'timed_out' ? 'rtp_timeout' : m.state === 'partial' ? 'crash' : 'bye';
  m.times = {
    started: iso(started), answered: iso(started + 20), ended: iso(started + 20 + spec.durationMs),
    duration_ms: spec.durationMs, finalized: iso(started + 500 + spec.durationMs),
  };
  m.audio.file = rel;
  m.audio.started = iso(started + 20);
  m.participants = m.participants.map((p, i) => ({ ...p, name: spec.parts[i].name, aor: spec.parts[i].aor, aors: [spec.parts[i].aor] }));
  m.metadata = [{ at: iso(started), content_type: 'application/rs-metadata+xml', problems: [],
    raw: metadataXml(sipCallId, spec.parts), source: 'INVITE', well_formed: true }];
  const manifestRel = rel + '.json';
  const write = (file, text) => {
    fs.writeFileSync(file + '.tmp', text);
    fs.renameSync(file + '.tmp', file);
  };
  write(path.join(rec, manifestRel), JSON.stringify(m, null, 1));
  const bucket = path.join(server.dataDir, 'outbox', 'catalog', id.slice(0, 8));
  fs.mkdirSync(bucket, { recursive: true });
  write(path.join(bucket, id + '.json'), JSON.stringify({
    call_id: id, finalized: m.times.finalized, format: 'callvault-outbox', manifest: manifestRel,
    state: m.state, version: 1,
  }) + '\n');
  return { id, sipCallId, tenant: m.tenant, startedMs: started, durationMs: spec.durationMs, state: m.state, parts: spec.parts };
}

// Waits until the catalog lists every id of `ids` in a final state; throws otherwise.
async function waitCatalogued(api, ids, timeoutMs, what) {
  let missing = ids;
  const ok = await waitFor(async () => {
    const calls = await api.allCalls();
    const final = new Set(calls.filter((c) => c.state !== 'active').map((c) => c.id));
    missing = ids.filter((id) => !final.has(id));
    return missing.length === 0;
  }, timeoutMs, 500);
  if (!ok) throw new Error(`${what}: ${missing.length} of ${ids.length} calls not catalogued after ${timeoutMs} ms`);
}

// The recorded call ids by tag, matched through the manifests' SIP Call-IDs.
async function recordedIds(server, handles) {
  const out = {};
  const ok = await waitFor(() => {
    const by = manifestsBySipId(server.recordingsDir());
    for (const h of handles) if (by[h.sipCallId]) out[h.tag] = { id: by[h.sipCallId].manifest.call_id, ...by[h.sipCallId] };
    return handles.every((h) => out[h.tag]);
  }, 30000, 200);
  if (!ok) throw new Error('recorded calls without a manifest: ' + handles.filter((h) => !out[h.tag]).map((h) => h.tag).join(', '));
  return out;
}

export async function buildFixture({ artifacts } = {}) {
  const t0 = Date.now();
  const work = makeWorkDir();
  const fx = { work, artifacts: artifacts || path.join(work, 'artifacts'), servers: [] };
  fx.log = (msg) => console.log(`[fixture +${((Date.now() - t0) / 1000).toFixed(1)} s] ${msg}`);
  fx.log(`work dir ${work}`);

  // --- server B: the long Opus call, in the background ---
  const b = new Server(path.join(work, 'opus'), { format: 'opus', nodeId: 'web-test-opus' });
  fs.mkdirSync(b.work, { recursive: true });
  fx.servers.push(b);
  await b.writeConfig();
  b.addUser('admin', 'admin', PASSWORDS.admin);
  await b.start();
  fx.opusServer = b;
  fx.opusApi = new Api(b.base, { user: 'admin', password: PASSWORDS.admin });
  const opusCall = await sippCall(b, b.work, {
    tag: 'opus', durationMs: OPUS_SECONDS * 1000,
    participants: [{ name: 'Olga Opus', aor: 'sip:+15554001@example.com' }, { name: 'Oscar Opus', aor: 'sip:+15554002@example.com' }],
  });
  // Resolves to the Opus call's id once it is recorded and catalogued.
  fx.opusReady = (async () => {
    const r = await opusCall.done;
    if (r.rc !== 0 || !r.answered || !r.ended) throw new Error(`the Opus call failed: sipp rc=${r.rc} (see ${opusCall.dir})`);
    const ids = await recordedIds(b, [opusCall]);
    await waitCatalogued(fx.opusApi, [ids.opus.id], 30000, 'opus');
    return ids.opus.id;
  })();
  fx.opusReady.catch(() => {});  // awaited by the Opus tests

  // --- server A: WAV ---
  const a = new Server(path.join(work, 'wav'), { format: 'wav', nodeId: 'web-test' });
  fs.mkdirSync(a.work, { recursive: true });
  fx.servers.push(a);
  await a.writeConfig();
  a.addUser('admin', 'admin', PASSWORDS.admin);
  a.addUser('viewer-a', 'viewer', PASSWORDS['viewer-a'], 'tenant-a');
  a.addUser('user-b', 'viewer', PASSWORDS['user-b'], 'tenant-b');
  a.addUser('lockme', 'viewer', PASSWORDS.lockme);
  await a.start();
  fx.server = a;
  fx.api = new Api(a.base, { user: 'admin', password: PASSWORDS.admin });
  fx.log(`server A ${a.base} (SIP ${a.sipPort}), server B ${b.base} (SIP ${b.sipPort})`);

  const handles = await sippCalls(a, a.work, [
    { tag: 'wav', durationMs: WAV_SECONDS * 1000, fromName: 'Alice Wav',
      participants: [{ name: 'Alice Wav', aor: 'sip:+15551001@example.com' }, { name: 'Bob Wav', aor: 'sip:+15552001@example.com' }] },
    { tag: 'silent', durationMs: 6000, leg2: 'silence',
      participants: [{ name: 'Carol Silent', aor: 'sip:+15551003@example.com' }, { name: 'Dan Silent', aor: 'sip:+15552003@example.com' }] },
    { tag: 'xss', durationMs: 4000, fromName: XSS.img,
      participants: [{ name: XSS.script, aor: XSS.uri }, { name: XSS.img, aor: 'sip:+15552002@example.com' }] },
    { tag: 'short', durationMs: 2000, fromName: 'Erin Short',
      participants: [{ name: 'Erin Short', aor: 'sip:+15551004@example.com' }, { name: 'Frank Short', aor: 'sip:+15552004@example.com' }] },
  ]);
  const rec = await recordedIds(a, handles);
  await waitCatalogued(fx.api, Object.values(rec).map((r) => r.id), 30000, 'recorded WAV calls');
  fx.calls = Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, v.id]));
  fx.log(`recorded ${JSON.stringify(fx.calls)}`);

  // --- synthetic calls ---
  const now = Date.now();
  const synthetic = [];
  const states = ['completed', 'completed', 'completed', 'timed_out', 'completed', 'partial', 'completed'];
  for (let i = 0; i < 140; i++) {
    const tenant = i % 10 === 3 ? 'tenant-a' : i % 10 === 7 ? 'tenant-b' : null;
    const first = FIRST[i % FIRST.length];
    const second = FIRST[(i * 5 + 3) % FIRST.length];
    const source = i % 2 ? rec.short : rec.silent;
    synthetic.push(injectCall(a, source, {
      startedMs: now - 3600000 - i * (20 * DAY / 140) - (i % 7) * 61000,
      durationMs: 1000 + ((i * 7919) % 600) * 1000 + (i % 13) * 17,
      tenant, state: states[i % states.length],
      parts: [{ name: `${first} ${i}`, aor: `sip:+1555300${String(i).padStart(3, '0')}@example.com` },
        { name: `${second} Callee ${i}`, aor: `sip:+1555600${String(i).padStart(3, '0')}@example.net` }],
    }));
  }
  // The tenant calls that play: copies of the long WAV call.
  for (const [k, tenant] of [['tenantA', 'tenant-a'], ['tenantB', 'tenant-b']]) {
    const c = injectCall(a, rec.wav, {
      startedMs: now - 1800000, durationMs: WAV_SECONDS * 1000, tenant,
      parts: [{ name: `${tenant} caller`, aor: 'sip:+15557001@example.com' }, { name: `${tenant} callee`, aor: 'sip:+15557002@example.com' }],
    });
    fx.calls[k] = c.id;
    synthetic.push(c);
  }
  fx.synthetic = synthetic;
  await waitCatalogued(fx.api, synthetic.map((c) => c.id), 60000, 'synthetic calls');
  fx.log(`${synthetic.length} synthetic calls catalogued`);

  // --- tags (through the API: also audit entries) ---
  const vip = [fx.calls.wav, ...synthetic.filter((_, i) => i % 9 === 0).map((c) => c.id)];
  for (const id of vip) {
    const r = await fx.api.post(`/api/v1/calls/${id}/tags`, { tags: ['vip'] });
    if (r.status !== 200) throw new Error(`tagging ${id}: ${r.status} ${r.text}`);
  }
  fx.vip = vip;

  // --- tokens named after the XSS strings: token.create audit entries carry the names ---
  fx.xssTokens = [];
  for (const name of Object.values(XSS)) {
    const r = await fx.api.post('/api/v1/tokens', { name });
    if (r.status !== 201) throw new Error(`token ${JSON.stringify(name)}: ${r.status} ${r.text}`);
    fx.xssTokens.push(r.json.id);
  }
  fx.log('fixture ready');
  return fx;
}

export async function closeFixture(fx) {
  for (const s of fx.servers || []) await s.stop().catch(() => {});
}
