#!/usr/bin/env python3
"""Mass hang-up: N SIPREC calls end within one second; how long until every one is finalized
and catalogued? Once with one finalizer worker (the baseline), once with the default pool, in
one run (goal for 2,000 calls on the 2-core box: <= 3 s with the default).

Usage: bench/hangup_bench.py --bin build/release/src/app/callvault
                             [--rtp-load build/release/bench/rtp_load] [--calls 2000]
                             [--talk-s 5] [--keep]

Per mode, on a fresh data directory:
1. `callvault serve` (SQLite catalog, loopback) takes N SIPREC calls (two PCMU m-lines each,
   offered in batches of 200 from one UDP socket);
2. rtp_load sends 50 packets/s on every answered port (2N streams; 200 k packets/s at 2,000
   calls) for --talk-s seconds;
3. right after, one BYE per call, all sent at once (they end within about a second);
4. timed from the first BYE: `finalized` = N `finalize.done` lines in the log; `catalogued` =
   the catalog queue empty (callvault_outbox_backlog{queue="catalog"} 0) and N completed calls
   via the REST API.
Packets: the sum of the manifests' `packets` against rtp_load's `sent` (0 lost expected).
Prints the figures; asserts nothing.
"""
import argparse
import glob
import json
import os
import re
import resource
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "catalog"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "rtp"))
import siprec_src as S  # noqa: E402
import system_test as T  # noqa: E402


def metric(port, name):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    m = re.search(r"^" + re.escape(name) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def run(args, mode, workers_line):
    n = args.calls
    work = S.make_workdir("cv-hangup-bench-")
    data = os.path.join(work, "data")
    lo, hi = S.free_port_range(4 * n + 40)
    cfg = S.base_config(data, lo, hi, rtp_timeout_s=60, extra=workers_line)
    cfg = cfg.replace("[http]\nport = 0\n", "[http]\nport = 0\npublic_metrics = true\n")
    srv = S.Server(args.bin, work, cfg)
    token = T.make_token(args.bin, srv.config)
    ok = False
    try:
        if not srv.start(timeout=60):
            raise RuntimeError("server did not start: " + srv.log_path)
        port = T.http_port(srv)
        uac = S.Uac(srv.sip_port)
        dlgs = []
        for b in range(0, n, 200):
            batch = []
            for i in range(b, min(n, b + 200)):
                d = uac.new_dialog(f"hangup-{i}@bench")
                media = [{"port": 30000 + (2 * i) % 20000, "pt": 0, "codec": "PCMU", "label": "1"},
                         {"port": 30001 + (2 * i) % 20000, "pt": 0, "codec": "PCMU", "label": "2"}]
                batch.append((d, media))
            finals = uac.invite(batch, timeout=60)
            for d, _ in batch:
                r = finals.get(d.call_id)
                if r is not None and r.code == 200:
                    dlgs.append(d)
        ports = []
        for d in dlgs:
            _, ms = S.parse_answer_ports(d.answer)
            ports += [p for p, _ in ms]
        ports_file = os.path.join(work, "ports.txt")
        with open(ports_file, "w") as f:
            f.write("\n".join(map(str, ports)) + "\n")
        load = subprocess.run([args.rtp_load, "--ports-file", ports_file, "--streams", str(len(ports)),
                               "--pps", "50", "--seconds", str(args.talk_s)],
                              capture_output=True, text=True, check=True).stdout
        sent = int(re.search(r"sent=(\d+)", load).group(1))
        time.sleep(0.3)  # the last packets reach the spool
        t0 = time.time()
        byes = uac.bye(dlgs, timeout=60)
        bye_s = time.time() - t0
        ended = sum(1 for r in byes.values() if r.code == 200)
        finalized = catalogued = None
        api = T.Api(port, token)
        deadline = time.time() + 600
        while time.time() < deadline:
            if finalized is None and srv.read_log().count("event=finalize.done") >= ended:
                finalized = time.time() - t0
            if finalized is not None:
                backlog = metric(port, 'callvault_outbox_backlog{queue="catalog"}')
                if backlog == 0:
                    calls = api.all_calls("state=completed") or []
                    if len(calls) >= ended:
                        catalogued = time.time() - t0
                        break
            time.sleep(0.02)
        packets = 0
        for m in glob.glob(os.path.join(data, "recordings", "**", "*.json"), recursive=True):
            with open(m) as f:
                packets += sum(s.get("packets", 0) for s in json.load(f).get("streams", []))
        print(f"  {mode:<22} calls={ended} byes_sent_in={bye_s:.2f}s finalized={finalized:.2f}s "
              f"catalogued={catalogued:.2f}s rtp_sent={sent} recorded={packets} "
              f"lost={sent - packets}", flush=True)
        ok = True
        return finalized, catalogued
    finally:
        srv.stop()
        S.cleanup_workdir(work, args.keep or not ok)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--rtp-load", default=None)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--talk-s", type=float, default=5.0)
    ap.add_argument("--also-workers", type=int, nargs="*", default=[],
                    help="further runs with these finalize_workers values")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if args.rtp_load is None:
        args.rtp_load = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(args.bin)))), "bench", "rtp_load")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(f"mass hang-up: {args.calls} calls, RTP 50 pps per stream for {args.talk_s:g} s, "
          f"then all BYEs at once (times from the first BYE)", flush=True)
    base_f, base_c = run(args, "1 finalizer worker", "[recording]\nfinalize_workers = 1\n")
    f, c = run(args, "default pool", "")
    print(f"  default / 1 worker: finalized x{f / base_f:.2f}, catalogued x{c / base_c:.2f}")
    for w in args.also_workers:
        run(args, f"{w} finalizer workers", f"[recording]\nfinalize_workers = {w}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
