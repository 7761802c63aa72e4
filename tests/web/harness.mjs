// The browser tests' server side: `callvault serve` on loopback with a temporary data dir and
// config (HTTP, SIP and RTP on free ports), users made with `callvault user add`, an HTTP client
// for the REST API (Basic auth or a session cookie), and clean-up of every process started here
// (each runs in its own process group, killed at the end, also when the test process dies).
//
// Used by fixture.mjs and the *.test.mjs files. Only 127.0.0.1 is ever contacted.
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

export const HOST = '127.0.0.1';

// --- processes ------------------------------------------------------------------------------
const groups = new Set();  // pids of process-group leaders started here

function killGroups(signal) {
  for (const pid of groups) {
    try { process.kill(-pid, signal); } catch { /* already gone */ }
  }
}
process.on('exit', () => killGroups('SIGKILL'));
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => { killGroups('SIGKILL'); process.exit(130); });
}

// Starts `cmd args` as the leader of a new process group, output to `logPath`.
export function startGroup(cmd, args, { cwd, logPath, env } = {}) {
  const fd = fs.openSync(logPath, 'a');
  const child = spawn(cmd, args, { cwd, env: env || process.env, detached: true, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  groups.add(child.pid);
  child.exited = new Promise((resolve) => child.once('exit', (code, sig) => {
    groups.delete(child.pid);
    resolve({ code, signal: sig });
  }));
  return child;
}

// SIGTERM to the whole group, SIGKILL after `graceMs`; resolves with the leader's exit.
export async function stopGroup(child, graceMs = 10000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    return child ? child.exited : null;
  }
  try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
  const timer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, graceMs);
  const r = await child.exited;
  clearTimeout(timer);
  try { process.kill(-child.pid, 'SIGKILL'); } catch { /* rest of the group already gone */ }
  return r;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls `fn` (sync or async) every `everyMs` until it returns a truthy value or `timeoutMs`
// passes; returns that value, or the last falsy one.
export async function waitFor(fn, timeoutMs, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let v;
  for (;;) {
    v = await fn();
    if (v || Date.now() >= deadline) return v;
    await sleep(Math.min(everyMs, Math.max(1, deadline - Date.now())));
  }
}

// --- ports ----------------------------------------------------------------------------------
function bindUdp(port) {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => { s.close(); resolve(null); });
    s.bind(port, HOST, () => resolve(s));
  });
}

// [lo, lo + width) where every UDP port binds on 127.0.0.1 right now, even-aligned, below the
// ephemeral range (so nothing picks them at random meanwhile).
export async function freeUdpRange(width, start = 20000, end = 32000) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const lo = (start + Math.floor(Math.random() * (end - start - width))) & ~1;
    const socks = [];
    let ok = true;
    for (let p = lo; p < lo + width; p++) {
      const s = await bindUdp(p);
      if (!s) { ok = false; break; }
      socks.push(s);
    }
    for (const s of socks) s.close();
    if (ok) return [lo, lo + width - 1];
  }
  throw new Error(`no ${width} free UDP ports in ${start}-${end}`);
}

// --- the server -----------------------------------------------------------------------------
export function callvaultBinary() {
  const bin = process.env.CALLVAULT_BIN ||
    path.resolve(import.meta.dirname || path.dirname(new URL(import.meta.url).pathname),
      '..', '..', 'build', 'release', 'src', 'app', 'callvault');
  if (!fs.existsSync(bin)) throw new Error(`callvault binary not found: ${bin} (set CALLVAULT_BIN)`);
  return bin;
}

export function configText({ dataDir, rtpLo, rtpHi, format = 'wav', nodeId = 'web-test' }) {
  return `# tests/web: callvault serve on loopback, ephemeral SIP and HTTP ports.
[node]
id = "${nodeId}"
data_dir = "${dataDir}"

[sip]
listen = ["udp:127.0.0.1:0"]
workers = 2

[server]
drain_timeout_s = 2

[http]
host = "127.0.0.1"
port = 0

[log]
level = "info"

[media]
ipv4_address = "127.0.0.1"
ipv6_address = "::1"
port_min = ${rtpLo}
port_max = ${rtpHi}
rtp_timeout_s = 20

[recording]
format = "${format}"
`;
}

// One `callvault serve` with its work dir. start()/stop()/restart({format}) keep the data dir
// (catalog, recordings, sessions) across restarts.
export class Server {
  constructor(work, { format = 'wav', nodeId = 'web-test' } = {}) {
    this.bin = callvaultBinary();
    this.work = work;
    this.dataDir = path.join(work, 'data');
    this.config = path.join(work, 'callvault.toml');
    this.format = format;
    this.nodeId = nodeId;
    this.starts = 0;
    this.proc = null;
  }

  async writeConfig() {
    if (!this.rtp) this.rtp = await freeUdpRange(400);
    fs.writeFileSync(this.config, configText({
      dataDir: this.dataDir, rtpLo: this.rtp[0], rtpHi: this.rtp[1], format: this.format, nodeId: this.nodeId,
    }));
  }

  log() {
    try { return fs.readFileSync(this.logPath, 'utf8'); } catch { return ''; }
  }

