#!/usr/bin/env python3
"""A full disk under recording calls (issue 21): loss is kept off, or made visible, never silent.

Usage: disk_full_test.py --bin build/<preset>/src/app/callvault [--calls 100] [--only A,B,...] [--keep]

Runs as root: re-executes itself under `unshare -m` and gives each scenario's data directory a
tmpfs of its own (the test's private mount namespace: nothing leaks to the host). "The disk is
full" = a ballast file written until ENOSPC; "space returns" = the ballast removed. One
`callvault serve` per scenario (real SIPREC INVITEs, RTP 20 ms G.711 on two streams per call from
one paced loop, BYE), the manifests and /metrics read afterwards:

A  hole in the middle: full for 10 s while the calls go on, then BYE → every stream has all of
   its packets (nothing missing, `completed`).
B  full at the end: full from 2 s, BYE at 17 s, space back 5 s after the BYE (a 20 s outage) →
   every call is one `completed` recording; per stream recorded + reported missing = sent
   (± 1 %), and with the default budget nothing is missing.
C  longer than the budget (media.spool_memory_budget_mb = 2, 20 calls): the manifests' missing
   ranges (gaps with reason disk_full) match the packets sent then (± 1 s), recorded + missing =
   sent, and callvault_media_spool_unwritten_records_total = the manifests' sum.
D  headroom (recorder.disk_full_horizon_s = 30): ballast leaves a few MiB free → new INVITEs get
   503 naming disk_headroom while the disk is not full yet, /readyz?role=recorder agrees; the
   ballast removed → accepted again, /readyz ready.
E  kill -9 while full, space freed, restart: every call is one `partial` recording holding a
   gap-free prefix of what was sent (its end is where the disk filled: times.ended ± 1 s of the
   last recorded packet's send time), nothing inside it is missing unreported, and warnings say
   the crash cut it there and from when (± 1 s) the disk refused its writes (what was only in
   memory at the kill is not in it).
"""
import argparse
import errno
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import siprec_src as S  # noqa: E402

TICK_NS = 20_000_000
STREAMS = [dict(label="1", codec="PCMA", pt=8, freq=600.0),
           dict(label="2", codec="PCMU", pt=0, freq=1000.0)]


def in_private_namespace():
    return os.environ.get("CV_DISK_TEST_NS") == "1"


def reexec_unshared():
    env = dict(os.environ, CV_DISK_TEST_NS="1")
    return subprocess.call(["unshare", "-m", "--propagation", "private", sys.executable,
                            os.path.abspath(__file__)] + sys.argv[1:], env=env)


def mount_tmpfs(path, mb):
    os.makedirs(path, exist_ok=True)
    subprocess.check_call(["mount", "-t", "tmpfs", "-o", f"size={mb}m", "tmpfs", path])


def umount(path):
    subprocess.call(["umount", "-l", path], stderr=subprocess.DEVNULL)


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(path, leave_bytes=0):
    """Writes <path>/ballast until the filesystem has `leave_bytes` left (0: until ENOSPC)."""
    chunk = b"\0" * (1 << 20)
    with open(os.path.join(path, "ballast"), "ab", buffering=0) as f:
        while True:
            room = free_bytes(path) - leave_bytes
            if room <= 0:
                break
            try:
                f.write(chunk if room >= len(chunk) or leave_bytes == 0 else chunk[:room])
            except OSError as e:
                if e.errno == errno.ENOSPC:
                    break
                raise
    return free_bytes(path)


def unfill(path):
    try:
        os.remove(os.path.join(path, "ballast"))
    except FileNotFoundError:
        pass


def config(data, lo, hi, media_extra="", recorder_extra=""):
    return f"""# tests/rtp/disk_full_test.py
[node]
id = "disk-test"
data_dir = "{data}"

[sip]
listen = ["udp:127.0.0.1:0"]
workers = 2

[server]
drain_timeout_s = 2

[http]
port = 0
public_metrics = true
min_free_disk_mb = 1

[log]
level = "info"

[recorder]
{recorder_extra}

[media]
ipv4_address = "127.0.0.1"
ipv6_address = "::1"
port_min = {lo}
port_max = {hi}
rtp_timeout_s = 60
{media_extra}
"""


