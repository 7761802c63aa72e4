#!/usr/bin/env python3
"""Catalog system tests: `callvault serve` under sipp SIPREC load (tests/catalog/siprec_uac.xml),
checked through the REST API.

Usage:
  system_test.py pg-outage  --bin PATH/callvault [--calls 50] [--keep]
  system_test.py kill9-loop --bin PATH/callvault [--cycles 20] [--keep]

pg-outage: a real PostgreSQL server started here (initdb + pg_ctl on a private loopback port;
  as root through `runuser -u postgres`) is the catalog. A 50-call sipp run starts; after its
  first calls are answered PostgreSQL is stopped (fast shutdown: connections drop) and stays
  down until every call has ended. Every call must be recorded (a manifest per answered
  Call-ID) while it is down; once it is back all 50 must be in the catalog (state completed)
  within 30 s, none twice. Prints the counts and how long the catch-up took.

kill9-loop: 20 cycles of: start the server on the same data dir (SQLite catalog); sipp load
  (3 s calls, 20 calls/s) with RTP; kill -9 while calls are in flight; kill sipp. Then a last
  start: every Call-ID that got a 200 OK must be catalogued exactly once as completed,
  timed_out or partial, a partial one with media up to ≤ 1 s before its kill (times.ended ≥
  kill − 1 s) and audio covering it; no Call-ID twice, nothing left `active`, the spool and
  the outbox empty. Prints the counts.

Prints `N passed, N failed`; exit 1 on a failure. The work dir is kept on failure or --keep.
"""
import argparse
import calendar
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rtp"))
import siprec_src as S  # noqa: E402

SCENARIO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "siprec_uac.xml")


