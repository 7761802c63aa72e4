#!/usr/bin/env python3
"""Passive hot spare on loopback (issue 19): a primary `callvault serve` answers SIPREC calls
from sipp (RTP from sipp's rtp_stream); a spare `callvault serve` with [passive] captures `lo`
and records the same calls from what it sees. Checks:
  * every call the primary recorded, the spare recorded too: one manifest each, `capture.mode`
    passive with the primary's node id, state and end reason as the primary's, the same
    packets per stream, audio duration within 20 ms of the primary's;
  * a Cisco UCM BiB call (the samples' sipp master/slave pair, when ../shared/siprec-samples
    exists) is one two-channel recording on both nodes, durations within 20 ms;
  * --bib-calls concurrent BiB calls from our own generator (bib_src.py: two delayed-offer legs
    per call, x-refci per call, 1 kHz near end, 2 kHz far end): one two-channel recording per
    call on each node, the near end's tone on channel 0 and the far end's on channel 1 on both,
    durations within 20 ms;
  * a capture burst above the ring: a third node, a spare with a 1 MiB ring, is stopped
    (SIGSTOP) for 1.5 s while 10 calls stream and 8 MB of other UDP cross lo, so the
    kernel's ring overflows: the drops show in
    `callvault_passive_capture_dropped_total`, in a warning of every call recording then, and in
    the calls' loss figures (every call counts some lost; per stream, packets + lost on the
    spare = the primary's packets, but for drops at a stream's very start or end, which are no
    sequence gap — at most 10);
  * without capture permission (uid 65534, no CAP_NET_RAW) `serve` does not start and says
    why.
Usage: passive_test.py --bin PATH/callvault [--calls N] [--keep]
Prints `N passed, N failed`. Needs root, sipp and sox (else SKIPPED, exit 77).
"""
import argparse
import array
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "siprec-samples"))
UAC = os.path.join(HERE, "..", "catalog", "siprec_uac.xml")
PRIMARY_SIP, SPARE_SIP, SIPP_SIP, SIPP_MEDIA = 25060, 25070, 25100, 25200
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "rtp"))
import bib_src  # noqa: E402
import siprec_src as S  # noqa: E402


def config(work, name, sip_port, rtp_lo, passive, buffer_mb=256):
    text = f"""[node]
id = "{name}"
data_dir = "{work}/{name}"
[sip]
listen = ["udp:127.0.0.1:{sip_port}"]
[http]
port = 0
public_metrics = true
[media]
ipv4_address = "127.0.0.1"
port_min = {rtp_lo}
port_max = {rtp_lo + 999}
[server]
drain_timeout_s = 2
"""
    if passive:
        text += f"""[passive]
enabled = true
interface = "lo"
filter = "udp and host 127.0.0.1 and not port {SPARE_SIP}"
sip_ports = ["{PRIMARY_SIP}"]
primary = ["127.0.0.1:{PRIMARY_SIP}"]
primary_node_id = "primary"
buffer_mb = {buffer_mb}
"""
    path = os.path.join(work, name + ".toml")
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return path


def start(binary, cfg, log, user=None):
    cmd = [binary, "serve", "-c", cfg]
    if user:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + cmd
    return subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT)


def wait_ready(log, proc, seconds=15):
    deadline = time.time() + seconds
    while time.time() < deadline:
        text = open(log, errors="replace").read()
        if "event=server.ready" in text:
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.1)
    return False


def Ms(t):
    """Milliseconds since the epoch of an RFC 3339 UTC time as the manifests write it."""
    import datetime
    return int(datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp() * 1000 + 0.5)