class Calls:
    """N SIPREC calls of two sendonly streams and one paced sender for all of them."""

    def __init__(self, uac, n, tag):
        self.uac = uac
        self.calls = []
        for i in range(n):
            call = dict(id=f"disk-{tag}-{i:03d}-{os.getpid()}@127.0.0.1", streams=[])
            for s in STREAMS:
                so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                so.bind(("127.0.0.1", 0))
                so.setblocking(False)
                call["streams"].append(dict(sock=so, ssrc=0x1000 + 2 * i + len(call["streams"]),
                                            seq0=(i * 977) & 0xFFFF, ts0=i * 1234567, sends=[], dest=None, **s))
            self.calls.append(call)
        self.payload = {s["label"]: S.encode(s["codec"], S.tone_samples(s["freq"], 0, 160)) for s in STREAMS}
        self.k = 0
        self.t0 = None

    def invite(self):
        items = []
        for call in self.calls:
            d = self.uac.new_dialog(call["id"])
            call["dlg"] = d
            items.append((d, [dict(port=st["sock"].getsockname()[1], pt=st["pt"], codec=st["codec"],
                                   label=st["label"]) for st in call["streams"]]))
        finals = self.uac.invite(items, timeout=30)
        ok = 0
        for call in self.calls:
            r = finals.get(call["id"])
            if r is None or r.code != 200:
                continue
            addr, ml = S.parse_answer_ports(r.body)
            for st, (port, _) in zip(call["streams"], ml):
                st["dest"] = (addr, port)
            ok += 1
        return ok

    def send_until(self, t_s, events=()):
        """Paced packets until `t_s` seconds after the first tick; `events`: [(t_s, fn)] run once
        when their time comes (between ticks)."""
        if self.t0 is None:
            self.t0 = time.time_ns() + 50_000_000
        pending = sorted(events, key=lambda e: e[0])
        streams = [st for call in self.calls for st in call["streams"] if st["dest"]]
        end_k = int(t_s * 50)
        while self.k < end_k:
            S.sleep_until(self.t0 + self.k * TICK_NS)
            k = self.k
            for st in streams:
                pkt = S.rtp_packet(st["pt"], st["seq0"] + k, st["ts0"] + 160 * k, st["ssrc"], self.payload[st["label"]],
                                   marker=k == 0)
                try:
                    st["sock"].sendto(pkt, st["dest"])
                    st["sends"].append(time.time_ns())
                except BlockingIOError:
                    pass
            self.k += 1
            while pending and (time.time_ns() - self.t0) / 1e9 >= pending[0][0]:
                pending.pop(0)[1]()
            if self.k % 50 == 0:
                self.uac.drain(0.0)
        for _, fn in pending:
            fn()

    def bye(self):
        finals = self.uac.bye([c["dlg"] for c in self.calls if c["streams"][0]["dest"]], timeout=15)
        return sum(1 for r in finals.values() if r.code == 200)

    def sent(self):
        return sum(len(st["sends"]) for c in self.calls for st in c["streams"])


class Scenario:
    def __init__(self, args, checks, name, tmpfs_mb, media_extra="", recorder_extra="",
                 calls=None):
        self.c = checks
        self.name = name
        self.work = S.make_workdir(f"cv-disk-{name}-")
        self.data = os.path.join(self.work, "data")
        mount_tmpfs(self.data, tmpfs_mb)
        self.n = calls or args.calls
        lo, hi = S.free_port_range(4 * self.n + 40)
        self.srv = S.Server(args.bin, self.work,
                            config(self.data, lo, hi, media_extra, recorder_extra), name=f"server-{name}")
        self.http_port = None
        self.failed_before = checks.failed

    def start(self):
        ok = self.srv.start(timeout=30)
        m = re.search(r"event=http\.listening addr=127\.0\.0\.1:(\d+)", self.srv.read_log()) if ok else None
        self.http_port = int(m.group(1)) if m else None
        return self.c.check(ok and self.http_port is not None,
                            f"{self.name}: server started on a {self.name} tmpfs",
                            f"SIP {self.srv.sip_port}, HTTP {self.http_port}")

    def manifests(self):
        per = {}
        for p, m in S.manifests(os.path.join(self.data, "recordings")):
            per.setdefault(m.get("sip_call_id"), []).append(m)
        return per

    def wait_finalized(self, n, timeout):
        return self.srv.wait_log(r"event=finalize\.done ", n, timeout=timeout)

    def metric(self, name):
        code, text = S.http_get(self.http_port, "/metrics")
        return S.metric_total(S.parse_metrics(text), name) if code == 200 else None

    def close(self, keep):
        if self.srv.alive():
            self.srv.stop()
        failed = self.c.failed > self.failed_before
        umount(self.data)
        S.cleanup_workdir(self.work, failed or keep)