# --- PostgreSQL on loopback ---------------------------------------------------------------
class Postgres:
    def __init__(self, work):
        self.dir = os.path.join(work, "pg")
        os.makedirs(self.dir)
        self.bin = self._bin_dir()
        self.port = free_tcp_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            os.chmod(work, 0o755)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)

    @staticmethod
    def _bin_dir():
        root = "/usr/lib/postgresql"
        versions = sorted((d for d in os.listdir(root) if d.isdigit()), key=int) if os.path.isdir(root) else []
        if not versions:
            raise RuntimeError("PostgreSQL is not installed (scripts/install-deps.sh installs `postgresql`)")
        return os.path.join(root, versions[-1], "bin")

    def _run(self, *cmd, check=True):
        cmd = list(cmd)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        r = subprocess.run(cmd, capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: {r.stdout}{r.stderr}")
        return r

    def init(self):
        self._run(os.path.join(self.bin, "initdb"), "-D", os.path.join(self.dir, "data"), "-U", "callvault",
                  "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()
        self._run(os.path.join(self.bin, "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "callvault",
                  "callvault")

    def start(self):
        self._run(os.path.join(self.bin, "pg_ctl"), "-D", os.path.join(self.dir, "data"), "-w", "-t", "30",
                  "-l", os.path.join(self.dir, "log"),
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start")

    def stop(self):
        self._run(os.path.join(self.bin, "pg_ctl"), "-D", os.path.join(self.dir, "data"), "-w", "-m", "fast",
                  "stop", check=False)

    def url(self):
        return f"postgresql://callvault@127.0.0.1:{self.port}/callvault"


def free_tcp_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


# --- the server's API ---------------------------------------------------------------------
class Api:
    def __init__(self, port, token):
        self.base = f"http://127.0.0.1:{port}"
        self.token = token

    def get(self, path, timeout=10):
        req = urllib.request.Request(self.base + path, headers={"Authorization": "Bearer " + self.token})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            body = e.read()
            try:
                return e.code, json.loads(body)
            except ValueError:
                return e.code, body.decode(errors="replace")
        except (urllib.error.URLError, OSError) as e:
            return 0, str(e)

    def all_calls(self, query=""):
        """Every call (all pages); None when the API does not answer 200."""
        out, cursor = [], ""
        for _ in range(10000):
            q = "limit=1000" + (("&" + query) if query else "") + (
                "&cursor=" + urllib.parse.quote(cursor) if cursor else "")
            code, body = self.get("/api/v1/calls?" + q)
            if code != 200:
                return None
            out += body["calls"]
            cursor = body.get("next_cursor") or ""
            if not cursor:
                return out
        return None

    def detail(self, call_id):
        code, body = self.get("/api/v1/calls/" + call_id)
        return body if code == 200 else None


def http_port(server, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = re.search(r"event=http\.listening addr=127\.0\.0\.1:(\d+)", server.read_log())
        if m:
            return int(m.group(1))
        time.sleep(0.05)
    return None


def make_token(binary, config):
    subprocess.run([binary, "user", "add", "--name", "tester", "--role", "admin", "-c", config],
                   input="tester-password\n", capture_output=True, text=True, check=True)
    r = subprocess.run([binary, "token", "create", "--user", "tester", "-c", config],
                       capture_output=True, text=True, check=True)
    return r.stdout.strip()


def write_tone(path, seconds=30):
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-e", "a-law", "-t", "raw", path,
                    "synth", str(seconds), "sine", "1000", "vol", "0.3"], check=True)


def start_sipp(work, tag, sip_port, calls, rate, call_ms, limit, media_port):
    d = os.path.join(work, f"sipp-{tag}")
    os.makedirs(d, exist_ok=True)
    write_tone(os.path.join(d, "cv_tone.alaw"))
    cmd = ["sipp", "-sf", SCENARIO, "-m", str(calls), "-r", str(rate), "-l", str(limit),
           "-d", str(call_ms), "-i", "127.0.0.1", "-p", "0", "-mi", "127.0.0.1", "-mp", str(media_port),
           "-trace_logs", "-log_file", os.path.join(d, "calls.log"),
           "-trace_err", "-error_file", os.path.join(d, "errors.log"),
           "-timeout", "120", "-timeout_error", "-nostdin",
           f"127.0.0.1:{sip_port}"]
    out = open(os.path.join(d, "sipp.out"), "w")
    return subprocess.Popen(cmd, cwd=d, stdout=out, stderr=subprocess.STDOUT), d


def sipp_calls(d, what):
    path = os.path.join(d, "calls.log")
    if not os.path.exists(path):
        return set()
    with open(path, errors="replace") as f:
        return set(re.findall(rf"^{what} (\S+)", f.read(), re.M))


def config_text(data, lo, hi, extra=""):
    return S.base_config(data, lo, hi, rtp_timeout_s=20, extra=extra)


# --- pg-outage ----------------------------------------------------------------------------
def pg_outage(args, c, work):
    pg = Postgres(work)
    pg.init()
    data = os.path.join(work, "data")
    lo, hi = S.free_port_range(4 * args.calls + 40)
    extra = f'\n[catalog]\nurl = "{pg.url()}?connect_timeout=2"\n'
    srv = S.Server(args.bin, work, config_text(data, lo, hi, extra))
    try:
        token = make_token(args.bin, srv.config)
        if not c.check(srv.start(), "server started with a PostgreSQL catalog"):
            return
        api = Api(http_port(srv), token)
        code, _ = api.get("/api/v1/calls")
        c.check(code == 200, "API answers with the database up", str(code))
        sipp, d = start_sipp(work, "pg", srv.sip_port, args.calls, 10, 4000, 60, S.free_port_range(8)[0])
        deadline = time.time() + 30
        while len(sipp_calls(d, "answered")) < 5 and time.time() < deadline:
            time.sleep(0.1)
        pg.stop()
        stopped_at = time.time()
        print(f"  PostgreSQL stopped after {len(sipp_calls(d, 'answered'))} calls were answered", flush=True)
        rc = sipp.wait(timeout=120)
        answered, ended = sipp_calls(d, "answered"), sipp_calls(d, "ended")
        c.check(rc == 0 and len(answered) == args.calls and len(ended) == args.calls,
                f"sipp: all {args.calls} calls answered and ended while the catalog was down",
                f"rc={rc} answered={len(answered)} ended={len(ended)}")
        # Every call recorded although the database is down: a manifest per Call-ID.
        recorded = {}
        deadline = time.time() + 30
        while time.time() < deadline:
            recorded = {m.get("sip_call_id"): m for _, m in S.manifests(os.path.join(data, "recordings"))}
            if answered <= set(recorded):
                break
            time.sleep(0.2)
        c.check(answered <= set(recorded), "every call recorded while PostgreSQL was down",
                f"{len(answered & set(recorded))} of {len(answered)}")
        code, body = api.get("/readyz?role=web")
        c.check(code == 503, "/readyz?role=web says the catalog is down", f"{code} {body}")
        code, _ = api.get("/readyz?role=recorder")
        c.check(code == 200, "/readyz?role=recorder stays ready", str(code))
        down_s = time.time() - stopped_at
        pg.start()
        back = time.time()
        calls = None
        while time.time() - back < 60:
            calls = api.all_calls("state=completed")
            if calls is not None and len(calls) >= args.calls:
                break
            time.sleep(0.25)
        took = time.time() - back
        n = len(calls) if calls is not None else 0
        c.check(calls is not None and n == args.calls and took <= 30,
                f"all {args.calls} calls in the catalog within 30 s of PostgreSQL's return",
                f"{n} calls after {took:.1f} s (database was down {down_s:.1f} s)")
        ids = [x["id"] for x in calls or []]
        sips = []
        for cid in ids:
            det = api.detail(cid)
            sips.append(det.get("sip_call_id") if det else None)
        c.check(len(set(ids)) == len(ids) and len(set(sips)) == len(sips) and set(sips) == answered,
                "no call catalogued twice, each answered Call-ID once",
                f"ids={len(ids)} unique={len(set(ids))} sip_call_ids={len(set(sips))}")
        print(f"  counts: answered={len(answered)} recorded={len(answered & set(recorded))} "
              f"catalogued={n} duplicates={len(ids) - len(set(ids))} catch_up_s={took:.1f}", flush=True)
    finally:
        srv.stop()
        pg.stop()


# --- kill9-loop ---------------------------------------------------------------------------
def kill9_loop(args, c, work):
    data = os.path.join(work, "data")
    lo, hi = S.free_port_range(400)
    srv = S.Server(args.bin, work, config_text(data, lo, hi))
    token = make_token(args.bin, srv.config)
    answered_by_cycle, kills = [], []
    for cycle in range(args.cycles):
        if not c.check(srv.start(timeout=60), f"cycle {cycle + 1}: server started"):
            return
        sipp, d = start_sipp(work, f"c{cycle:02d}", srv.sip_port, 1000, 20, 3000, 200, S.free_port_range(8)[0])
        # Load for 2.5-4.5 s: calls are in flight (started, answered, some ended) at the kill.
        time.sleep(2.5 + (cycle % 5) * 0.5)
        kill_ns = srv.kill9()
        sipp.send_signal(signal.SIGKILL)
        sipp.wait()
        answered, ended = sipp_calls(d, "answered"), sipp_calls(d, "ended")
        answered_by_cycle.append((answered, ended))
        kills.append(kill_ns)
        print(f"  cycle {cycle + 1}: answered={len(answered)} ended={len(ended)} "
              f"in_flight={len(answered - ended)}", flush=True)
    if not c.check(srv.start(timeout=60), "final start"):
        return
    try:
        api = Api(http_port(srv), token)
        all_answered = set().union(*(a for a, _ in answered_by_cycle))
        deadline = time.time() + 120
        calls = []
        while time.time() < deadline:
            calls = api.all_calls() or []
            if len(calls) >= len(all_answered) and not any(x["state"] == "active" for x in calls):
                break
            time.sleep(0.5)
        by_sip, problems = {}, []
        details = {}
        for x in calls:
            det = api.detail(x["id"])
            if not det:
                problems.append(f"{x['id']}: no detail")
                continue
            details[x["id"]] = det
            by_sip.setdefault(det.get("sip_call_id"), []).append(det)
        lost = sorted(all_answered - set(by_sip))
        dups = {k: len(v) for k, v in by_sip.items() if len(v) > 1}
        states = {}
        for det in details.values():
            st = det.get("state")
            states[st] = states.get(st, 0) + 1
        # Partial calls: media up to <= 1 s before their kill (catalog: `ended` is the last
        # packet's arrival for a crashed call), and the audio file (manifest on disk) covers it.
        on_disk = {m.get("sip_call_id"): m for _, m in S.manifests(os.path.join(data, "recordings"))}
        late = []
        partial_checked = 0
        for (answered, ended), kill_ns in zip(answered_by_cycle, kills):
            for sip_id in answered - ended:
                for det in by_sip.get(sip_id, []):
                    if det.get("state") != "partial":
                        continue
                    partial_checked += 1
                    t_end = rfc3339_ns(det["ended"])
                    t_answered = rfc3339_ns(det["answered"] or det["started"])
                    audio_ms = (on_disk.get(sip_id) or {}).get("audio", {}).get("duration_ms", -1)
                    want_ms = (kill_ns - t_answered) / 1e6 - 1000
                    if t_end < kill_ns - 1_000_000_000 or audio_ms < want_ms:
                        late.append(f"{sip_id}: last media {(kill_ns - t_end) / 1e6:.0f} ms before the "
                                    f"kill, audio {audio_ms} ms (wanted >= {want_ms:.0f})")
        print(f"  counts: cycles={args.cycles} answered={len(all_answered)} catalogued={len(calls)} "
              f"states={states} lost={len(lost)} duplicated={len(dups)} partials_checked={partial_checked} "
              f"late_partials={len(late)}", flush=True)
        c.check(not lost, "zero lost: every answered call is catalogued", ", ".join(lost[:5]))
        c.check(not dups, "zero duplicated", json.dumps(dict(list(dups.items())[:5])))
        c.check(set(states) <= {"completed", "timed_out", "partial"} and not problems,
                "every call completed, timed_out or partial (none active)", f"{states} {problems[:3]}")
        c.check(not late, "partial calls hold media up to <= 1 s before the kill", "; ".join(late[:5]))
        spool = os.path.join(data, "spool")
        outbox = os.path.join(data, "outbox", "catalog")
        left = [n for n in os.listdir(spool)] if os.path.isdir(spool) else []
        waiting = outbox_entries(outbox)
        c.check(not left and not waiting, "spool and outbox empty", f"spool={len(left)} outbox={len(waiting)}")
    finally:
        srv.stop()


def outbox_entries(queue_dir):
    """Entries waiting in an outbox queue (docs/formats/outbox.md: <queue>/<bucket>/<call>.json,
    or flat from an earlier layout), not counting rejected/."""
    found = []
    if not os.path.isdir(queue_dir):
        return found
    for root, dirs, files in os.walk(queue_dir):
        dirs[:] = [d for d in dirs if d != "rejected"]
        found += [f for f in files if f.endswith(".json")]
    return found


def rfc3339_ns(s):
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z", s)
    secs = calendar.timegm(tuple(int(x) for x in m.groups()[:6]))
    frac = (m.group(7) or "0")[:9].ljust(9, "0")
    return secs * 1_000_000_000 + int(frac)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["pg-outage", "kill9-loop"])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    for tool in ("sipp", "sox"):
        if shutil.which(tool) is None:
            print(f"{tool} not found (scripts/install-deps.sh installs it)\n0 passed, 1 failed")
            return 1
    c = S.Checks()
    work = S.make_workdir(f"cv-catalog-{args.mode}-")
    try:
        (pg_outage if args.mode == "pg-outage" else kill9_loop)(args, c, work)
    except Exception as e:  # a broken fixture is a failure, not a crash without a summary
        c.check(False, "test ran", repr(e))
    rc = c.summary()
    S.cleanup_workdir(work, rc != 0 or args.keep)
    return rc


if __name__ == "__main__":
    sys.exit(main())
