#!/usr/bin/env python3
"""Storage lifecycle system tests (issue 14): `callvault serve` with `storage.backend = "s3"`
against the signature-checking S3 test server (tests/s3/s3_server.mjs, Node 20 from
`npm ci --prefix tests`), SIPREC calls from sipp (tests/catalog/siprec_uac.xml) and from the
Python SRC (tests/rtp/siprec_src.py), checked through the REST API, /metrics, the server's log,
signed S3 requests (curl --aws-sigv4) and the files on disk.

Usage:
  system_test.py s3-outage     --bin PATH/callvault [--calls 100] [--outage-s 60] [--keep]
  system_test.py kill9-uploads --bin PATH/callvault [--big 12] [--big-s 90] [--keep]
  system_test.py wrong-secret  --bin PATH/callvault [--keep]
  system_test.py range         --bin PATH/callvault [--keep]
  system_test.py retention     --bin PATH/callvault [--keep]
  system_test.py local-changed --bin PATH/callvault [--keep]
  system_test.py encrypted     --bin PATH/callvault [--keep]

s3-outage: S3 is stopped (SIGTERM) after the first calls of a sipp run of --calls SIPREC calls
  (2.5 s, 8 calls/s) and restarted on the same port and data dir --outage-s later. Every call is
  recorded (a manifest per answered Call-ID); the relocation backlog gauge climbs above 0 and
  returns to 0; every call ends up relocated (catalog location s3://…, object in the bucket
  listing with the manifest's size, its bytes' SHA-256 the manifest's), its local audio gone and
  its manifest kept; while S3 was down no local audio was removed except of calls relocated
  before the stop.

kill9-uploads: --big calls of --big-s seconds (G.722, so the WAV is 16 kHz stereo: 90 s ≈ 5.8 MB,
  above `s3.multipart_threshold_mb = 5`) from the Python SRC at once, plus 30 short sipp calls,
  recorded with `relocate_after_s` = 1 day (they wait in the queue). Then the server is
  restarted with `relocate_after_s = 0` and killed with SIGKILL three times while it uploads
  (each kill once more calls got relocated; multipart uploads in progress are counted), then
  started for good. Checked after every kill: no local audio missing unless its object is in
  the bucket with the manifest's size and SHA-256. At the end: exactly one object per call
  (bucket listing == catalog locations == manifests), each with the manifest's size and SHA-256,
  local audio gone, the relocation and catalog queues empty.

wrong-secret: the secret file is wrong at start. 5 calls are recorded; their entries stay
  queued (backlog 5, nothing in the bucket, local audio kept); every `storage.upload_failed`
  line names SignatureDoesNotMatch and they come one per backoff round (no two within 0.2 s;
  the gaps grow); `callvault_storage_upload_errors_total{reason="auth"}` rises. The file is
  fixed, SIGHUP: the queue drains (backlog 0, 5 relocated).

range: one 6 s call recorded with `relocate_after_s` = 1 day; through the API: full, bytes=0-0,
  the last byte, -100, 1000-, a range across the 64 KiB boundary, If-Range with the ETag (206)
  and another one (200, full), past the end (416). The server restarts with
  `relocate_after_s = 0`, the call is relocated, and every answer (status, body, Content-Range,
  Content-Length, ETag) is identical; the bodies equal the recording's bytes.

retention: 12 calls relocated to S3; a policy `older_than_days = 1`; calls are aged by moving
  `started_ms` back 3 days in the SQLite catalog (the test's only way to make old calls).
  Batch A: 4 aged calls, one of them under legal hold (PUT /hold). `callvault retention run
  --dry-run` lists exactly the 3 others and changes nothing (calls, audit log, bucket, files);
  `callvault retention run` deletes them: gone from the catalog, HEAD on their keys → 404
  (signed), local manifests gone, one `call.delete` audit entry each; the held call stays.
  Batch B: 3 more aged calls; S3 stopped; POST /api/v1/retention/run deletes them in the catalog
  while their purges cannot finish; kill -9; S3 back; restart: the purger completes them
  (HEAD → 404, manifests gone, `storage.purged` lines); the held call and the young ones stay.

encrypted: encryption at rest for every tenant (master key made by `callvault encryption
  init-master-key`); one 6 s call with `relocate_after_s` = 1 day: its manifest is version 2,
  no 64-byte window of the plaintext (what playback returns) is in the file on disk, Range
  answers are the plaintext's bytes; restarted with `relocate_after_s = 0`: the bucket holds the
  same encrypted bytes (no plaintext window), every answer is identical after the move.

local-changed: 2 calls recorded with `relocate_after_s` = 1 day; one byte of one recording is
  flipped after its manifest was written; restarted with `relocate_after_s = 0`: one
  `storage.verify_failed` line (cause local_file_changed, action set_aside), the verify-failure
  counter rises, the changed file is untouched and stays the call's copy (location local), its
  entry is set aside in `rejected/`; the other call is relocated.

Prints `N passed, N failed`; exit 1 on a failure (missing tooling — node_modules, sipp, sox,
curl — is a failure). The work dir is kept on failure or --keep.
"""
import argparse
import hashlib
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "rtp"))
import siprec_src as S  # noqa: E402