def per_stream(calls, per_call):
    """[(call, stream index, sent, manifest stream dict or None, manifest or None)]."""
    out = []
    for call in calls.calls:
        ms = per_call.get(call["id"], [])
        m = ms[0] if len(ms) == 1 else None
        for i, st in enumerate(call["streams"]):
            mst = m["streams"][i] if m and i < len(m.get("streams", [])) else None
            out.append((call, i, len(st["sends"]), mst, m))
    return out


def check_one_recording_each(sc, calls, per_call, state):
    bad = [f"{c['id']}: {[m.get('state') for m in per_call.get(c['id'], [])]}" for c in calls.calls
           if len(per_call.get(c["id"], [])) != 1 or per_call[c["id"]][0].get("state") != state]
    sc.c.check(not bad, f"{sc.name}: every call is exactly one `{state}` recording ({len(calls.calls)})",
               "; ".join(bad[:5]))


def scenario_a(args, c):
    """Hole in the middle."""
    sc = Scenario(args, c, "A", 256)
    try:
        if not sc.start():
            return
        uac = S.Uac(sc.srv.sip_port)
        calls = Calls(uac, sc.n, "a")
        c.check(calls.invite() == sc.n, f"A: {sc.n} calls answered")
        marks = {}
        calls.send_until(16, [(3, lambda: marks.setdefault("full", fill(sc.data))),
                              (13, lambda: (unfill(sc.data), marks.setdefault("freed", time.time())))])
        print(f"A: disk full from 3 s to 13 s (free at fill: {marks.get('full')} bytes); "
              f"{calls.sent()} packets sent in 16 s", flush=True)
        c.check(calls.bye() == sc.n, f"A: {sc.n} BYEs answered 200")
        c.check(sc.wait_finalized(sc.n, 90), f"A: {sc.n} calls finalized")
        time.sleep(0.5)
        per_call = sc.manifests()
        check_one_recording_each(sc, calls, per_call, "completed")
        short = [f"{call['id']}/{i}: sent {sent} recorded {mst and mst.get('packets')} missing "
                 f"{mst and mst.get('not_written')}" for call, i, sent, mst, _ in per_stream(calls, per_call)
                 if mst is None or mst.get("packets") != sent or mst.get("not_written")]
        rec = sum(mst.get("packets", 0) for _, _, _, mst, _ in per_stream(calls, per_call) if mst)
        c.check(not short, "A: every stream has all its packets through 10 s of full disk",
                f"{rec} of {calls.sent()} recorded; " + "; ".join(short[:5]))
        log = sc.srv.read_log()
        c.check("event=media.spool_error" in log and "event=media.spool_write_recovered" in log,
                "A: the spool logged its disk error and its recovery")
    finally:
        sc.close(args.keep)


