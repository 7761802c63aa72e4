#!/usr/bin/env python3
"""The recording path while relocation drains a backlog (issue 14), on a real `callvault serve`
with `storage.backend = "s3"` and the S3 test server (tests/s3/s3_server.mjs).

--calls SIPREC calls (2 streams each) are opened with the Python SRC (tests/rtp/siprec_src.py)
and kept open; bench/rtp_load sends 50 pps × 172 bytes to every stream for --seconds per phase.
Phases alternate, --rounds times, in one run:
  idle:       the relocation queue is empty (nothing to relocate);
  relocating: just before the phase, --backlog recordings of --mb MiB are put in the relocation
              (and catalog) queues the way the finalizer does (audio + manifest in the recordings
              directory, one outbox entry per queue: docs/formats/outbox.md), cloned from a real
              call's manifest; the relocator uploads them during the phase (checked: the backlog
              is still > 0 at the phase's end, so relocation ran throughout).
Per phase: CPU of the media I/O threads (cv-media-io-*: utime+stime from /proc/<pid>/task) ÷ the
packets the server counted (callvault_media_rtp_packets_total), i.e. µs/packet, and the loss
= packets sent by rtp_load − packets counted (plus callvault_media_socket_drops_total). Also
the whole server's CPU per packet and the box's load, so a limit can be named.

Usage: relocation_media_bench.py --build build/release [--calls 200] [--seconds 10]
       [--rounds 3] [--backlog 40] [--mb 16]
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "rtp"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "storage"))
import siprec_src as S  # noqa: E402
import system_test as ST  # noqa: E402  (tests/storage: S3, Node, storage_config)

HZ = os.sysconf("SC_CLK_TCK")


def thread_cpu_us(pid, prefix):
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/comm") as f:
                if not f.read().strip().startswith(prefix):
                    continue
            with open(f"/proc/{pid}/task/{t}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) * 1e6 / HZ
        except OSError:
            pass
    return total


def proc_cpu_us(pid):
    """utime+stime of the whole process (threads that ended included)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1e6 / HZ


