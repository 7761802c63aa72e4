#!/usr/bin/env python3
"""Passive hot spare on loopback (issue 19): a primary `callvault serve` answers SIPREC calls
from sipp (RTP from sipp's rtp_stream); a spare `callvault serve` with [passive] captures `lo`
and records the same calls from what it sees. Checks:
  * every call the primary recorded, the spare recorded too: one manifest each, `capture.mode`
    passive with the primary's node id, state and end reason as the primary's, the same
    packets per stream, audio duration within 20 ms of the primary's;
  * a Cisco UCM BiB call (the samples' sipp master/slave pair, when ../shared/siprec-samples
    exists) is one two-channel recording on both nodes, durations within 20 ms;
  * without capture permission (uid 65534, no CAP_NET_RAW) `serve` does not start and says
    why.
Usage: passive_test.py --bin PATH/callvault [--calls N] [--keep]
Prints `N passed, N failed`. Needs root, sipp and sox (else SKIPPED, exit 77).
"""
import argparse
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


def config(work, name, sip_port, rtp_lo, passive):
    text = f"""[node]
id = "{name}"
data_dir = "{work}/{name}"
[sip]
listen = ["udp:127.0.0.1:{sip_port}"]
[http]
port = 0
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
buffer_mb = 256
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--calls", type=int, default=50)
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
        worst_ms = 0
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
            d = abs(sm["audio"]["duration_ms"] - pm["audio"]["duration_ms"])
            worst_ms = max(worst_ms, d)
            if d > 20:
                bad.append("%s: %d ms vs primary %d ms" % (cid, sm["audio"]["duration_ms"],
                                                          pm["audio"]["duration_ms"]))
            pp = {s["id"]: (s["packets"], s.get("channel")) for s in pm["streams"]}
            sp = {s["id"]: (s["packets"], s.get("channel")) for s in sm["streams"]}
            if pp != sp:
                bad.append("%s: streams %s vs primary %s" % (cid, sp, pp))
        for b in bad[:10]:
            print("       - " + b)
        check(not bad and len(spar) == len(prim),
              "spare recorded the same %d calls: packets and channels per stream equal, "
              "duration within %d ms (limit 20)" % (len(spar), worst_ms))
        if os.path.isdir(SAMPLES):
            bib(args, work, check)
        else:
            print("SKIPPED the BiB call: no samples at %s" % SAMPLES)
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