def scenario_b(args, c):
    """Full at the end: BYE while full, space back 5 s later; a 20 s outage, default budget."""
    sc = Scenario(args, c, "B", 256)
    try:
        if not sc.start():
            return
        uac = S.Uac(sc.srv.sip_port)
        calls = Calls(uac, sc.n, "b")
        c.check(calls.invite() == sc.n, f"B: {sc.n} calls answered")
        calls.send_until(17, [(2, lambda: fill(sc.data))])
        t_bye = time.time()
        byes = calls.bye()
        print(f"B: disk full from 2 s; {calls.sent()} packets sent; BYE at 17 s ({byes} answered 200)", flush=True)
        while time.time() < t_bye + 5:
            uac.drain(0.1)
        c.check(not S.manifests(os.path.join(sc.data, "recordings")),
                "B: nothing finalized while the disk is full (the finalizer waits)")
        waiting = sc.metric("callvault_media_spool_waiting_calls")
        c.check(waiting == sc.n, f"B: {sc.n} ended calls wait for the disk with their records in memory",
                f"callvault_media_spool_waiting_calls = {waiting}")
        unfill(sc.data)
        c.check(sc.wait_finalized(sc.n, 90), f"B: {sc.n} calls finalized once space returned")
        time.sleep(0.5)
        per_call = sc.manifests()
        check_one_recording_each(sc, calls, per_call, "completed")
        off = []
        missing = rec = 0
        for call, i, sent, mst, _ in per_stream(calls, per_call):
            if mst is None:
                off.append(f"{call['id']}/{i}: no manifest")
                continue
            missing += mst.get("not_written", 0)
            rec += mst.get("packets", 0)
            if abs(mst.get("packets", 0) + mst.get("not_written", 0) - sent) > 0.01 * sent:
                off.append(f"{call['id']}/{i}: {mst.get('packets')} + {mst.get('not_written')} vs {sent} sent")
        print(f"B: recorded {rec}, reported missing {missing}, sent {calls.sent()}", flush=True)
        c.check(not off, "B: per stream recorded + reported missing = sent (± 1 %)", "; ".join(off[:5]))
        c.check(missing == 0 and rec == calls.sent(),
                "B: with the default budget a 20 s outage at this load loses nothing",
                f"{missing} missing, {rec} of {calls.sent()}")
        torn = sum(1 for ms in per_call.values() for m in ms
                   if any("torn" in w for w in m.get("warnings", [])))
        c.check(torn == 0, "B: no manifest calls its spool or session log torn", f"{torn} do")
        refused = sum(1 for ms in per_call.values() for m in ms
                      if any("refused this call's writes" in w for w in m.get("warnings", [])))
        c.check(refused == 0, "B: no manifest reports writes lost to the disk (all were written)",
                f"{refused} do")
    finally:
        sc.close(args.keep)


def scenario_c(args, c):
    """Longer than the budget holds."""
    sc = Scenario(args, c, "C", 128, media_extra="spool_memory_budget_mb = 2", calls=20)
    try:
        if not sc.start():
            return
        uac = S.Uac(sc.srv.sip_port)
        calls = Calls(uac, sc.n, "c")
        c.check(calls.invite() == sc.n, f"C: {sc.n} calls answered")
        calls.send_until(14, [(2, lambda: fill(sc.data))])
        calls.bye()
        t_bye = time.time()
        while time.time() < t_bye + 3:
            uac.drain(0.1)
        unfill(sc.data)
        c.check(sc.wait_finalized(sc.n, 60), f"C: {sc.n} calls finalized once space returned")
        time.sleep(0.5)
        per_call = sc.manifests()
        check_one_recording_each(sc, calls, per_call, "completed")
        off, ranges = [], []
        total_missing = rec = 0
        worst = 0.0
        for call, i, sent, mst, m in per_stream(calls, per_call):
            if mst is None:
                off.append(f"{call['id']}/{i}: no manifest")
                continue
            nw = mst.get("not_written", 0)
            total_missing += nw
            rec += mst.get("packets", 0)
            if abs(mst.get("packets", 0) + nw - sent) > 0.01 * sent:
                off.append(f"{call['id']}/{i}: {mst.get('packets')} + {nw} vs {sent} sent")
            spans = [g for g in mst.get("gaps", []) if g.get("reason") == "disk_full"]
            if nw == 0 or not spans or sum(g.get("packets", 0) for g in spans) != nw:
                ranges.append(f"{call['id']}/{i}: {nw} missing, spans {spans}")
                continue
            # What was dropped is the stream's last `nw` packets: compare the span with their sends.
            sends = call["streams"][i]["sends"]
            origin = S.parse_rfc3339_ns(m["audio"]["started"])
            first = origin + spans[0]["at_ms"] * 1_000_000
            last = origin + (spans[-1]["at_ms"] + spans[-1]["duration_ms"]) * 1_000_000
            d = max(abs(first - sends[len(sends) - nw]), abs(last - sends[-1])) / 1e9
            worst = max(worst, d)
            if d > 1.0:
                ranges.append(f"{call['id']}/{i}: span off by {d:.2f} s")
        metric = sc.metric("callvault_media_spool_unwritten_records_total")
        print(f"C: recorded {rec}, reported missing {total_missing}, sent {calls.sent()}; "
              f"worst span error {worst:.3f} s; metric {metric}", flush=True)
        c.check(not off, "C: per stream recorded + reported missing = sent (± 1 %)", "; ".join(off[:5]))
        c.check(total_missing > 0 and not ranges,
                "C: past the budget, the manifests' disk_full gaps give the missing ranges (± 1 s)",
                "; ".join(ranges[:5]))
        c.check(metric == total_missing,
                "C: callvault_media_spool_unwritten_records_total counts them",
                f"{metric} vs {total_missing} in the manifests")
        warned = sum(1 for ms in per_call.values() for m in ms
                     if any("not written" in w for w in m.get("warnings", [])))
        c.check(warned == sc.n, "C: every call carries a warning naming the missing seconds", f"{warned} do")
        log = sc.srv.read_log()
        n_start = len(re.findall(r"event=media\.spool_dropping ", log))
        n_end = len(re.findall(r"event=media\.spool_drop_ended ", log))
        c.check(n_start == 2 * sc.n and n_end == 2 * sc.n,
                "C: one log line when each stream starts dropping, one when it ends",
                f"{n_start} starts, {n_end} ends for {2 * sc.n} streams")
    finally:
        sc.close(args.keep)