def _load_catalog_helpers():
    """tests/catalog/system_test.py (Api, make_token, start_sipp, sipp_calls, outbox_entries),
    loaded by path: its module name is this file's too."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "catalog_system_test", os.path.join(HERE, "..", "catalog", "system_test.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


T = _load_catalog_helpers()

TESTS = os.path.abspath(os.path.join(HERE, ".."))
NODE = os.path.join(TESTS, "node_modules", "node", "bin", "node")
S3_SERVER = os.path.join(TESTS, "s3", "s3_server.mjs")
KEY_ID, SECRET, BUCKET, PREFIX = "AKCALLVAULT", "s3cr3t-callvault", "calls", "rec/"


# --- the S3 test server -----------------------------------------------------------------------
class S3:
    """tests/s3/s3_server.mjs on 127.0.0.1; objects under <work>/s3 (kept across restarts)."""

    def __init__(self, work):
        self.dir = os.path.join(work, "s3")
        os.makedirs(self.dir, exist_ok=True)
        self.port = T.free_tcp_port()
        self.proc = None
        self.log = open(os.path.join(work, "s3.log"), "a")

    def start(self, timeout=20):
        self.proc = subprocess.Popen(
            [NODE, "--openssl-legacy-provider", S3_SERVER, "--port", str(self.port), "--dir", self.dir,
             "--access-key-id", KEY_ID, "--secret-access-key", SECRET, "--bucket", BUCKET],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if r:
                line = self.proc.stdout.readline()
                if line.startswith("listening"):
                    # Keep the pipe drained so the server never blocks on stdout.
                    threading.Thread(target=self._drain, args=(self.proc.stdout,), daemon=True).start()
                    return True
                if not line:
                    break
        return False

    @staticmethod
    def _drain(f):
        for _ in f:
            pass

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def curl(self, method, key="", query="", out=None, secret=SECRET):
        """A signed request; (http status, headers text, body bytes)."""
        url = f"{self.endpoint()}/{BUCKET}" + ("/" + urllib.parse.quote(key, safe="/-_.~") if key else "")
        if query:
            url += "?" + query
        cmd = ["curl", "-sS", "--max-time", "30", "--aws-sigv4", "aws:amz:us-east-1:s3",
               "--user", f"{KEY_ID}:{secret}", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
               "-D", "-", "-o", out or "-", "-w", "\n%{http_code}"]
        cmd += ["-I"] if method == "HEAD" else ["-X", method]
        r = subprocess.run(cmd + [url], capture_output=True)
        text = r.stdout
        code = int(text.rsplit(b"\n", 1)[-1] or b"0")
        head, _, body = text.rpartition(b"\n")[0].partition(b"\r\n\r\n")
        return code, head.decode(errors="replace"), body

    def head(self, key):
        return self.curl("HEAD", key)[0]

    def listing(self):
        """{key: size} of every object under PREFIX (ListObjectsV2, signed); None on an error."""
        out, token = {}, ""
        for _ in range(1000):
            q = "list-type=2&max-keys=1000&prefix=" + urllib.parse.quote(PREFIX, safe="")
            if token:
                q = "continuation-token=" + urllib.parse.quote(token, safe="") + "&" + q
            code, _, body = self.curl("GET", "", q)
            if code != 200:
                return None
            root = ET.fromstring(body)
            ns = {"s": root.tag.split("}")[0].strip("{")} if root.tag.startswith("{") else {}
            p = "s:" if ns else ""
            for c in root.findall(f"{p}Contents", ns):
                out[c.find(f"{p}Key", ns).text] = int(c.find(f"{p}Size", ns).text)
            trunc = root.find(f"{p}IsTruncated", ns)
            if trunc is None or trunc.text != "true":
                return out
            token = root.find(f"{p}NextContinuationToken", ns).text
        return None

    def object_sha256(self, key):
        """SHA-256 of the stored object's bytes (s3rver's data file), None when absent."""
        path = os.path.join(self.dir, BUCKET, key + "._S3rver_object")
        if not os.path.exists(path):
            return None
        return sha256_file(path)

    def open_multipart_uploads(self):
        """Multipart uploads begun and neither completed nor aborted (s3rver keeps each in
        <bucket>/._S3rver_uploads/<upload id>/)."""
        d = os.path.join(self.dir, BUCKET, "._S3rver_uploads")
        return len(os.listdir(d)) if os.path.isdir(d) else 0


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --- the server -------------------------------------------------------------------------------
def storage_config(work, s3, relocate_after_s=0, secret_file=None, extra_s3="", extra=""):
    secret_file = secret_file or os.path.join(work, "s3.secret")
    if not os.path.exists(secret_file):
        with open(secret_file, "w") as f:
            f.write(SECRET + "\n")
    return f"""
[storage]
backend = "s3"
relocate_after_s = {relocate_after_s}

[s3]
endpoint = "{s3.endpoint()}"
bucket = "{BUCKET}"
prefix = "{PREFIX}"
access_key_id = "{KEY_ID}"
secret_access_key_file = "{secret_file}"
timeout_s = 10
{extra_s3}

[retention]
interval_s = 0

