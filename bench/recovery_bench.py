#!/usr/bin/env python3
"""Recovery time after kill -9 with N calls in flight (goal for 1,000: <= 5 s).

Usage: bench/recovery_bench.py --bin build/release/src/app/callvault [--calls 1000]
                               [--talk-s 3] [--keep]

1. `callvault serve` (SQLite catalog, loopback) gets N SIPREC calls from sipp
   (tests/catalog/siprec_uac.xml, 100 calls/s, long calls) with RTP on one m-line each.
2. Once all N are answered and have talked for --talk-s seconds: kill -9 (sipp too).
3. Restart on the same data dir and time, from the restart:
     ready      `server.ready` logged (SIP listening: new calls are taken from here on);
     finalized  every crashed call finalized into a `partial` recording (`server.recovery_done`);
     catalogued every one of them in the catalog (outbox empty, N calls via the REST API).
   Baseline in the same run: the same restart with an empty spool (ready time).
Prints the figures; asserts nothing.
"""
import argparse
import os
import re
import resource
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "catalog"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "rtp"))
import siprec_src as S  # noqa: E402
import system_test as T  # noqa: E402


def restart_timed(srv, data, n):
    t0 = time.time()
    if not srv.start(timeout=120):
        raise RuntimeError("server did not start: " + srv.log_path)
    ready = time.time() - t0
    finalized = None
    if n:
        if not srv.wait_log(r"event=server\.recovery_done", timeout=300):
            raise RuntimeError("no recovery_done in " + srv.log_path)
        finalized = time.time() - t0
    outbox = os.path.join(data, "outbox", "catalog")
    deadline = time.time() + 300
    while time.time() < deadline:
        waiting = T.outbox_entries(outbox)
        if not waiting:
            break
        time.sleep(0.02)
    catalogued = time.time() - t0
    return ready, finalized, catalogued, T.http_port(srv)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--talk-s", type=float, default=3.0)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # sipp: one RTP socket per call
    n = args.calls
    work = S.make_workdir("cv-recovery-bench-")
    data = os.path.join(work, "data")
    lo, hi = S.free_port_range(4 * n + 40)
    srv = S.Server(args.bin, work, T.config_text(data, lo, hi))
    token = T.make_token(args.bin, srv.config)
    try:
        base_ready, _, _, _ = restart_timed(srv, data, 0)  # baseline: nothing to recover
        sipp, d = T.start_sipp(work, "load", srv.sip_port, n, 100, 600000, n + 10, S.free_port_range(8)[0])
        deadline = time.time() + 120
        while len(T.sipp_calls(d, "answered")) < n and time.time() < deadline:
            time.sleep(0.2)
        answered = len(T.sipp_calls(d, "answered"))
        time.sleep(args.talk_s)
        srv.kill9()
        sipp.send_signal(signal.SIGKILL)
        sipp.wait()
        spooled = len(os.listdir(os.path.join(data, "spool")))
        ready, finalized, catalogued, port = restart_timed(srv, data, spooled)
        api = T.Api(port, token)
        calls = api.all_calls("state=partial") or []
        log = srv.read_log()
        m = re.search(r"event=server\.recovery_done calls=(\d+) took_ms=(\d+)", log)
        print(f"recovery after kill -9: calls_answered={answered} spool_dirs={spooled} "
              f"partial_in_catalog={len(calls)}")
        print(f"  baseline start (empty spool): ready {base_ready:.2f} s")
        print(f"  with {spooled} calls to recover: ready {ready:.2f} s ({ready / base_ready:.2f}x baseline), "
              f"all finalized {finalized:.2f} s (server says {m.group(2) if m else '?'} ms), "
              f"all catalogued {catalogued:.2f} s")
        return 0
    finally:
        srv.stop()
        S.cleanup_workdir(work, args.keep)


if __name__ == "__main__":
    sys.exit(main())