def scenario_d(args, c):
    """Headroom: refused before the disk is full, accepted again when space returns."""
    sc = Scenario(args, c, "D", 96, recorder_extra="disk_full_horizon_s = 30", calls=20)
    try:
        if not sc.start():
            return
        uac = S.Uac(sc.srv.sip_port)
        calls = Calls(uac, sc.n, "d")
        c.check(calls.invite() == sc.n, f"D: {sc.n} calls answered")
        probe_n = [0]

        def probe():
            probe_n[0] += 1
            d = uac.new_dialog(f"disk-d-probe-{probe_n[0]}-{os.getpid()}@127.0.0.1")
            so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            so.bind(("127.0.0.1", 0))
            r = uac.invite([(d, [dict(port=so.getsockname()[1], pt=8, codec="PCMA", label="1")])], timeout=10).get(d.call_id)
            if r is not None and r.code == 200:
                uac.bye([d])
            so.close()
            return r

        calls.send_until(4)
        r = probe()
        ready = S.http_get(sc.http_port, "/readyz?role=recorder")
        c.check(r is not None and r.code == 200 and ready[0] == 200, "D: accepted while the disk has room",
                f"INVITE {r and r.code}, /readyz {ready[0]}")
        # ~8 MiB left at ~0.4 MB/s of demand: ~20 s to full, under the 30 s horizon.
        left = fill(sc.data, leave_bytes=8 << 20)
        calls.send_until(5)
        r = probe()
        ready = S.http_get(sc.http_port, "/readyz?role=recorder")
        still = free_bytes(sc.data)
        warning = (r.header("Warning") or "") if r is not None else ""
        print(f"D: {left >> 20} MiB left after the ballast; INVITE {r and r.code} Warning: {warning}; "
              f"/readyz {ready[0]}; {still >> 20} MiB still free", flush=True)
        c.check(r is not None and r.code == 503 and "disk_headroom" in warning and still > (1 << 20),
                "D: a new INVITE gets 503 + Warning disk_headroom before the disk is full")
        c.check(ready[0] == 503 and "disk_headroom" in ready[1], "D: /readyz?role=recorder agrees (not ready: disk_headroom)",
                ready[1][:200])
        unfill(sc.data)
        calls.send_until(6)
        r = probe()
        ready = S.http_get(sc.http_port, "/readyz?role=recorder")
        c.check(r is not None and r.code == 200 and ready[0] == 200,
                "D: accepted again once space returned, /readyz ready",
                f"INVITE {r and r.code}, /readyz {ready[0]}")
        calls.bye()
    finally:
        sc.close(args.keep)