[retention.policies.old]
older_than_days = 1
{extra}
"""


class Node:
    """The server + its token + API; config rewritten by configure()."""

    def __init__(self, args, work, s3, ports=200, **cfg):
        self.work, self.s3, self.args = work, s3, args
        self.data = os.path.join(work, "data")
        self.lo, self.hi = S.free_port_range(ports)
        self.srv = S.Server(args.bin, work, "")
        self.configure(**cfg)
        self.token = T.make_token(args.bin, self.srv.config)
        self.api = None

    def configure(self, **cfg):
        text = T.config_text(self.data, self.lo, self.hi, storage_config(self.work, self.s3, **cfg))
        with open(self.srv.config, "w") as f:
            f.write(text)

    def start(self, timeout=30):
        if not self.srv.start(timeout=timeout):
            return False
        port = T.http_port(self.srv)
        self.api = T.Api(port, self.token) if port else None
        return self.api is not None

    def raw(self, method, path, headers=None, body=None, timeout=15):
        """(status, headers dict (lower-case names), body bytes)."""
        h = {"Authorization": "Bearer " + self.token}
        h.update(headers or {})
        data = json.dumps(body).encode() if body is not None else None
        if data is not None:
            h["Content-Type"] = "application/json"
        req = urllib.request.Request(self.api.base + path, data=data, headers=h, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
        except urllib.error.HTTPError as e:
            return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()
        except (urllib.error.URLError, OSError) as e:
            return 0, {}, str(e).encode()

    def metrics(self):
        code, _, body = self.raw("GET", "/metrics")
        return S.parse_metrics(body.decode(errors="replace")) if code == 200 else {}

    def backlog(self):
        return self.metrics().get('callvault_outbox_backlog{queue="relocation"}')

    def manifests(self):
        """{call_id: manifest} of the recordings directory."""
        return {m["call_id"]: m for _, m in S.manifests(os.path.join(self.data, "recordings"))
                if "call_id" in m}

    def audio_path(self, m):
        return os.path.join(self.data, "recordings", m["audio"]["file"])

    def queue(self, name):
        return T.outbox_entries(os.path.join(self.data, "outbox", name))

    def log_all(self):
        """Every log of this node so far, in order."""
        out = []
        for i in range(1, self.srv.starts + 1):
            p = os.path.join(self.work, f"server-{i}.log")
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    out.append(f.read())
        return "\n".join(out)

    def relocated_ids(self, text=None):
        return set(re.findall(r"event=storage\.relocated call=(\S+)", text or self.log_all()))


def wait_for(pred, timeout, step=0.25):
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v or time.time() >= deadline:
            return v
        time.sleep(step)


def wait_catalogued(node, n, timeout=30):
    """Waits until n calls are in the catalog, none active."""
    def done():
        calls = node.api.all_calls() or []
        return len(calls) >= n and all(x["state"] != "active" for x in calls)
    return bool(wait_for(done, timeout))


def check_relocated(c, node, s3, want_ids, label):
    """Every call of want_ids: catalog location s3://…, object with the manifest's size and
    SHA-256, local audio gone, manifest kept. Returns the listing."""
    mans = node.manifests()
    listing = s3.listing() or {}
    bad = []
    for cid in sorted(want_ids):
        m = mans.get(cid)
        if m is None:
            bad.append(f"{cid}: no manifest")
            continue
        key = PREFIX + m["audio"]["file"]
        det = node.api.detail(cid) or {}
        loc = (det.get("storage") or {}).get("location")
        if loc != f"s3://{BUCKET}/{key}":
            bad.append(f"{cid}: catalog location {loc}")
        if listing.get(key) != m["audio"]["bytes"]:
            bad.append(f"{cid}: object size {listing.get(key)} != manifest {m['audio']['bytes']}")
        elif s3.object_sha256(key) != m["audio"]["sha256"]:
            bad.append(f"{cid}: object SHA-256 differs from the manifest")
        if os.path.exists(node.audio_path(m)):
            bad.append(f"{cid}: local audio still there")
    c.check(not bad, f"{label}: {len(want_ids)} calls relocated (catalog s3:// location, object with the "
            f"manifest's size and SHA-256, local audio removed, manifest kept)", "; ".join(bad[:5]))
    return listing


def unverified_removals(node, s3):
    """Calls whose local audio is gone although the bucket has no verified copy."""
    listing = s3.listing()
    if listing is None:
        listing = {}
    bad = []
    for cid, m in node.manifests().items():
        if os.path.exists(node.audio_path(m)):
            continue
        key = PREFIX + m["audio"]["file"]
        if listing.get(key) != m["audio"]["bytes"] or s3.object_sha256(key) != m["audio"]["sha256"]:
            bad.append(cid)
    return bad


def sipp_run(node, tag, calls, rate, call_ms, limit):
    return T.start_sipp(node.work, tag, node.srv.sip_port, calls, rate, call_ms, limit, S.free_port_range(8)[0])


# --- long G.722 calls from the Python SRC ----------------------------------------------------
def long_calls(sip_port, n, seconds, out):
    """n concurrent SIPREC calls of `seconds`, two G.722 streams each (random payloads: the
    recording is 16 kHz stereo, 64 kB/s). Sets out["answered"], out["ended"]."""
    uac = S.Uac(sip_port)
    lo, _ = S.free_port_range(4 * n)
    dlgs, socks = [], []
    for i in range(n):
        d = uac.new_dialog(f"big-{i}-{random.randrange(1 << 30)}@127.0.0.1")
        media = [{"port": lo + 4 * i, "pt": 9, "codec": "G722", "label": "1"},
                 {"port": lo + 4 * i + 2, "pt": 9, "codec": "G722", "label": "2"}]
        dlgs.append((d, media))
    finals = uac.invite(dlgs)
    targets = []
    for d, media in dlgs:
        r = finals.get(d.call_id)
        if r is None or r.code != 200:
            continue
        addr, ports = S.parse_answer_ports(d.answer)
        for j, (port, _) in enumerate(ports[:2]):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", media[j]["port"]))
            socks.append(s)
            targets.append((s, (addr or "127.0.0.1", port), random.randrange(1 << 32)))
    out["answered"] = [d.call_id for d, _ in dlgs if d.answer]
    rng = random.Random(7)
    payloads = [bytes(rng.randrange(256) for _ in range(160)) for _ in range(50)]
    t0 = time.time_ns()
    packets = int(seconds * 50)
    for k in range(packets):
        S.sleep_until(t0 + k * 20_000_000)
        for s, dst, ssrc in targets:
            s.sendto(S.rtp_packet(9, k, k * 160, ssrc, payloads[k % 50], marker=(k == 0)), dst)
        if k % 50 == 0:
            uac.drain()
    finals = uac.bye([d for d, _ in dlgs if d.answer])
    out["ended"] = [cid for cid, r in finals.items() if r.code == 200]
    for s in socks:
        s.close()


# --- s3-outage ----------------------------------------------------------------------------------
def s3_outage(args, c, work):
    s3 = S3(work)
    if not c.check(s3.start(), "S3 test server started"):
        return
    node = Node(args, work, s3, ports=4 * args.calls + 40)
    try:
        if not c.check(node.start(), "server started (backend s3)"):
            return
        sipp, d = sipp_run(node, "outage", args.calls, 8, 2500, 60)
        wait_for(lambda: len(T.sipp_calls(d, "answered")) >= 3, 20, 0.05)
        s3.stop()
        stop_t = time.time()
        relocated_before = node.relocated_ids()
        log_len_at_stop = len(node.srv.read_log())
        print(f"  S3 stopped after {len(T.sipp_calls(d, 'answered'))} calls were answered "
              f"({len(relocated_before)} relocated)", flush=True)
        max_backlog, removed_while_down = 0, set()
        sipp_rc = None
        while time.time() - stop_t < args.outage_s:
            b = node.backlog() or 0
            max_backlog = max(max_backlog, b)
            for cid, m in node.manifests().items():
                if not os.path.exists(node.audio_path(m)):
                    removed_while_down.add(cid)
            if sipp_rc is None:
                sipp_rc = sipp.poll()
            time.sleep(0.5)
        if sipp_rc is None:
            sipp_rc = sipp.wait(60)
        answered, ended = T.sipp_calls(d, "answered"), T.sipp_calls(d, "ended")
        c.check(sipp_rc == 0 and len(answered) == args.calls == len(ended),
                f"sipp: all {args.calls} calls answered and ended while S3 was down",
                f"rc={sipp_rc} answered={len(answered)} ended={len(ended)}")
        mans = node.manifests()
        by_sip = {m.get("sip_call_id"): cid for cid, m in mans.items()}
        c.check(answered <= set(by_sip), "every call recorded (a manifest per answered Call-ID)",
                f"{len(answered & set(by_sip))} of {len(answered)}")
        late = node.relocated_ids(node.srv.read_log()[log_len_at_stop:])
        c.check(removed_while_down <= relocated_before and not late,
                "no local audio removed while S3 was down (only calls relocated before the stop)",
                f"removed={len(removed_while_down)} relocated_before={len(relocated_before)} "
                f"relocated_while_down={len(late)}")
        c.check(max_backlog > 0, "the relocation backlog gauge climbed above 0 during the outage",
                f"max={max_backlog:.0f}")
        fails = len(re.findall(r"event=storage\.upload_failed", node.srv.read_log()))
        if not c.check(s3.start(), "S3 restarted on the same port and data dir"):
            return
        back_t = time.time()
        drained = wait_for(lambda: node.backlog() == 0 and len(node.relocated_ids()) >= len(mans), 90, 0.5)
        took = time.time() - back_t
        c.check(bool(drained), "after S3's return the backlog gauge is 0 and every call relocated",
                f"backlog={node.backlog()} relocated={len(node.relocated_ids())} of {len(mans)} "
                f"after {took:.1f} s")
        check_relocated(c, node, s3, set(mans), "s3-outage")
        c.check(not node.queue("relocation"), "the relocation queue is empty",
                f"{len(node.queue('relocation'))} entries")
        print(f"  counts: calls={args.calls} manifests={len(mans)} max_backlog={max_backlog:.0f} "
              f"upload_failed_lines={fails} outage_s={back_t - stop_t:.0f} drain_after_return_s={took:.1f}",
              flush=True)
    finally:
        node.srv.stop()
        s3.stop()


# --- kill9-uploads ------------------------------------------------------------------------------
def kill9_uploads(args, c, work):
    s3 = S3(work)
    if not c.check(s3.start(), "S3 test server started"):
        return
    big_cfg = dict(extra_s3="multipart_threshold_mb = 5\npart_size_mb = 5\nparts_in_flight = 2")
    node = Node(args, work, s3, ports=4 * args.big + 200, relocate_after_s=86400, **big_cfg)
    try:
        if not c.check(node.start(), "server started (relocate_after_s = 1 day)"):
            return
        res = {}
        t = threading.Thread(target=long_calls, args=(node.srv.sip_port, args.big, args.big_s, res))
        t0 = time.time()
        t.start()
        sipp, d = sipp_run(node, "small", 30, 5, 3000, 30)
        t.join(args.big_s + 60)
        sipp_rc = sipp.wait(60)
        n_calls = len(res.get("answered", [])) + len(T.sipp_calls(d, "answered"))
        c.check(len(res.get("ended", [])) == args.big and sipp_rc == 0,
                f"{args.big} long G.722 calls and 30 sipp calls recorded",
                f"long ended={len(res.get('ended', []))} sipp rc={sipp_rc} ({time.time() - t0:.0f} s)")
        wait_for(lambda: len(node.manifests()) >= n_calls and not node.queue("catalog"), 30)
        mans = node.manifests()
        big = [cid for cid, m in mans.items() if m["audio"]["bytes"] > 5 * 1024 * 1024]
        c.check(len(big) >= 10, "≥ 10 recordings larger than 5 MiB (multipart)",
                f"{len(big)} of {len(mans)}; sizes {sorted(m['audio']['bytes'] for m in mans.values())[-3:]}")
        c.check(len(node.queue("relocation")) == len(mans) and not s3.listing(),
                "all waiting in the relocation queue, nothing uploaded yet",
                f"queue={len(node.queue('relocation'))} manifests={len(mans)}")
        node.srv.stop()
        node.configure(relocate_after_s=0, **big_cfg)
        kills = []
        for k in range(3):
            if not c.check(node.start(), f"restart {k + 1} with relocate_after_s = 0"):
                return
            before = len(node.relocated_ids())
            open_before = s3.open_multipart_uploads()
            # Kill once this start relocated one more call (the other workers' uploads are in
            # flight) or began a new multipart upload, whichever comes first.
            wait_for(lambda: len(node.relocated_ids()) > before or s3.open_multipart_uploads() > open_before,
                     30, 0.02)
            # Vary the point of the kill a little, but never so long that this start could
            # drain the queue (the small calls relocate within a few hundred ms).
            time.sleep(0.1 if k == 1 else 0)
            node.srv.kill9()
            relocated = len(node.relocated_ids())
            kills.append((relocated, s3.open_multipart_uploads(), len(node.queue("relocation"))))
            bad = unverified_removals(node, s3)
            c.check(not bad, f"kill {k + 1}: no local audio removed without a verified copy in the bucket",
                    ", ".join(bad[:5]))
            print(f"  kill {k + 1}: relocated so far={relocated} open multipart uploads={kills[-1][1]} "
                  f"queue={kills[-1][2]}", flush=True)
        c.check(all(q > 0 for _, _, q in kills) and any(m > 0 for _, m, _ in kills),
                "every kill came with uploads pending (multipart uploads left open by the kills)",
                f"(relocated, open multipart, queued) per kill: {kills}")
        if not c.check(node.start(), "final start"):
            return
        t1 = time.time()
        ok = wait_for(lambda: not node.queue("relocation") and node.backlog() == 0, 120, 0.5)
        c.check(bool(ok), "the relocation queue drains after the kills",
                f"{len(node.queue('relocation'))} left after {time.time() - t1:.0f} s")
        listing = check_relocated(c, node, s3, set(mans), "kill9-uploads")
        want = {PREFIX + m["audio"]["file"] for m in mans.values()}
        calls = node.api.all_calls() or []
        locs = []
        for x in calls:
            det = node.api.detail(x["id"]) or {}
            locs.append((det.get("storage") or {}).get("location"))
        cat_keys = {loc[len(f"s3://{BUCKET}/"):] for loc in locs if loc and loc.startswith("s3://")}
        c.check(set(listing) == want == cat_keys and len(listing) == len(mans) == len(calls),
                "exactly one object per call (bucket listing == catalog locations == manifests)",
                f"objects={len(listing)} manifests={len(mans)} catalogued={len(calls)} "
                f"extra={sorted(set(listing) - want)[:3]} missing={sorted(want - set(listing))[:3]}")
        c.check(not node.queue("relocation") and not node.queue("catalog"),
                "relocation and catalog queues empty",
                f"relocation={len(node.queue('relocation'))} catalog={len(node.queue('catalog'))}")
        print(f"  counts: calls={len(mans)} multipart={len(big)} kills={kills} "
              f"orphan_multipart_uploads={s3.open_multipart_uploads()} drain_s={time.time() - t1:.1f}",
              flush=True)
    finally:
        node.srv.stop()
        s3.stop()


# --- wrong-secret -------------------------------------------------------------------------------
def wrong_secret(args, c, work):
    s3 = S3(work)
    if not c.check(s3.start(), "S3 test server started"):
        return
    secret_file = os.path.join(work, "s3.secret")
    with open(secret_file, "w") as f:
        f.write("not-the-secret\n")
    node = Node(args, work, s3, ports=60, secret_file=secret_file)
    try:
        if not c.check(node.start(), "server started with a wrong secret"):
            return
        sipp, d = sipp_run(node, "ws", 5, 5, 1500, 5)
        c.check(sipp.wait(60) == 0, "5 calls recorded")
        wait_for(lambda: len(node.manifests()) >= 5, 20)
        first = node.metrics().get('callvault_storage_upload_errors_total{reason="auth"}', 0)
        ok = node.srv.wait_log(r"event=storage\.upload_failed", count=6, timeout=40)
        log = node.srv.read_log()
        lines = [l for l in log.splitlines() if "event=storage.upload_failed" in l]
        later = node.metrics().get('callvault_storage_upload_errors_total{reason="auth"}', 0)
        c.check(ok and all("SignatureDoesNotMatch" in l for l in lines),
                "storage.upload_failed lines name SignatureDoesNotMatch", f"{len(lines)} lines; "
                + (lines[0][:300] if lines else ""))
        times = [S.parse_rfc3339_ns(l.split()[0]) / 1e9 for l in lines]
        gaps = [round(b - a, 2) for a, b in zip(times, times[1:])]
        c.check(len(gaps) >= 2 and min(gaps) > 0.2 and gaps[-1] >= gaps[0],
                "one upload_failed line per backoff round (no two within 0.2 s, gaps growing)", str(gaps))
        c.check(later > first > 0 or (later > 0 and later > first),
                'callvault_storage_upload_errors_total{reason="auth"} rises', f"{first} → {later}")
        mans = node.manifests()
        present = [cid for cid, m in mans.items() if os.path.exists(node.audio_path(m))]
        c.check(node.backlog() == 5 and len(node.queue("relocation")) == 5 and len(present) == 5
                and not s3.listing(),
                "entries stay queued (backlog 5), local audio kept, nothing in the bucket",
                f"backlog={node.backlog()} queue={len(node.queue('relocation'))} local={len(present)} "
                f"bucket={len(s3.listing() or {})}")
        with open(secret_file, "w") as f:
            f.write(SECRET + "\n")
        os.kill(node.srv.proc.pid, signal.SIGHUP)
        t0 = time.time()
        ok = wait_for(lambda: node.backlog() == 0 and len(node.relocated_ids()) >= 5, 45, 0.2)
        # By now the backoff is 8 s: draining within 3 s means SIGHUP ended it.
        c.check(bool(ok) and time.time() - t0 <= 3, "secret fixed + SIGHUP → the queue drains at once (≤ 3 s)",
                f"backlog={node.backlog()} relocated={len(node.relocated_ids())} after {time.time() - t0:.1f} s")
        check_relocated(c, node, s3, set(mans), "wrong-secret")
        print(f"  counts: upload_failed_lines={len(lines)} gaps_s={gaps} auth_errors={later:.0f} "
              f"drained_after_sighup_s={time.time() - t0:.1f}", flush=True)
    finally:
        node.srv.stop()
        s3.stop()


# --- range --------------------------------------------------------------------------------------
def range_requests(node, cid, size, etag):
    base = f"/api/v1/calls/{cid}/audio"
    cases = [("full", {}), ("0-0", {"Range": "bytes=0-0"}),
             ("last byte", {"Range": f"bytes={size - 1}-{size - 1}"}),
             ("-100", {"Range": "bytes=-100"}), ("1000-", {"Range": "bytes=1000-"}),
             ("across 64 KiB", {"Range": "bytes=65500-65599"}),
             ("If-Range match", {"Range": "bytes=100-199", "If-Range": etag or '"none"'}),
             ("If-Range other", {"Range": "bytes=100-199", "If-Range": '"something-else"'}),
             ("past the end", {"Range": f"bytes={size}-"})]
    out = {}
    for name, h in cases:
        code, hdr, body = node.raw("GET", base, headers=h)
        out[name] = (code, hdr.get("content-range"), hdr.get("content-length"), hdr.get("etag"), body)
    return out


def range_test(args, c, work):
    s3 = S3(work)
    if not c.check(s3.start(), "S3 test server started"):
        return
    # Keys with '+', '%' and a space: percent-encoding and SigV4 on a real path.
    naming = '\n[recording]\nname_template = "{date}/{caller}+1 x%2F_{call_id}"\n'
    node = Node(args, work, s3, ports=40, relocate_after_s=86400, extra=naming)
    try:
        if not c.check(node.start(), "server started (relocate_after_s = 1 day)"):
            return
        sipp, d = sipp_run(node, "range", 1, 1, 6000, 1)
        c.check(sipp.wait(60) == 0, "one 6 s call recorded")
        c.check(wait_catalogued(node, 1), "the call is catalogued as finished")
        cid, m = next(iter(node.manifests().items()))
        with open(node.audio_path(m), "rb") as f:
            data = f.read()
        size = len(data)
        code, hdr, _ = node.raw("GET", f"/api/v1/calls/{cid}/audio", headers={"Range": "bytes=0-0"})
        etag = hdr.get("etag")
        before = range_requests(node, cid, size, etag)
        want = {"full": (200, data), "0-0": (206, data[:1]), "last byte": (206, data[-1:]),
                "-100": (206, data[-100:]), "1000-": (206, data[1000:]),
                "across 64 KiB": (206, data[65500:65600]), "If-Range match": (206, data[100:200]),
                "If-Range other": (200, data), "past the end": (416, None)}
        bad = [f"{k}: {before[k][0]} {before[k][1]}" for k, (code, body) in want.items()
               if before[k][0] != code or (body is not None and before[k][4] != body)]
        c.check(size > 70000 and not bad, f"before relocation ({size} bytes, local): every range answer right",
                "; ".join(bad))
        node.srv.stop()
        node.configure(relocate_after_s=0, extra=naming)
        if not c.check(node.start(), "restart with relocate_after_s = 0"):
            return
        ok = wait_for(lambda: cid in node.relocated_ids() and not os.path.exists(node.audio_path(m)), 30)
        det = node.api.detail(cid) or {}
        c.check(bool(ok) and str((det.get("storage") or {}).get("location", "")).startswith("s3://"),
                "the call was relocated", str(det.get("storage")))
        after = range_requests(node, cid, size, etag)
        diff = [k for k in before if before[k] != after[k]]
        c.check(not diff, "after relocation (S3): status, body, Content-Range, Content-Length and ETag "
                "identical for every request", "; ".join(f"{k}: {before[k][:4]} vs {after[k][:4]}" for k in diff))
        # The store down after relocation: a clean 503 with a JSON error, never a cut 200.
        s3.stop()
        code, hdr, body = node.raw("GET", f"/api/v1/calls/{cid}/audio", headers={"Range": "bytes=0-99"})
        try:
            err = json.loads(body).get("error", {})
        except ValueError:
            err = {}
        c.check(code == 503 and bool(err.get("code")), "S3 down: audio answers 503 with a JSON error",
                f"{code} {body[:200]}")
        print(f"  size={size} etag={etag} answers=" + ", ".join(f"{k}:{v[0]}" for k, v in after.items()), flush=True)
    finally:
        node.srv.stop()
        s3.stop()


# --- local-changed -----------------------------------------------------------------------------
def local_changed(args, c, work):
    s3 = S3(work)
    if not c.check(s3.start(), "S3 test server started"):
        return
    node = Node(args, work, s3, ports=40, relocate_after_s=86400)
    try:
        if not c.check(node.start(), "server started (relocate_after_s = 1 day)"):
            return
        sipp, d = sipp_run(node, "lc", 2, 2, 3000, 2)
        c.check(sipp.wait(60) == 0 and wait_catalogued(node, 2), "2 calls recorded and catalogued")
        mans = node.manifests()
        changed, intact = sorted(mans)
        path = node.audio_path(mans[changed])
        with open(path, "r+b") as f:  # one byte flipped after the manifest was written
            f.seek(50000)
            b = f.read(1)
            f.seek(50000)
            f.write(bytes([b[0] ^ 0x40]))
        flipped = sha256_file(path)
        node.srv.stop()
        node.configure(relocate_after_s=0)
        if not c.check(node.start(), "restart with relocate_after_s = 0"):
            return
        ok = wait_for(lambda: intact in node.relocated_ids() and
                      "event=storage.verify_failed" in node.srv.read_log(), 30)
        lines = [l for l in node.srv.read_log().splitlines() if "event=storage.verify_failed" in l]
        c.check(bool(ok) and len(lines) == 1 and f"call={changed}" in lines[0] and
                "local_file_changed" in lines[0] and "set_aside" in lines[0],
                "one storage.verify_failed line naming the call, cause local_file_changed, action set_aside",
                lines[0][:300] if lines else "no line")
        m = node.metrics()
        c.check(m.get("callvault_storage_verify_failures_total", 0) >= 1,
                "callvault_storage_verify_failures_total rises", str(m.get("callvault_storage_verify_failures_total")))
        det = node.api.detail(changed) or {}
        c.check(os.path.exists(path) and sha256_file(path) == flipped and
                (det.get("storage") or {}).get("location") == "local",
                "the changed file is untouched and stays the call's (local) copy", str(det.get("storage")))
        rejected = os.path.join(node.data, "outbox", "relocation", "rejected")
        c.check(os.path.exists(os.path.join(rejected, changed + ".json")) and not node.queue("relocation"),
                "its entry is set aside (rejected/), the queue is empty",
                str(os.listdir(rejected) if os.path.isdir(rejected) else None))
        check_relocated(c, node, s3, {intact}, "local-changed (the other call)")
    finally:
        node.srv.stop()
        s3.stop()


# --- retention ----------------------------------------------------------------------------------
def age_calls(node, ids, days=3):
    db = sqlite3.connect(os.path.join(node.data, "catalog.db"), timeout=10)
    try:
        shift = days * 86400 * 1000
        with db:
            for cid in ids:
                db.execute("UPDATE calls SET started_ms = started_ms - ? WHERE call_id = ?", (shift, cid))
    finally:
        db.close()


def audit_entries(node):
    out, after = [], 0
    for _ in range(1000):
        code, body = node.api.get(f"/api/v1/audit?after_id={after}&limit=1000")
        if code != 200 or not body["entries"]:
            return out
        out += body["entries"]
        after = body["entries"][-1]["id"]
    return out


def snapshot(node, s3):
    calls = sorted(x["id"] for x in node.api.all_calls() or [])
    files = sorted(os.path.relpath(os.path.join(r, f), node.data)
                   for r, _, fs in os.walk(os.path.join(node.data, "recordings")) for f in fs)
    # The API's own use is audited too (token.use, once per token per 10 minutes): not a change.
    changes = [e for e in audit_entries(node) if e.get("action") not in ("token.use", "login.basic")]
    return calls, len(changes), sorted((s3.listing() or {}).items()), files


def retention_test(args, c, work):
    s3 = S3(work)
    if not c.check(s3.start(), "S3 test server started"):
        return
    node = Node(args, work, s3, ports=80)
    try:
        if not c.check(node.start(), "server started (backend s3, policy older_than_days = 1)"):
            return
        sipp, d = sipp_run(node, "ret", 12, 6, 1500, 12)
        c.check(sipp.wait(60) == 0, "12 calls recorded")
        ok = wait_for(lambda: len(node.manifests()) >= 12 and len(node.relocated_ids()) >= 12
                      and node.backlog() == 0, 40)
        c.check(bool(ok), "12 calls relocated", f"{len(node.relocated_ids())}")
        mans = node.manifests()
        ids = sorted(mans)
        batch_a, held, batch_b, young = ids[:3], ids[3], ids[4:7], ids[7:]
        age_calls(node, batch_a + [held])
        code, _, body = node.raw("PUT", f"/api/v1/calls/{held}/hold", body={"reason": "litigation 42"})
        c.check(code in (200, 204), "legal hold on one aged call", f"{code} {body[:200]}")
        before = snapshot(node, s3)
        r = subprocess.run([args.bin, "retention", "run", "--dry-run", "-c", node.srv.config],
                           capture_output=True, text=True, timeout=60)
        listed = set(re.findall(r"^(\S+) old ", r.stdout, re.M))
        c.check(r.returncode == 0 and listed == set(batch_a),
                "retention run --dry-run lists exactly the aged, unheld calls",
                f"rc={r.returncode} listed={sorted(listed)} want={batch_a} {r.stderr[-300:]}")
        c.check(snapshot(node, s3) == before, "the dry run changed nothing (calls, audit log, bucket, files)")
        audit0 = len(audit_entries(node))
        t0 = time.time()
        r = subprocess.run([args.bin, "retention", "run", "-c", node.srv.config],
                           capture_output=True, text=True, timeout=120)
        run_s = time.time() - t0
        c.check(r.returncode == 0 and "deleted 3 calls" in r.stdout, "retention run deletes 3 calls",
                f"rc={r.returncode} {r.stdout.strip()} {r.stderr[-300:]}")
        check_deleted(c, node, s3, mans, batch_a, "run")
        entries = audit_entries(node)[audit0:]
        per_call = {cid: sum(1 for e in entries if e.get("target") == cid and e.get("action") == "call.delete")
                    for cid in batch_a}
        c.check(all(v == 1 for v in per_call.values()) and
                sum(1 for e in entries if e.get("action") == "call.delete") == 3,
                "one call.delete audit entry per deleted call", str(per_call))
        c.check(node.api.detail(held) is not None and s3.head(PREFIX + mans[held]["audio"]["file"]) == 200,
                "the held call stays (catalog and object)")
        # Batch B: deleted with S3 down, server killed with the purges pending.
        age_calls(node, batch_b)
        s3.stop()
        code, _, body = node.raw("POST", "/api/v1/retention/run", body={"dry_run": False}, timeout=60)
        c.check(code == 200, "POST /api/v1/retention/run with S3 down answers 200", f"{code} {body[:300]}")
        gone = [cid for cid in batch_b if node.api.detail(cid) is None]
        c.check(len(gone) == 3, "batch B deleted in the catalog while S3 is down", f"{len(gone)} of 3")
        m = node.metrics()
        c.check(m.get("callvault_retention_deletions_total") == 3,
                "callvault_retention_deletions_total counts the 3 deletions",
                str(m.get("callvault_retention_deletions_total")))
        time.sleep(1.0)
        node.srv.kill9()
        still = [cid for cid in batch_b if os.path.exists(os.path.join(
            node.data, "recordings", mans[cid]["audio"]["file"] + ".json"))]
        c.check(len(still) == 3, "their bytes were still there at the kill (purges pending)",
                f"{len(still)} manifests left")
        if not c.check(s3.start() and node.start(), "S3 back, server restarted"):
            return
        wait_for(lambda: all(s3.head(PREFIX + mans[x]["audio"]["file"]) == 404 for x in batch_b), 30, 0.5)
        check_deleted(c, node, s3, mans, batch_b, "after kill -9 + restart")
        purged = set(re.findall(r"event=storage\.purged call=(\S+)", node.srv.read_log()))
        c.check(set(batch_b) <= purged, "the restarted server's purger logged storage.purged for batch B",
                f"{len(set(batch_b) & purged)} of 3")
        entries = audit_entries(node)
        per_call = {cid: sum(1 for e in entries if e.get("target") == cid and e.get("action") == "call.delete")
                    for cid in batch_a + batch_b}
        c.check(all(v == 1 for v in per_call.values()), "one call.delete audit entry per deleted call "
                "(both batches, after the restart)", str(per_call))
        # DELETE through the API: the same path (tombstone + audit + purge), refused under hold.
        code, _, body = node.raw("DELETE", f"/api/v1/calls/{held}")
        c.check(code == 409, "DELETE of the held call → 409", f"{code} {body[:200]}")
        victim, young = young[0], young[1:]
        code, _, body = node.raw("DELETE", f"/api/v1/calls/{victim}")
        ok = wait_for(lambda: s3.head(PREFIX + mans[victim]["audio"]["file"]) == 404, 15, 0.25)
        c.check(code in (200, 204) and bool(ok) and node.api.detail(victim) is None,
                "DELETE /api/v1/calls/{id} of a relocated call removes it from the catalog and the bucket",
                f"{code} {body[:200]}")
        keep = [held] + young
        left = [cid for cid in keep if node.api.detail(cid) is None
                or s3.head(PREFIX + mans[cid]["audio"]["file"]) != 200]
        c.check(not left, f"the held call and the {len(young)} young calls are untouched", str(left))
        m = node.metrics()
        print(f"  counts: deleted={len(batch_a) + len(batch_b)} held=1 kept={len(keep)} cli_run_s={run_s:.1f} "
              f"retention_deletions_total={m.get('callvault_retention_deletions_total')} "
              f"purged_total={m.get('callvault_storage_purged_total')}", flush=True)
    finally:
        node.srv.stop()
        s3.stop()


def check_deleted(c, node, s3, mans, ids, label):
    bad = []
    for cid in ids:
        m = mans[cid]
        if node.api.detail(cid) is not None:
            bad.append(f"{cid}: still in the catalog")
        code = s3.head(PREFIX + m["audio"]["file"])
        if code != 404:
            bad.append(f"{cid}: HEAD → {code}")
        if os.path.exists(os.path.join(node.data, "recordings", m["audio"]["file"] + ".json")) or \
                os.path.exists(node.audio_path(m)):
            bad.append(f"{cid}: local files left")
    c.check(not bad, f"{label}: {len(ids)} calls deleted — catalog, bucket (signed HEAD → 404), local files",
            "; ".join(bad[:5]))


# --- encrypted -------------------------------------------------------------------------------
def leaked_windows(plain, stored):
    """How many 64-byte windows of `stored` are windows of `plain`."""
    windows = {plain[i:i + 64] for i in range(0, len(plain) - 63)}
    return sum(1 for i in range(0, len(stored) - 63) if stored[i:i + 64] in windows)


def encrypted_test(args, c, work):
    s3 = S3(work)
    if not c.check(s3.start(), "S3 test server started"):
        return
    key_file = os.path.join(work, "master.key")  # outside the data directory, mode 0600
    r = subprocess.run([args.bin, "encryption", "init-master-key", key_file], capture_output=True, text=True)
    if not c.check(r.returncode == 0, "callvault encryption init-master-key", r.stderr):
        return
    enc = f'\n[encryption]\nmaster_key_file = "{key_file}"\ntenants = ["*", ""]\n'
    node = Node(args, work, s3, ports=40, relocate_after_s=86400, extra=enc)
    try:
        if not c.check(node.start(), "server started with encryption (relocate_after_s = 1 day)"):
            return
        sipp, d = sipp_run(node, "enc", 1, 1, 6000, 1)
        c.check(sipp.wait(60) == 0, "one 6 s call recorded")
        c.check(wait_catalogued(node, 1), "the call is catalogued as finished")
        cid, m = next(iter(node.manifests().items()))
        c.check(m.get("version") == 2 and isinstance(m["audio"].get("encryption"), dict),
                "its manifest is version 2 and says the audio is encrypted", str(m.get("version")))
        with open(node.audio_path(m), "rb") as f:
            local = f.read()
        code, hdr, plain = node.raw("GET", f"/api/v1/calls/{cid}/audio")
        c.check(code == 200 and plain[:4] == b"RIFF" and len(plain) > 70000,
                "playback returns the plaintext WAV", f"{code} {plain[:8]!r} {len(plain)}")
        n = leaked_windows(plain, local)
        c.check(n == 0 and local != plain, "no 64-byte window of the plaintext in the file on disk",
                f"{n} windows")
        size, etag = len(plain), hdr.get("etag")
        before = range_requests(node, cid, size, etag)
        want = {"0-0": plain[:1], "last byte": plain[-1:], "-100": plain[-100:], "1000-": plain[1000:],
                "across 64 KiB": plain[65500:65600], "If-Range match": plain[100:200]}
        bad = [k for k, body in want.items() if before[k][0] != 206 or before[k][4] != body]
        c.check(not bad and before["past the end"][0] == 416, "Range on the encrypted local file returns "
                "the plaintext's bytes", ", ".join(bad))
        node.srv.stop()
        node.configure(relocate_after_s=0, extra=enc)
        if not c.check(node.start(), "restart with relocate_after_s = 0"):
            return
        ok = wait_for(lambda: cid in node.relocated_ids() and not os.path.exists(node.audio_path(m)), 30)
        c.check(bool(ok), "the encrypted recording was relocated")
        obj = os.path.join(s3.dir, BUCKET, PREFIX + m["audio"]["file"] + "._S3rver_object")
        stored = open(obj, "rb").read() if os.path.exists(obj) else b""
        c.check(stored == local, "the bucket holds the stored (encrypted) bytes, unchanged", obj)
        n = leaked_windows(plain, stored)
        c.check(bool(stored) and n == 0, "no 64-byte window of the plaintext in the bucket", f"{n} windows")
        after = range_requests(node, cid, size, etag)
        diff = [k for k in before if before[k] != after[k]]
        c.check(not diff, "after relocation: every answer (status, body, Content-Range, Content-Length, "
                "ETag) identical, i.e. the plaintext", ", ".join(diff))
        det = node.api.detail(cid) or {}
        c.check((det.get("storage") or {}).get("encrypted") is True, "the call's storage says encrypted",
                str(det.get("storage")))
    finally:
        node.srv.stop()
        s3.stop()


MODES = {"encrypted": encrypted_test, "s3-outage": s3_outage, "kill9-uploads": kill9_uploads, "wrong-secret": wrong_secret,
         "range": range_test, "retention": retention_test, "local-changed": local_changed}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=sorted(MODES))
    ap.add_argument("--bin", required=True)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--outage-s", type=float, default=60)
    ap.add_argument("--big", type=int, default=12)
    ap.add_argument("--big-s", type=float, default=90)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    c = S.Checks()
    missing = [t for t in ("sipp", "sox", "curl") if shutil.which(t) is None]
    if not os.path.exists(NODE) or not os.path.isdir(os.path.join(TESTS, "node_modules", "@20minutes")):
        missing.append(f"{NODE} and @20minutes/s3rver (run `npm ci --prefix tests`)")
    if missing:
        c.check(False, "test tooling present", "missing: " + ", ".join(missing))
        return c.summary()
    work = S.make_workdir(f"cv-storage-{args.mode}-")
    t0 = time.time()
    try:
        MODES[args.mode](args, c, work)
    except Exception as e:  # a broken fixture is a failure, not a crash without a summary
        import traceback
        traceback.print_exc()
        c.check(False, "test ran", repr(e))
    print(f"  {args.mode} took {time.time() - t0:.0f} s", flush=True)
    rc = c.summary()
    S.cleanup_workdir(work, rc != 0 or args.keep)
    return rc


if __name__ == "__main__":
    sys.exit(main())