def box_busy():
    """(busy, total) jiffies of all CPUs."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def uuid7():
    ms = time.time_ns() // 1_000_000
    r = uuid.uuid4().int
    v = (ms << 80) | (0x7 << 76) | ((r >> 64) & 0xFFF) << 64 | (0b10 << 62) | (r & ((1 << 62) - 1))
    return str(uuid.UUID(int=v))


def inject_backlog(node, template, n, mb):
    """n recordings of mb MiB queued for catalog ingest and relocation, as the finalizer does."""
    rec = os.path.join(node.data, "recordings")
    chunk = os.urandom(1 << 20)
    digest_parts = hashlib.sha256()
    for _ in range(mb):
        digest_parts.update(chunk)
    sha = digest_parts.hexdigest()
    for _ in range(n):
        cid = uuid7()
        m = json.loads(json.dumps(template))
        rel = f"bench/{cid}.wav"
        m["call_id"] = cid
        m["sip_call_id"] = f"bench-{cid}"
        m["audio"].update({"file": rel, "bytes": mb << 20, "sha256": sha})
        os.makedirs(os.path.join(rec, "bench"), exist_ok=True)
        with open(os.path.join(rec, rel), "wb") as f:
            for _ in range(mb):
                f.write(chunk)
        with open(os.path.join(rec, rel + ".json"), "w") as f:
            json.dump(m, f)
        entry = {"call_id": cid, "finalized": m["times"]["finalized"], "format": "callvault-outbox",
                 "manifest": rel + ".json", "state": m["state"], "version": 1}
        for q in ("catalog", "relocation"):
            d = os.path.join(node.data, "outbox", q, cid.replace("-", "")[:8])
            os.makedirs(d, exist_ok=True)
            tmp = os.path.join(d, cid + ".json.tmp")
            with open(tmp, "w") as f:
                f.write(json.dumps(entry) + "\n")
            os.rename(tmp, os.path.join(d, cid + ".json"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--backlog", type=int, default=40)
    ap.add_argument("--mb", type=int, default=16)
    args = ap.parse_args()
    binary = os.path.join(args.build, "src", "app", "callvault")
    rtp_load = os.path.join(args.build, "bench", "rtp_load")
    work = S.make_workdir("cv-reloc-media-")
    s3 = ST.S3(work)
    assert s3.start(), "S3 test server did not start (npm ci --prefix tests)"

    class A:
        bin = binary
    node = ST.Node(A, work, s3, ports=4 * args.calls + 40)
    # Calls stay open between phases: a long RTP timeout.
    text = S.base_config(node.data, node.lo, node.hi, rtp_timeout_s=600,
                         extra=ST.storage_config(work, s3))
    with open(node.srv.config, "w") as f:
        f.write(text)
    assert node.start(), "server did not start"
    uac = S.Uac(node.srv.sip_port)
    try:
        # A real call for the manifest template.
        d = uac.new_dialog("template@127.0.0.1")
        lo, _ = S.free_port_range(4 * args.calls + 8)
        uac.invite([(d, [{"port": lo, "pt": 8, "codec": "PCMA", "label": "1"},
                         {"port": lo + 2, "pt": 8, "codec": "PCMA", "label": "2"}])])
        uac.bye([d])
        template = None
        for _ in range(100):
            ms = list(node.manifests().values())
            if ms:
                template = ms[0]
                break
            time.sleep(0.1)
        assert template, "no template manifest"
        ST.wait_for(lambda: node.backlog() == 0, 30)
        dlgs = []
        for i in range(args.calls):
            dd = uac.new_dialog(f"load-{i}@127.0.0.1")
            dlgs.append((dd, [{"port": lo + 4 + 4 * i, "pt": 8, "codec": "PCMA", "label": "1"},
                              {"port": lo + 6 + 4 * i, "pt": 8, "codec": "PCMA", "label": "2"}]))
        finals = {}
        for k in range(0, len(dlgs), 50):
            finals.update(uac.invite(dlgs[k:k + 50]))
        ports = []
        for dd, _ in dlgs:
            if dd.answer:
                ports += [p for p, _ in S.parse_answer_ports(dd.answer)[1][:2]]
        ports_file = os.path.join(work, "ports.txt")
        with open(ports_file, "w") as f:
            f.write("\n".join(map(str, ports)) + "\n")
        pid = node.srv.proc.pid
        print(f"== relocation_media_bench {time.strftime('%FT%TZ', time.gmtime())} on {os.cpu_count()} cores; "
              f"{len(ports)} streams × 50 pps; phases of {args.seconds:.0f} s; backlog {args.backlog} × "
              f"{args.mb} MiB per relocating phase; load avg {open('/proc/loadavg').read().split()[:3]}",
              flush=True)
        results = {"idle": [], "relocating": []}
        for r in range(args.rounds):
            for phase in ("idle", "relocating"):
                ST.wait_for(lambda: node.backlog() == 0, 120, 0.5)
                if phase == "relocating":
                    inject_backlog(node, template, args.backlog, args.mb)
                    ST.wait_for(lambda: (node.metrics().get(
                        'callvault_storage_upload_bytes_total') or 0) > 0 or node.backlog(), 10, 0.1)
                m0 = node.metrics()
                io0, all0, s30, b0 = (thread_cpu_us(pid, "cv-media-io"), proc_cpu_us(pid),
                                      proc_cpu_us(s3.proc.pid), box_busy())
                t_start = time.time()
                up0 = m0.get("callvault_storage_upload_bytes_total", 0)
                out = subprocess.run([rtp_load, "--ports-file", ports_file, "--streams", str(len(ports)),
                                      "--pps", "50", "--seconds", str(args.seconds)],
                                     capture_output=True, text=True)
                time.sleep(1.0)
                m1 = node.metrics()
                io1, all1, s31, b1 = (thread_cpu_us(pid, "cv-media-io"), proc_cpu_us(pid),
                                      proc_cpu_us(s3.proc.pid), box_busy())
                wall = time.time() - t_start
                sent = int(re.search(r"sent=(\d+)", out.stdout).group(1))
                got = m1.get("callvault_media_rtp_packets_total", 0) - m0.get("callvault_media_rtp_packets_total", 0)
                drops = m1.get("callvault_media_socket_drops_total", 0) - m0.get("callvault_media_socket_drops_total", 0)
                up_mb = (m1.get("callvault_storage_upload_bytes_total", 0) - up0) / 1e6
                backlog_end = node.backlog()
                res = {"us_per_packet": (io1 - io0) / max(got, 1),
                       "server_cores": (all1 - all0) / 1e6 / wall, "s3_cores": (s31 - s30) / 1e6 / wall,
                       "box_busy": (b1[0] - b0[0]) / max(1, b1[1] - b0[1]),
                       "sent": sent, "received": got, "lost": sent - got, "socket_drops": drops,
                       "uploaded_mb": up_mb, "backlog_at_end": backlog_end,
                       "late_p99": re.search(r"late_p99_us<=(\d+)", out.stdout).group(1)}
                results[phase].append(res)
                print(f"round {r + 1} {phase:10s} media-io {res['us_per_packet']:.2f} µs/packet; "
                      f"cores used: callvault {res['server_cores']:.2f}, s3rver {res['s3_cores']:.2f}, "
                      f"box {100 * res['box_busy']:.0f} % busy; sent={sent} received={got:.0f} "
                      f"lost={sent - got:.0f} socket_drops={drops:.0f} uploaded={up_mb:.0f} MB "
                      f"backlog_at_end={backlog_end} gen_late_p99_us<={res['late_p99']}", flush=True)
        med = {k: sorted(x["us_per_packet"] for x in v)[len(v) // 2] for k, v in results.items()}
        lost = {k: sum(x["lost"] for x in v) for k, v in results.items()}
        print(f"median media-io µs/packet: idle {med['idle']:.2f}, relocating {med['relocating']:.2f} "
              f"(ratio {med['relocating'] / med['idle']:.2f}, goal ≤ 1.2); packets lost: idle {lost['idle']:.0f}, "
              f"relocating {lost['relocating']:.0f}", flush=True)
    finally:
        node.srv.stop()
        s3.stop()
        S.cleanup_workdir(work, False)


if __name__ == "__main__":
    main()