def scenario_e(args, c):
    """kill -9 while the disk is full; space freed; restart."""
    sc = Scenario(args, c, "E", 96, calls=20)
    try:
        if not sc.start():
            return
        uac = S.Uac(sc.srv.sip_port)
        calls = Calls(uac, sc.n, "e")
        c.check(calls.invite() == sc.n, f"E: {sc.n} calls answered")
        marks = {}
        calls.send_until(6, [(2, lambda: marks.setdefault("full_ns", (fill(sc.data), time.time_ns())[1]))])
        sc.srv.kill9()
        unfill(sc.data)
        if not c.check(sc.srv.start(timeout=30), "E: restarted after kill -9 with space freed"):
            return
        c.check(sc.wait_finalized(sc.n, 60), f"E: {sc.n} calls recovered")
        time.sleep(0.5)
        per_call = sc.manifests()
        check_one_recording_each(sc, calls, per_call, "partial")
        bad = []
        rec = 0
        for call, i, sent, mst, m in per_stream(calls, per_call):
            if mst is None:
                bad.append(f"{call['id']}/{i}: no manifest")
                continue
            n = mst.get("packets", 0)
            rec += n
            # A gap-free prefix of what was sent, reported as such (no hole, nothing unwritten
            # inside), ending where the disk filled.
            if mst.get("lost") or mst.get("not_written") or n == 0 or n > sent:
                bad.append(f"{call['id']}/{i}: packets {n} lost {mst.get('lost')} not_written {mst.get('not_written')}")
                continue
            last_sent = call["streams"][i]["sends"][n - 1]
            ended = S.parse_rfc3339_ns(m["times"]["ended"])
            if abs(ended - last_sent) > 1_000_000_000:
                bad.append(f"{call['id']}/{i}: ended {(ended - last_sent) / 1e9:.2f} s from its last recorded packet")
        full_s = (marks.get("full_ns", 0) - calls.t0) / 1e9
        print(f"E: disk full at {full_s:.2f} s, kill -9 at 6 s; {rec} of {calls.sent()} packets recorded "
              f"(the rest was in memory at the kill)", flush=True)
        c.check(not bad, "E: every recording is a gap-free prefix ending at its last recorded packet (± 1 s)",
                "; ".join(bad[:5]))
        warned = sum(1 for ms in per_call.values() for m in ms
                     if any("cut short by a crash" in w for w in m.get("warnings", [])))
        c.check(warned == sc.n, "E: every partial recording says where the crash cut it (warning)",
                f"{warned} of {sc.n}")
        # ... and from when the disk refused its writes (the DISK_FULL.<ns> marker), ± 1 s.
        off = []
        for call in calls.calls:
            for m in per_call.get(call["id"], []):
                w = next((w for w in m.get("warnings", []) if "refused this call's writes from" in w), None)
                x = re.search(r"from (-?[\d.]+) s into the audio", w or "")
                if not x:
                    off.append(f"{call['id']}: no warning")
                    continue
                want = (marks.get("full_ns", 0) - S.parse_rfc3339_ns(m["audio"]["started"])) / 1e9
                if abs(float(x.group(1)) - want) > 1.0:
                    off.append(f"{call['id']}: {x.group(1)} s vs the disk full at {want:.1f} s")
        c.check(not off, "E: every partial recording names when the disk began refusing its writes (± 1 s)",
                "; ".join(off[:5]))
        c.check(not os.listdir(os.path.join(sc.data, "spool")), "E: the spool is empty after recovery")
    finally:
        sc.close(args.keep)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--only", default="A,B,C,D,E")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP: needs root (tmpfs mounts in a private mount namespace)")
        return 0
    if not in_private_namespace():
        return reexec_unshared()
    subprocess.call(["mount", "--make-rprivate", "/"])
    c = S.Checks()
    started = time.time()
    for name in args.only.split(","):
        t = time.time()
        {"A": scenario_a, "B": scenario_b, "C": scenario_c, "D": scenario_d, "E": scenario_e}[name](args, c)
        print(f"-- scenario {name}: {time.time() - t:.1f} s", flush=True)
    print(f"total {time.time() - started:.1f} s", flush=True)
    return c.summary()


if __name__ == "__main__":
    sys.exit(main())
