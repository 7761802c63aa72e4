#!/usr/bin/env python3
"""The recording path while replication runs (issue 15, acceptance: "Media I/O CPU per packet and
drops with replication running vs paused, alternated in one run"), on two real `callvault serve`
nodes a and b on loopback as a cluster (mutual TLS, `transfers_per_peer` = --parallel).

Node a records: --calls SIPREC calls (2 streams each) are opened with the Python SRC
(tests/rtp/siprec_src.py) and kept open; bench/rtp_load sends 50 pps × 172 bytes to every stream
for --seconds per phase. Phases alternate, --rounds times, in one run:
  paused:      a's window to b is closed (schedule 12 h ahead, SIGHUP), nothing replicating;
  replicating: just before the phase, --backlog recordings of --mb MB (random bytes, manifests
               cloned from a real call's) are made in a's recordings directory, queued with
               `callvault cluster backfill b -c <a's config>`, and the window is opened
               (schedule "continuous", SIGHUP); the phase starts once bytes flow. Checked at its
               end: replication ran throughout (b had not received the whole backlog yet, or
               a's peer.b queue still held entries — counted as files: the running server's
               callvault_outbox_backlog does not count the entries the backfill CLI put).
After a replicating phase the rest of the backlog drains (not measured), then the round's
recordings are deleted on both nodes (bounded disk use).

Per phase: CPU of a's media I/O threads (cv-media-io-*: utime+stime from /proc/<pid>/task) ÷ the
packets a counted (callvault_media_rtp_packets_total) = µs/packet; drops = packets sent by
rtp_load − packets counted, plus callvault_media_socket_drops_total; a's whole-process CPU per
packet; b's and the box's CPU; the replication bytes moved (a's
callvault_replication_sent_bytes_total, b's ..._received_bytes_total).

The backlog's audio files are hard links to one random file per round (outside the recordings
directory): the same bytes for every call, distinct call ids and manifests, so making a backlog
of GBs costs no disk writes on a. a's sender reads them from the page cache, as it would a call
that just ended; b writes (and fsyncs) every copy.

Usage: replication_media_bench.py --build build/release [--calls 200] [--seconds 10]
       [--rounds 3] [--backlog 280] [--mb 16] [--parallel 2] [--keep]
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "rtp"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "catalog"))
import siprec_src as S  # noqa: E402
import system_test as CT  # noqa: E402  (tests/catalog: free_tcp_port, http_port)
import replication_bench as RB  # noqa: E402  (make_certs, node_config, set_schedule…)
import relocation_media_bench as RM  # noqa: E402  (thread_cpu_us, proc_cpu_us, box_busy)

def metrics(port):
    """{name{labels}: value} of a node's /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return S.parse_metrics(r.read().decode(errors="replace"))


total = S.metric_total  # sum of a metric over its labels


def queued_entries(data_dir, queue):
    """Entries in an outbox queue on disk (the truth, whatever the backlog gauge says)."""
    d = os.path.join(data_dir, "outbox", queue)
    n = 0
    if not os.path.isdir(d):
        return 0
    for b in os.listdir(d):
        p = os.path.join(d, b)
        if b != "rejected" and os.path.isdir(p):
            n += sum(1 for x in os.listdir(p) if x.endswith(".json"))
    return n


def node_config(work, n, peer, ports, parallel, rtp_ports):
    """replication_bench.node_config with room for the load's RTP ports and calls that stay
    open between phases (a long RTP timeout)."""
    return RB.node_config(work, n, peer, ports, parallel, rtp_ports=rtp_ports, rtp_timeout_s=600)