  async start(timeoutMs = 30000) {
    await this.writeConfig();
    this.starts += 1;
    this.logPath = path.join(this.work, `server-${this.starts}.log`);
    this.proc = startGroup(this.bin, ['serve', '-c', this.config], { cwd: this.work, logPath: this.logPath });
    const ok = await waitFor(() => {
      const text = this.log();
      const sip = /event=sip\.listening transport=UDP addr=127\.0\.0\.1:(\d+)/.exec(text);
      const web = /event=http\.listening addr=127\.0\.0\.1:(\d+)/.exec(text);
      if (sip && web) {
        this.sipPort = Number(sip[1]);
        this.httpPort = Number(web[1]);
        return true;
      }
      return this.proc.exitCode !== null;
    }, timeoutMs, 50);
    if (!ok || !this.sipPort || this.proc.exitCode !== null) {
      throw new Error(`callvault serve did not start (log ${this.logPath}):\n${this.log().slice(-2000)}`);
    }
    this.base = `http://${HOST}:${this.httpPort}`;
    // Ready for HTTP clients: /healthz answers.
    const up = await waitFor(async () => (await request(this.base, 'GET', '/healthz').catch(() => null))?.status === 200,
      10000, 50);
    if (!up) throw new Error(`/healthz does not answer (log ${this.logPath})`);
    return this;
  }

  async stop() {
    if (!this.proc) return null;
    const r = await stopGroup(this.proc);
    this.proc = null;
    return r;
  }

  async restart({ format } = {}) {
    await this.stop();
    if (format) this.format = format;
    // The same HTTP/SIP ports are not needed: everything is rediscovered from the log.
    this.sipPort = this.httpPort = null;
    return this.start();
  }

  // `callvault user add` (password on standard input).
  addUser(name, role, password, tenant) {
    const args = ['user', 'add', '--name', name, '--role', role, '-c', this.config];
    if (tenant !== undefined) args.push('--tenant', tenant);
    const r = spawnSync(this.bin, args, { input: password + '\n', encoding: 'utf8', timeout: 30000 });
    if (r.status !== 0) throw new Error(`callvault user add ${name}: exit ${r.status}: ${r.stdout}${r.stderr}`);
  }

  recordingsDir() { return path.join(this.dataDir, 'recordings'); }
}

// The run's work dir: CALLVAULT_WEB_WORK (run.sh makes it, removes it after a passing run and
// keeps it after a failing one), else a new temp dir.
export function makeWorkDir(prefix = 'cv-web-') {
  const given = process.env.CALLVAULT_WEB_WORK;
  if (given) {
    fs.mkdirSync(given, { recursive: true });
    return given;
  }
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// Ends the process (and so every process group started here, by the exit handler) after `ms`,
// so that a hung run stops below ctest's TIMEOUT and leaves nothing behind.
export function watchdog(ms) {
  setTimeout(() => {
    console.log(`web tests: still running after ${ms / 1000} s — stopping (servers and sipp killed)`);
    process.exit(1);
  }, ms).unref();
}

// --- HTTP -----------------------------------------------------------------------------------
// One request to the server (127.0.0.1 only). opts: {headers, body (object → JSON), timeoutMs,
// localAddress}. Resolves {status, headers, text, json, buffer}.
export function request(base, method, pathAndQuery, opts = {}) {
  const url = new URL(pathAndQuery, base);
  if (url.hostname !== HOST) return Promise.reject(new Error(`refusing to contact ${url.hostname}`));
  const headers = { ...(opts.headers || {}) };
  let body = null;
  if (opts.body !== undefined) {
    body = Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['Content-Type'] = 'application/json';
    }
    headers['Content-Length'] = body.length;
  }
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: HOST, port: url.port, method, path: url.pathname + url.search, headers,
      localAddress: opts.localAddress, agent: false, timeout: opts.timeoutMs || 15000,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const buffer = Buffer.concat(chunks);
        const text = buffer.toString('utf8');
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, text, json, buffer });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${pathAndQuery}: timed out`)));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

// The REST API as one user: Basic auth, or a session cookie (+ CSRF token for unsafe methods).
export class Api {
  constructor(base, { user, password, cookie, csrf, origin } = {}) {
    this.base = base;
    this.user = user;
    this.password = password;
    this.cookie = cookie;
    this.csrf = csrf;
    this.origin = origin;
  }

  headers(method, extra) {
    const h = {};
    if (this.user) h.Authorization = 'Basic ' + Buffer.from(`${this.user}:${this.password}`).toString('base64');
    if (this.cookie) h.Cookie = this.cookie;
    if (this.cookie && this.csrf && method !== 'GET' && method !== 'HEAD') h['X-CSRF-Token'] = this.csrf;
    if (this.origin) h.Origin = this.origin;
    return { ...h, ...(extra || {}) };
  }

  call(method, p, opts = {}) {
    return request(this.base, method, p, { ...opts, headers: this.headers(method, opts.headers) });
  }
  get(p, opts) { return this.call('GET', p, opts); }
  post(p, body, opts = {}) { return this.call('POST', p, { ...opts, body }); }
  put(p, body, opts = {}) { return this.call('PUT', p, { ...opts, body }); }
  del(p, opts) { return this.call('DELETE', p, opts); }

  // Every call of a list query, following next_cursor (bounded); throws on a non-200.
  async allCalls(query = '', limit = 1000) {
    const out = [];
    let cursor = null;
    for (let i = 0; i < 1000; i++) {
      const q = new URLSearchParams(query);
      q.set('limit', String(limit));
      if (cursor) q.set('cursor', cursor);
      const r = await this.get('/api/v1/calls?' + q.toString());
      if (r.status !== 200) throw new Error(`GET /api/v1/calls?${q}: ${r.status} ${r.text.slice(0, 300)}`);
      out.push(...r.json.calls);
      cursor = r.json.next_cursor;
      if (!cursor) return out;
    }
    throw new Error('GET /api/v1/calls: more than 1000 pages');
  }
}
