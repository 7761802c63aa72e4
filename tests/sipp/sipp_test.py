#!/usr/bin/env python3
"""Runs one sipp scenario against a UAS built on callvault's SIP stack and checks the outcome.

Usage: sipp_test.py --uas PATH --transport u1|t1|tn --scenario builtin:uac|FILE.xml
                    [--calls N] [--rate R] [--limit L] [--uas-arg ARG ...] [--expect-ended N]
Starts the UAS on 127.0.0.1 port 0 (UDP+TCP), finds its ports from its output, runs sipp with
a bounded timeout, and prints sipp's counters and the UAS's. Exit 0 only when sipp reports every
call successful (exit code 0) and the UAS saw no malformed message.
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uas", required=True)
    ap.add_argument("--transport", default="u1")
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--calls", type=int, default=1)
    ap.add_argument("--rate", type=int, default=10)
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--uas-arg", action="append", default=[])
    ap.add_argument("--sipp-arg", action="append", default=[])
    ap.add_argument("--expect-ended", type=int, default=None,
                    help="number of dialogs the UAS must report as ended by itself")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="cv-sipp-")
    uas_out = open(os.path.join(work, "uas.out"), "w+")
    uas = subprocess.Popen(
        [args.uas, "--listen", "udp:127.0.0.1:0", "--listen", "tcp:127.0.0.1:0"] + args.uas_arg,
        stdout=uas_out, stderr=open(os.path.join(work, "uas.err"), "w"))
    ports = {}
    deadline = time.time() + 10
    while time.time() < deadline:
        uas_out.seek(0)
        text = uas_out.read()
        for m in re.finditer(r"LISTEN (\w+) 127\.0\.0\.1:(\d+)", text):
            ports[m.group(1)] = int(m.group(2))
        if "READY" in text:
            break
        if uas.poll() is not None:
            print("UAS exited early:", open(os.path.join(work, "uas.err")).read())
            return 1
        time.sleep(0.05)
    else:
        print("UAS did not become ready")
        uas.kill()
        return 1

    proto = "UDP" if args.transport.startswith("u") else "TCP"
    target = "127.0.0.1:%d" % ports[proto]
    local_port = free_port(socket.SOCK_DGRAM if proto == "UDP" else socket.SOCK_STREAM)
    cmd = ["sipp", target, "-t", args.transport, "-i", "127.0.0.1", "-p", str(local_port),
           "-m", str(args.calls), "-r", str(args.rate), "-l", str(args.limit),
           "-timeout", str(args.timeout), "-timeout_error", "-nostdin",
           "-trace_err", "-error_file", os.path.join(work, "sipp_errors.log"),
           "-trace_screen", "-screen_file", os.path.join(work, "sipp_screen.log")]
    if args.scenario.startswith("builtin:"):
        cmd += ["-sn", args.scenario.split(":", 1)[1], "-d", "100"]
    else:
        cmd += ["-sf", args.scenario]
    cmd += args.sipp_arg
    print("sipp command:", " ".join(cmd))
    start = time.time()
    try:
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              timeout=args.timeout + 30)
        rc = proc.returncode
        err = proc.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired:
        rc, err = -9, "sipp did not finish"
    elapsed = time.time() - start

    time.sleep(0.2)
    uas.send_signal(signal.SIGTERM)
    try:
        uas.wait(timeout=10)
    except subprocess.TimeoutExpired:
        uas.kill()
        print("UAS did not stop on SIGTERM")
        rc = rc or 1
    uas_out.seek(0)
    uas_text = uas_out.read()

    screen = ""
    if os.path.exists(os.path.join(work, "sipp_screen.log")):
        screen = open(os.path.join(work, "sipp_screen.log")).read()
    succ = re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", screen)
    fail = re.findall(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)", screen)
    print("sipp exit code: %d, successful calls: %s, failed calls: %s, %.1f s" %
          (rc, succ[-1] if succ else "?", fail[-1] if fail else "?", elapsed))
    stats = re.search(r"STATS .*", uas_text)
    print("UAS:", stats.group(0) if stats else "(no stats)")
    ok = rc == 0
    if stats and not re.search(r"malformed=0 ", stats.group(0)):
        print("FAIL: the UAS saw malformed messages")
        ok = False
    if args.expect_ended is not None:
        ended = len(re.findall(r"^ENDED ", uas_text, re.M))
        print("dialogs ended by the UAS: %d (expected %d)" % (ended, args.expect_ended))
        ok = ok and ended == args.expect_ended
    if not ok:
        print("sipp stderr:", err[-3000:])
        errs = os.path.join(work, "sipp_errors.log")
        if os.path.exists(errs):
            print("sipp errors:", open(errs).read()[-3000:])
        print("UAS stderr:", open(os.path.join(work, "uas.err")).read()[-3000:])
        print("work dir kept:", work)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