def wire_difference(pm, sm):
    """(ms, lag at the answer, lag at the BYE, edge) comparing a spare's recording `sm` with the
    primary's `pm` on the wire. The spare stamps the wire's times (the INVITE's and the BYE's
    capture) and stops at the BYE's capture; the primary stamps the times its worker processed
    them and records until then: on a loaded box (two builds, or ASan) that lags the wire by up
    to 0.2 s, and what the SRC sent after its BYE within that lag — sipp's RTP thread sends in
    bursts when late: up to 2 packets — is in the primary's copy (20 ms packets). Compared on
    the wire: the primary's duration with its lag at the answer and those packets taken out.
    `edge`: the packet counts differ by no more than that."""
    pp = {s["id"]: (s["packets"], s.get("channel")) for s in pm["streams"]}
    sp = {s["id"]: (s["packets"], s.get("channel")) for s in sm["streams"]}
    lag_start = Ms(pm["times"]["answered"]) - Ms(sm["times"]["answered"])
    lag_end = Ms(pm["times"]["ended"]) - Ms(sm["times"]["ended"])
    edge = set(pp) == set(sp) and all(pp[k][1] == sp[k][1] for k in pp) and all(
        0 <= pp[k][0] - sp[k][0] <= max(0, lag_end) // 20 + 2 for k in pp)
    extra = max((pp[k][0] - sp[k][0] for k in pp), default=0) if edge else 0
    d = abs(sm["audio"]["duration_ms"] - (pm["audio"]["duration_ms"] + lag_start - 20 * extra))
    return d, lag_start, lag_end, edge


def manifests(root):
    out = {}
    for p in glob.glob(os.path.join(root, "recordings", "**", "*.json"), recursive=True):
        with open(p) as f:
            m = json.load(f)
        out.setdefault(m["sip_call_id"], []).append(m)
    return out


def bib(args, work, check):
    """The samples' CUCM BiB master/slave pair to the primary: one recording on each node. The
    slave talks 0.5 s longer (as in siprec_scenarios: sipp 3.6.1 fails the master on the
    slave's early 'done' command)."""
    cfg = os.path.join(SAMPLES, "miarec-1slave.cfg")
    with open(os.path.join(SAMPLES, "miarec-cisco-ucm-bib-nearend-slave1.xml"),
              encoding="iso-8859-1") as f:
        slave_xml = f.read().replace('<pause milliseconds="10000"/>',
                                     '<pause milliseconds="10500"/>')
    slave_path = os.path.join(work, "bib-slave.xml")
    with open(slave_path, "w", encoding="iso-8859-1") as f:
        f.write(slave_xml)
    os.symlink(os.path.join(work, "cv_tone.alaw"), os.path.join(work, "audio_alaw.wav"))
    base = ["sipp", "127.0.0.1:%d" % PRIMARY_SIP, "-m", "1", "-i", "127.0.0.1", "-nostdin",
            "-timeout", "60", "-timeout_error", "-slave_cfg", cfg]
    slave = subprocess.Popen(base + ["-sf", slave_path, "-p", "25111", "-mp", "25400",
                                     "-slave", "slave1"],
                             cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    master = subprocess.run(base + ["-sf", os.path.join(SAMPLES,
                                                        "miarec-cisco-ucm-bib-farend-master.xml"),
                                    "-p", "25110", "-mp", "25500", "-master", "master"],
                            cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            timeout=90)
    slave_rc = slave.wait(timeout=90)
    check(master.returncode == 0 and slave_rc == 0,
          "BiB master/slave sipp pair ran (rc %d, %d)" % (master.returncode, slave_rc))

    def bib_of(node):
        return [m for cid, ms in manifests(os.path.join(work, node)).items()
                if cid.startswith("new_") for m in ms]

    deadline = time.time() + 20
    while time.time() < deadline and (len(bib_of("primary")) < 1 or len(bib_of("spare")) < 1):
        time.sleep(0.5)
    p, s = bib_of("primary"), bib_of("spare")
    ok = len(p) == 1 and len(s) == 1
    text = "BiB: %d primary and %d spare recordings (one each expected)" % (len(p), len(s))
    if ok:
        p, s = p[0], s[0]
        chans = lambda m: sorted((st["id"], st.get("channel")) for st in m["streams"]
                                 if st["packets"] > 0)
        d = abs(p["audio"]["duration_ms"] - s["audio"]["duration_ms"])
        ok = chans(p) == chans(s) == [("s0", 0), ("s1", 1)] and d <= 20 and \
            s["capture"]["mode"] == "passive"
        text = "BiB: one two-channel recording on each node, streams %s, durations %d / %d ms" % (
            chans(s), p["audio"]["duration_ms"], s["audio"]["duration_ms"])
    check(ok, text)


def dominant_tone(path, channel):
    """1000 or 2000: which of the two BiB tones dominates `channel` of a WAV (None: silence)."""
    rate, ch = S.read_wav(path)
    x = array.array("h", ch[channel][rate:3 * rate])  # seconds 1-3: well inside the call
    if S.rms(x) < 300:
        return None
    p1, p2 = S.goertzel_power(x, 1000, rate), S.goertzel_power(x, 2000, rate)
    return 1000 if p1 > 10 * p2 else 2000 if p2 > 10 * p1 else None


def bib_many(args, work, check):
    """--bib-calls concurrent BiB calls from bib_src to the primary, followed by the spare."""
    src = bib_src.BibSrc(("127.0.0.1", PRIMARY_SIP))
    calls = src.run(args.bib_calls, seconds=8)
    legs = [l for c in calls for l in c.legs]
    check(all(l.code == 200 and l.bye_code == 200 for l in legs),
          "%d BiB calls from our generator: every leg answered and ended (%s)" % (
              len(calls), sorted({(l.code, l.bye_code) for l in legs})))
    refcis = {str(c.refci) for c in calls}

    def bib_of(node):
        out = {}
        for p in glob.glob(os.path.join(work, node, "recordings", "**", "*.json"), recursive=True):
            with open(p) as f:
                m = json.load(f)
            sid = m.get("sip_call_id", "")
            if sid.startswith("bib-") and sid.split("-")[1] in refcis:
                out.setdefault(sid.split("-")[1], []).append((p, m))
        return out

    deadline = time.time() + 30
    while time.time() < deadline and (len(bib_of("primary")) < len(refcis) or
                                      len(bib_of("spare")) < len(refcis)):
        time.sleep(0.5)
    prim, spar = bib_of("primary"), bib_of("spare")
    bad, worst, raw_worst = [], 0, 0
    for refci in sorted(refcis):
        p, s = prim.get(refci, []), spar.get(refci, [])
        if len(p) != 1 or len(s) != 1:
            bad.append("x-refci %s: %d primary, %d spare recordings" % (refci, len(p), len(s)))
            continue
        (pp, pm), (sp, sm) = p[0], s[0]
        d, lag_start, lag_end, _ = wire_difference(pm, sm)
        raw_worst = max(raw_worst, abs(pm["audio"]["duration_ms"] - sm["audio"]["duration_ms"]))
        worst = max(worst, d)
        for name, path, m in (("primary", pp, pm), ("spare", sp, sm)):
            chans = sorted((st["id"], st.get("channel")) for st in m["streams"] if st["packets"])
            tones = (dominant_tone(path[:-5], 0), dominant_tone(path[:-5], 1))
            if chans != [("s0", 0), ("s1", 1)] or tones != (1000, 2000):
                bad.append("x-refci %s on the %s: streams %s, tones %s" % (refci, name, chans, tones))
        if sm.get("capture", {}).get("mode") != "passive":
            bad.append("x-refci %s: spare capture %s" % (refci, sm.get("capture")))
    for b in bad[:10]:
        print("       - " + b)
    check(not bad and worst <= 20,
          "%d BiB calls: one two-channel recording each on both nodes, 1 kHz (near end) on "
          "channel 0 and 2 kHz (far end) on channel 1, durations within %d ms on the wire "
          "(limit 20; %d ms as recorded)" % (len(refcis), worst, raw_worst))


def metrics_of(log):
    """{name: value} of a node's /metrics (its port from the http.listening line)."""
    import re
    import urllib.request
    m = re.search(r"event=http.listening addr=[^ ]*:(\d+)", open(log, errors="replace").read())
    if not m:
        return {}
    text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % m.group(1), timeout=10).read()
    out = {}
    for line in text.decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                pass
    return out


def burst(args, work, check, procs):
    """A spare whose 1 MiB ring overflows while it is stopped for 1.5 s mid-call."""
    log = os.path.join(work, "burst.log")
    node = start(args.bin, config(work, "burst", SPARE_SIP + 5, 29000, True, buffer_mb=1), log)
    procs.append(node)
    if not wait_ready(log, node):
        check(False, "burst spare (1 MiB ring) started")
        return
    before = set(manifests(os.path.join(work, "primary")))
    sipp = subprocess.Popen(
        ["sipp", "127.0.0.1:%d" % PRIMARY_SIP, "-sf", UAC, "-m", "10", "-l", "10", "-r", "10",
         "-d", "8000", "-i", "127.0.0.1", "-p", str(SIPP_SIP + 7), "-mp", str(SIPP_MEDIA + 600),
         "-nostdin", "-timeout", "60", "-timeout_error"],
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(3)
    os.kill(node.pid, signal.SIGSTOP)
    # The burst: 8 MB of UDP the spare's filter lets through, while its capture cannot read.
    import socket
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    blast = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(7000):
        blast.sendto(b"\x00" * 1200, sink.getsockname())
    time.sleep(1.5)
    os.kill(node.pid, signal.SIGCONT)
    blast.close()
    sink.close()
    rc = sipp.wait(timeout=90)
    deadline = time.time() + 30
    while time.time() < deadline and len(manifests(os.path.join(work, "burst"))) < 10:
        time.sleep(0.5)
    prim = manifests(os.path.join(work, "primary"))
    got = manifests(os.path.join(work, "burst"))
    dropped = metrics_of(log).get("callvault_passive_capture_dropped_total", 0)
    bad, lost_total, edge_total = [], 0, [0]
    for cid, ms in sorted(got.items()):
        if cid in before or cid not in prim:
            bad.append("%s: not one of the burst's calls on the primary" % cid)
            continue
        m, pm = ms[0], prim[cid][0]
        if not any("passive capture: the kernel dropped" in w for w in m.get("warnings", [])):
            bad.append("%s: no capture-drop warning (%s)" % (cid, m.get("warnings")))
        ps = {s["id"]: s["packets"] for s in pm["streams"]}
        call_lost = 0
        for s in m["streams"]:
            call_lost += s["lost"]
            # Drops before the first or after the last packet the spare got are no sequence
            # gap (the warning covers them): at most 10 such, never more than the primary's.
            short = ps.get(s["id"], 0) - (s["packets"] + s["lost"])
            edge_total[0] += max(0, short)
            if not 0 <= short <= 10:
                bad.append("%s/%s: %d packets + %d lost on the spare, %s on the primary" % (
                    cid, s["id"], s["packets"], s["lost"], ps.get(s["id"])))
        if call_lost == 0:
            bad.append("%s: streaming while the ring overflowed, yet nothing counted lost" % cid)
        lost_total += call_lost
    for b in bad[:10]:
        print("       - " + b)
    check(rc == 0 and len(got) == 10 and dropped > 0 and lost_total > 0 and not bad,
          "capture burst above a 1 MiB ring: %d packets dropped by the kernel "
          "(callvault_passive_capture_dropped_total), %d calls each with the warning, %d RTP "
          "packets counted lost (every call some); packets + lost = the primary's per stream "
          "but %d dropped before a stream's first or after its last packet (no sequence gap: "
          "the warning says so)" % (dropped, len(got), lost_total, edge_total[0]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--bib-calls", type=int, default=10)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIPPED: needs root (capture on lo)")
        return 77
    for tool in ("sipp", "sox", "setpriv"):
        if shutil.which(tool) is None:
            print("SKIPPED: %s not installed (scripts/install-deps.sh)" % tool)
            return 77
    work = tempfile.mkdtemp(prefix="cv-passive-")
    os.chmod(work, 0o755)
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-e", "a-law", "-t", "raw",
                    os.path.join(work, "cv_tone.alaw"), "synth", "60", "sine", "1000", "vol",
                    "0.5"], check=True)
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        print("%s %s" % ("PASS" if ok else "FAIL", what), flush=True)
        passed += ok
        failed += not ok

    procs = []
    try:
        # 1. No capture permission: a clear start error.
        nobody_dir = os.path.join(work, "nobody")
        os.makedirs(nobody_dir)
        os.chown(nobody_dir, 65534, 65534)
        cfg = config(work, "nobody", 25080, 28000, True)
        log = os.path.join(work, "nobody.log")
        p = start(args.bin, cfg, log, user="nobody")
        try:
            rc = p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = "still running"
        text = open(log, errors="replace").read()
        check(rc == 1 and "stage=passive" in text and "needs root or CAP_NET_RAW" in text,
              "passive without capture permission: exit %s, %s" % (
                  rc, next((l for l in text.splitlines() if "start_failed" in l), "no error line")))

        # 2. Primary and spare; sipp's calls recorded by both.
        primary = start(args.bin, config(work, "primary", PRIMARY_SIP, 26000, False),
                        os.path.join(work, "primary.log"))
        procs.append(primary)
        spare = start(args.bin, config(work, "spare", SPARE_SIP, 27000, True),
                      os.path.join(work, "spare.log"))
        procs.append(spare)
        ok = wait_ready(os.path.join(work, "primary.log"), primary) and \
            wait_ready(os.path.join(work, "spare.log"), spare)
        check(ok, "primary and passive spare started")
        if not ok:
            return 1
        rate = min(args.calls, 10)
        sipp = subprocess.run(
            ["sipp", "127.0.0.1:%d" % PRIMARY_SIP, "-sf", UAC, "-m", str(args.calls), "-l",
             str(args.calls), "-r", str(rate), "-d", "8000", "-i", "127.0.0.1", "-p",
             str(SIPP_SIP), "-mp", str(SIPP_MEDIA), "-nostdin", "-timeout", "120",
             "-timeout_error", "-trace_err", "-error_file", os.path.join(work, "sipp_err.log")],
            cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180)
        check(sipp.returncode == 0, "sipp ran %d calls (rc %d)" % (args.calls, sipp.returncode))
        deadline = time.time() + 30
        while time.time() < deadline:
            if len(manifests(os.path.join(work, "spare"))) >= args.calls and \
                    len(manifests(os.path.join(work, "primary"))) >= args.calls:
                break
            time.sleep(0.5)
        prim = manifests(os.path.join(work, "primary"))
        spar = manifests(os.path.join(work, "spare"))
        check(len(prim) == args.calls, "primary recorded %d of %d calls" % (len(prim), args.calls))
        bad = []
        worst_ms = raw_worst = lag_worst = 0
        for cid, (pm,) in sorted((k, v) for k, v in prim.items() if len(v) == 1):
            sm = spar.get(cid, [])
            if len(sm) != 1:
                bad.append("%s: %d spare recordings" % (cid, len(sm)))
                continue
            sm = sm[0]
            cap = sm.get("capture", {})
            if cap.get("mode") != "passive" or cap.get("primary_node_id") != "primary":
                bad.append("%s: capture %s" % (cid, cap))
            if (sm["state"], sm["end_reason"]) != (pm["state"], pm["end_reason"]):
                bad.append("%s: %s/%s vs primary %s/%s" % (cid, sm["state"], sm["end_reason"],
                                                          pm["state"], pm["end_reason"]))
            raw = abs(sm["audio"]["duration_ms"] - pm["audio"]["duration_ms"])
            raw_worst = max(raw_worst, raw)
            pp = {s["id"]: (s["packets"], s.get("channel")) for s in pm["streams"]}
            sp = {s["id"]: (s["packets"], s.get("channel")) for s in sm["streams"]}
            d, lag_start, lag_end, edge = wire_difference(pm, sm)
            lag_worst = max(lag_worst, abs(lag_start), abs(lag_end))
            worst_ms = max(worst_ms, d)
            if d > 20:
                bad.append("%s: %d ms vs primary %d ms (primary's lag: %d ms at the answer, %d "
                           "ms at the BYE)" % (cid, sm["audio"]["duration_ms"],
                                               pm["audio"]["duration_ms"], lag_start, lag_end))
            if pp != sp and not edge:
                bad.append("%s: streams %s vs primary %s" % (cid, sp, pp))
        for b in bad[:10]:
            print("       - " + b)
        check(not bad and len(spar) == len(prim),
              "spare recorded the same %d calls: packets and channels per stream equal (but what "
              "a lagging primary took in after the BYE), duration within %d ms on the wire "
              "(limit 20; %d ms as recorded, the primary's processing lag up to %d ms)" % (
                  len(spar), worst_ms, raw_worst, lag_worst))
        if args.bib_calls:
            bib_many(args, work, check)
        if os.path.isdir(SAMPLES):
            bib(args, work, check)
        else:
            print("SKIPPED the BiB call: no samples at %s" % SAMPLES)
        burst(args, work, check, procs)
        return 1 if failed else 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
        print("%d passed, %d failed" % (passed, failed))
        if failed or args.keep:
            print("work dir kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