def make_backlog(rec_dir, pool_dir, template, count, mb, tag):
    """`count` recordings of `mb` MB in <rec_dir>/bench/<tag>: the audio of each a hard link to
    one random file in pool_dir (same bytes, one SHA-256), the manifest cloned from `template`
    with its own call id (UUIDv7)."""
    size = mb * 1_000_000
    src = os.path.join(pool_dir, f"{tag}.bin")
    h = hashlib.sha256()
    with open(src, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(left, 1 << 20))
            h.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    sha = h.hexdigest()
    day = f"bench/{tag}"
    os.makedirs(os.path.join(rec_dir, day), exist_ok=True)
    for i in range(count):
        cid = str(uuid.UUID(int=(int(time.time() * 1000) << 80) | (0x7 << 76) | (2 << 62) |
                            int.from_bytes(os.urandom(8), "big") >> 2))
        rel = f"{day}/{i:05d}_{cid[:8]}.wav"
        os.link(src, os.path.join(rec_dir, rel))
        m = json.loads(json.dumps(template))
        m["call_id"] = cid
        m["sip_call_id"] = f"bench-{cid}"
        m["audio"].update({"file": rel, "bytes": size, "sha256": sha})
        with open(os.path.join(rec_dir, rel + ".json"), "w") as f:
            json.dump(m, f)
    os.remove(src)  # the links keep the bytes
    subprocess.run(["sync"], check=True)


def wait_for(fn, timeout, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if fn():
            return True
        time.sleep(step)
    return fn()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--backlog", type=int, default=280)
    ap.add_argument("--mb", type=int, default=16)
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    binary = os.path.abspath(os.path.join(a.build, "src", "app", "callvault"))
    rtp_load = os.path.abspath(os.path.join(a.build, "bench", "rtp_load"))
    work = tempfile.mkdtemp(prefix="cv-repl-media-")
    os.makedirs(f"{work}/pki")
    os.makedirs(f"{work}/pool")
    RB.make_certs(f"{work}/pki")
    ports = {"a": CT.free_tcp_port(), "b": CT.free_tcp_port()}
    nodes = {}
    failed = True
    try:
        for n, peer in (("a", "b"), ("b", "a")):
            os.makedirs(f"{work}/{n}", exist_ok=True)
            nodes[n] = S.Server(binary, f"{work}/{n}",
                                node_config(work, n, peer, ports, a.parallel,
                                            4 * a.calls + 40 if n == "a" else 40), n)
            if not nodes[n].start():
                print(nodes[n].read_log()[-3000:])
                sys.exit(1)
        http = {n: CT.http_port(s) for n, s in nodes.items()}
        A, B = nodes["a"], nodes["b"]
        rec_a, rec_b = f"{work}/a/recordings", f"{work}/b/recordings"
        uac = S.Uac(A.sip_port)
        # A real call on a gives the manifest template (and shows the cluster works: b gets it).
        lo, _ = S.free_port_range(4 * a.calls + 8)
        d = uac.new_dialog("template@127.0.0.1")
        uac.invite([(d, [{"port": lo, "pt": 8, "codec": "PCMA", "label": "1"},
                         {"port": lo + 2, "pt": 8, "codec": "PCMA", "label": "2"}])])
        uac.bye([d])
        assert wait_for(lambda: S.manifests(rec_a), 20), "no template manifest"
        tpl_path, template = S.manifests(rec_a)[0]
        assert wait_for(lambda: total(metrics(http["b"]),
                                      "callvault_replication_received_calls_total") >= 1, 30), \
            "b did not receive the template call"
        # The template call leaves a's recordings directory (b has it): every backfill would
        # queue it again, and its outbox bucket (the UUIDv7's time) soon lies behind the
        # sender's cursor, where a running server does not see entries another process put
        # (reported with issue 15); the backlog's fresh call ids are never behind it.
        for p in (tpl_path, os.path.join(rec_a, template["audio"]["file"])):
            os.remove(p)
        dlgs = []
        for i in range(a.calls):
            dd = uac.new_dialog(f"load-{i}@127.0.0.1")
            dlgs.append((dd, [{"port": lo + 4 + 4 * i, "pt": 8, "codec": "PCMA", "label": "1"},
                              {"port": lo + 6 + 4 * i, "pt": 8, "codec": "PCMA", "label": "2"}]))
        for k in range(0, len(dlgs), 50):
            uac.invite(dlgs[k:k + 50])
        rtp_ports = []
        for dd, _ in dlgs:
            if dd.answer:
                rtp_ports += [p for p, _ in S.parse_answer_ports(dd.answer)[1][:2]]
        assert len(rtp_ports) == 2 * a.calls, f"only {len(rtp_ports)} streams answered"
        ports_file = os.path.join(work, "ports.txt")
        with open(ports_file, "w") as f:
            f.write("\n".join(map(str, rtp_ports)) + "\n")
        pid_a, pid_b = A.proc.pid, B.proc.pid
        print(f"== replication_media_bench {time.strftime('%FT%TZ', time.gmtime())} on "
              f"{os.cpu_count()} cores; {len(rtp_ports)} streams × 50 pps on a; phases of "
              f"{a.seconds:.0f} s; backlog {a.backlog} × {a.mb} MB per replicating phase, "
              f"transfers_per_peer {a.parallel}; load avg "
              f"{open('/proc/loadavg').read().split()[:3]}", flush=True)
        results = {"paused": [], "replicating": []}
        checks = []
        for r in range(a.rounds):
            for phase in ("paused", "replicating"):
                tag = f"r{r + 1}"
                ma = metrics(http["a"])
                mb0 = metrics(http["b"])
                recv_calls0 = total(mb0, "callvault_replication_received_calls_total")
                prep = 0.0
                if phase == "paused":
                    RB.set_schedule(A, RB.closed_window())
                    assert wait_for(lambda: metrics(http["a"]).get(
                        'callvault_replication_window_open{peer="b"}') == 0, 10), "window not closed"
                else:
                    t_prep = time.time()
                    make_backlog(rec_a, f"{work}/pool", template, a.backlog, a.mb, tag)
                    out = subprocess.run([binary, "cluster", "backfill", "b", "-c", A.config],
                                         check=True, capture_output=True, text=True).stdout.strip()
                    prep = time.time() - t_prep
                    sent0 = total(ma, "callvault_replication_sent_bytes_total")
                    RB.set_schedule(A, "continuous")
                    assert wait_for(lambda: total(metrics(http["a"]),
                                                  "callvault_replication_sent_bytes_total") > sent0,
                                    15, 0.05), "replication did not start"
                m0a, m0b = metrics(http["a"]), metrics(http["b"])
                io0, a0, b0, box0 = (RM.thread_cpu_us(pid_a, "cv-media-io"), RM.proc_cpu_us(pid_a),
                                     RM.proc_cpu_us(pid_b), RM.box_busy())
                t0 = time.time()
                run = subprocess.run([rtp_load, "--ports-file", ports_file, "--streams",
                                      str(len(rtp_ports)), "--pps", "50", "--seconds",
                                      str(a.seconds)], capture_output=True, text=True)
                time.sleep(1.0)  # the last packets reach the counters
                m1a, m1b = metrics(http["a"]), metrics(http["b"])
                io1, a1, b1, box1 = (RM.thread_cpu_us(pid_a, "cv-media-io"), RM.proc_cpu_us(pid_a),
                                     RM.proc_cpu_us(pid_b), RM.box_busy())
                wall = time.time() - t0
                queued_end = queued_entries(f"{work}/a", "peer.b")
                d = lambda ms1, ms0, name: total(ms1, name) - total(ms0, name)  # noqa: E731
                sent = int(re.search(r"sent=(\d+)", run.stdout).group(1))
                got = d(m1a, m0a, "callvault_media_rtp_packets_total")
                sock_drops = d(m1a, m0a, "callvault_media_socket_drops_total")
                res = {
                    "us_per_packet": (io1 - io0) / max(got, 1),
                    "server_us_per_packet": (a1 - a0) / max(got, 1),
                    "a_cores": (a1 - a0) / 1e6 / wall, "b_cores": (b1 - b0) / 1e6 / wall,
                    "box_busy": (box1[0] - box0[0]) / max(1, box1[1] - box0[1]),
                    "sent": sent, "counted": got, "lost": sent - got, "socket_drops": sock_drops,
                    "drops": (sent - got) + sock_drops,
                    "sent_mb": d(m1a, m0a, "callvault_replication_sent_bytes_total") / 1e6,
                    "recv_mb": d(m1b, m0b, "callvault_replication_received_bytes_total") / 1e6,
                    "calls_recv": total(m1b, "callvault_replication_received_calls_total") - recv_calls0,
                    "queued_end": queued_end,
                    "backlog_gauge": m1a.get('callvault_outbox_backlog{queue="peer.b"}'),
                    "late_p99": re.search(r"late_p99_us<=(\d+)", run.stdout).group(1),
                }
                results[phase].append(res)
                extra = ""
                if phase == "replicating":
                    ran = res["calls_recv"] < a.backlog or queued_end > 0
                    checks.append(ran)
                    extra = (f" [b received {res['calls_recv']:.0f}/{a.backlog} calls since the "
                             f"backfill, {queued_end} still queued on a (backlog gauge "
                             f"{res['backlog_gauge']:.0f}): replication ran throughout: "
                             f"{'yes' if ran else 'NO'}; prep {prep:.1f} s, backfill: {out}]")
                else:
                    checks.append(res["sent_mb"] == 0)
                    extra = (f" [nothing replicated: {'yes' if res['sent_mb'] == 0 else 'NO'}]")
                print(f"round {r + 1} {phase:11s} media-io {res['us_per_packet']:.2f} µs/packet, "
                      f"callvault a {res['server_us_per_packet']:.2f} µs/packet; sent={sent} "
                      f"counted={got:.0f} drops={res['drops']:.0f} (lost {sent - got:.0f} + "
                      f"socket {sock_drops:.0f}); replication {res['sent_mb']:.0f} MB sent by a, "
                      f"{res['recv_mb']:.0f} MB received by b ({res['sent_mb'] / wall:.0f} MB/s); "
                      f"cores: a {res['a_cores']:.2f}, b {res['b_cores']:.2f}, box "
                      f"{100 * res['box_busy']:.0f} % busy; gen_late_p99_us<={res['late_p99']}"
                      + extra, flush=True)
                if phase == "replicating":
                    # The rest drains (not measured), then the round's recordings go on both nodes.
                    t_drain = time.time()
                    if not wait_for(lambda: queued_entries(f"{work}/a", "peer.b") == 0, 180, 0.2):
                        left = sorted(os.listdir(f"{work}/a/outbox/peer.b"))
                        print(f"the backlog did not drain in 180 s: "
                              f"{queued_entries(f'{work}/a', 'peer.b')} entries left in {left}",
                              flush=True)
                        sys.exit(1)
                    RB.set_schedule(A, RB.closed_window())
                    shutil.rmtree(f"{rec_a}/bench/{tag}", ignore_errors=True)
                    shutil.rmtree(f"{rec_b}/bench/{tag}", ignore_errors=True)
                    print(f"  (rest drained in {time.time() - t_drain:.1f} s; round's recordings "
                          f"deleted on a and b)", flush=True)
        print("summary (median over rounds):")
        for phase, v in results.items():
            print(f"  {phase:11s} media-io {statistics.median(x['us_per_packet'] for x in v):.2f} "
                  f"µs/packet, callvault a {statistics.median(x['server_us_per_packet'] for x in v):.2f} "
                  f"µs/packet; drops {sum(x['drops'] for x in v):.0f} of "
                  f"{sum(x['sent'] for x in v)} packets; replication "
                  f"{statistics.median(x['sent_mb'] for x in v):.0f} MB per phase; cores a "
                  f"{statistics.median(x['a_cores'] for x in v):.2f}, b "
                  f"{statistics.median(x['b_cores'] for x in v):.2f}", flush=True)
        mp = statistics.median(x["us_per_packet"] for x in results["paused"])
        mr = statistics.median(x["us_per_packet"] for x in results["replicating"])
        sp = statistics.median(x["server_us_per_packet"] for x in results["paused"])
        sr = statistics.median(x["server_us_per_packet"] for x in results["replicating"])
        print(f"ratio replicating/paused: media-io {mr / mp:.2f}, callvault a {sr / sp:.2f}")
        zero = all(x["drops"] == 0 for v in results.values() for x in v)
        print(f"check zero drops in both: {'PASS' if zero else 'FAIL'}; phases as intended "
              f"(paused: nothing sent, replicating: ran throughout): "
              f"{'PASS' if all(checks) else 'FAIL'}", flush=True)
        failed = not (zero and all(checks))
    finally:
        for s in nodes.values():
            s.stop()
        if failed:  # keep the logs and data dirs, not the GBs of the backlog
            for n in nodes:
                shutil.rmtree(f"{work}/{n}/recordings/bench", ignore_errors=True)
        S.cleanup_workdir(work, a.keep or failed)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
