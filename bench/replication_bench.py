#!/usr/bin/env python3
"""Replication throughput and lag (issue 15), on two real `callvault serve` nodes on loopback.

Throughput: --big recordings of 10 MB and --small recordings of 1 MB (random bytes, each with a
manifest cloned from a real sipp call's, as the finalizer writes them) are made in node A's
recordings directory and sent to node B with `callvault cluster backfill b` (the sender: mutual
TLS, `transfers_per_peer` = --parallel). Elapsed = from the backfill to B's
callvault_replication_received_calls_total counting them all (durable on B: audio fsync'd,
SHA-256 checked, manifest written, catalog queued). Baseline: `curl -Z --parallel-max
--parallel` uploading the same files over the same mutual TLS (same certificates, same
loopback) to a sink that writes and fsyncs each file. Alternated --rounds times in one run;
prints MB/s of both and the ratio (goal ≥ 0.8).

Lag: --lag-seconds of steady sipp load on A (--cps calls/s of --call-s seconds); for every call
B received: its `received` time on B (the received index) − the manifest's `times.finalized`;
prints p50/p99 (goal p99 ≤ 2 s).

Usage: replication_bench.py --build build/release [--big 200] [--small 2000] [--rounds 3]
       [--parallel 2] [--lag-seconds 60] [--cps 5] [--keep]
"""
import argparse
import hashlib
import http.server
import json
import os
import re
import shutil
import signal
import socketserver
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "rtp"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "catalog"))
import siprec_src as S  # noqa: E402
import system_test as CT  # noqa: E402  (tests/catalog: start_sipp, free_tcp_port)


def sh(*cmd, **kw):
    return subprocess.run(list(cmd), check=True, capture_output=True, text=True, **kw)


def make_certs(d):
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.crt", "-days", "2", "-subj", "/CN=bench-ca")
    for n in ("a", "b"):
        sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", f"{d}/{n}.key", "-out", f"{d}/{n}.csr", "-subj", f"/CN={n}")
        with open(f"{d}/{n}.ext", "w") as f:
            f.write(f"subjectAltName=DNS:{n},IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n")
        sh("openssl", "x509", "-req", "-in", f"{d}/{n}.csr", "-CA", f"{d}/ca.crt", "-CAkey",
           f"{d}/ca.key", "-CAcreateserial", "-days", "2", "-out", f"{d}/{n}.crt", "-extfile",
           f"{d}/{n}.ext")


def node_config(work, n, peer, ports, parallel, rtp_ports=200, rtp_timeout_s=10):
    lo, hi = S.free_port_range(rtp_ports)
    return S.base_config(f"{work}/{n}", lo, hi, rtp_timeout_s=rtp_timeout_s, extra=f"""
[http]
port = 0
public_metrics = true
[cluster]
listen = "127.0.0.1:{ports[n]}"
cert_file = "{work}/pki/{n}.crt"
key_file = "{work}/pki/{n}.key"
ca_file = "{work}/pki/ca.crt"
min_free_disk_mb = 10
transfers_per_peer = {parallel}
[[cluster.peers]]
id = "{peer}"
url = "https://127.0.0.1:{ports[peer]}"
""").replace('id = "rtp-test"', f'id = "{n}"').replace("[http]\nport = 0\n\n", "", 1)


def metric(port, name):
    """Sum of metric `name` over its labels on the node serving /metrics at `port`."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return S.metric_total(S.parse_metrics(r.read().decode()), name)


class Sink(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def make_sink(pki, out_dir):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_PUT(self):
            n = int(self.headers["Content-Length"])
            path = os.path.join(out_dir, uuid.uuid4().hex)
            with open(path, "wb") as f:
                while n > 0:
                    chunk = self.rfile.read(min(n, 1 << 20))
                    if not chunk:
                        break
                    f.write(chunk)
                    n -= len(chunk)
                f.flush()
                os.fsync(f.fileno())
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = Sink(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(f"{pki}/b.crt", f"{pki}/b.key")
    ctx.load_verify_locations(f"{pki}/ca.crt")
    ctx.verify_mode = ssl.CERT_REQUIRED
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def make_recordings(rec_dir, template, count, size, tag):
    """`count` recordings of `size` random bytes, manifests cloned from `template`."""
    files = []
    day = f"bench/{tag}"
    os.makedirs(os.path.join(rec_dir, day), exist_ok=True)
    for i in range(count):
        cid = str(uuid.UUID(int=(int(time.time() * 1000) << 80) | (0x7 << 76) | (2 << 62) |
                            int.from_bytes(os.urandom(8), "big") >> 2))
        rel = f"{day}/{i:05d}_{cid[:8]}.wav"
        data = os.urandom(size)
        path = os.path.join(rec_dir, rel)
        with open(path, "wb") as f:
            f.write(data)
        m = json.loads(json.dumps(template))
        m["call_id"] = cid
        m["audio"]["file"] = rel
        m["audio"]["bytes"] = size
        m["audio"]["sha256"] = hashlib.sha256(data).hexdigest()
        with open(path + ".json", "w") as f:
            json.dump(m, f)
        files.append(path)
    subprocess.run(["sync"], check=True)
    return files


def closed_window():
    """A schedule window (local time) that is closed now: 12 hours ahead."""
    t = time.localtime(time.time() + 12 * 3600)
    start = t.tm_hour * 60 + t.tm_min
    end = (start + 60) % 1440
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def set_schedule(node, schedule):
    """Rewrites the peer's schedule in the node's config and reloads it (SIGHUP)."""
    with open(node.config) as f:
        text = f.read()
    text = re.sub(r'^schedule = ".*"\n', "", text, flags=re.M)
    text = text.replace('[[cluster.peers]]\n', f'[[cluster.peers]]\nschedule = "{schedule}"\n')
    with open(node.config, "w") as f:
        f.write(text)
    node.proc.send_signal(signal.SIGHUP)
    time.sleep(0.3 if schedule != "continuous" else 0)


def wait_count(port, name, target, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if metric(port, name) >= target:
            return True
        time.sleep(0.05)
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--big", type=int, default=200)
    ap.add_argument("--small", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--lag-seconds", type=int, default=60)
    ap.add_argument("--cps", type=float, default=5)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    binary = os.path.abspath(os.path.join(a.build, "src/app/callvault"))
    work = tempfile.mkdtemp(prefix="cv-repl-bench-")
    os.makedirs(f"{work}/pki")
    make_certs(f"{work}/pki")
    ports = {"a": CT.free_tcp_port(), "b": CT.free_tcp_port()}
    nodes = {}
    for n, peer in (("a", "b"), ("b", "a")):
        os.makedirs(f"{work}/{n}", exist_ok=True)
        nodes[n] = S.Server(binary, f"{work}/{n}", node_config(work, n, peer, ports, a.parallel), n)
        if not nodes[n].start():
            print(nodes[n].read_log()[-3000:])
            sys.exit(1)
    http = {n: CT.http_port(s) for n, s in nodes.items()}
    try:
        # One real call gives the manifest template.
        proc, d = CT.start_sipp(work, "tpl", nodes["a"].sip_port, 1, 1, 2000, 1, 47000)
        proc.wait(60)
        tpl_path = None
        for root, _, names in os.walk(f"{work}/a/recordings"):
            for nm in names:
                if nm.endswith(".json"):
                    tpl_path = os.path.join(root, nm)
        template = json.load(open(tpl_path))
        template["node_id"] = "a"
        wait_count(http["b"], "callvault_replication_received_calls_total", 1, 30)
        sink_dir = f"{work}/sink"
        os.makedirs(sink_dir)
        sink = make_sink(f"{work}/pki", sink_dir)
        sink_port = sink.server_address[1]
        results = {}
        for r in range(a.rounds):
            for label, count, size in (("200x10MB", a.big, 10_000_000), ("2000x1MB", a.small, 1_000_000)):
                if count == 0:
                    continue
                files = make_recordings(f"{work}/a/recordings", template, count, size, f"{label}-{r}")
                total = count * size
                # callvault: queued while A's window to B is closed, then opened (SIGHUP), so the
                # figure is the transfer alone (the finalizer queues calls as they end).
                set_schedule(nodes["a"], closed_window())
                sh(binary, "cluster", "backfill", "b", "-c", nodes["a"].config)
                before = metric(http["b"], "callvault_replication_received_calls_total")
                t0 = time.time()
                set_schedule(nodes["a"], "continuous")
                ok = wait_count(http["b"], "callvault_replication_received_calls_total",
                                before + count, 1800)
                t_cv = time.time() - t0
                if not ok:
                    print(f"{label}: replication did not finish", flush=True)
                    sys.exit(1)
                # curl baseline
                cfg = f"{work}/curl.cfg"
                with open(cfg, "w") as f:
                    for i, p in enumerate(files):
                        f.write(f'upload-file = "{p}"\nurl = "https://127.0.0.1:{sink_port}/{i}"\n')
                t0 = time.time()
                sh("curl", "-sS", "-Z", "--parallel-max", str(a.parallel), "--cert",
                   f"{work}/pki/a.crt", "--key", f"{work}/pki/a.key", "--cacert",
                   f"{work}/pki/ca.crt", "-o", "/dev/null", "-K", cfg)
                t_curl = time.time() - t0
                mb_cv, mb_curl = total / t_cv / 1e6, total / t_curl / 1e6
                results.setdefault(label, []).append(mb_cv / mb_curl)
                print(f"round {r + 1} {label}: callvault {mb_cv:.1f} MB/s ({t_cv:.1f} s), "
                      f"curl+fsync sink {mb_curl:.1f} MB/s ({t_curl:.1f} s), ratio {mb_cv / mb_curl:.2f}",
                      flush=True)
                # Free the disk for the next round (B's copies, the sink's, A's originals).
                shutil.rmtree(f"{work}/b/recordings/bench", ignore_errors=True)
                shutil.rmtree(f"{work}/a/recordings/bench", ignore_errors=True)
                for nm in os.listdir(sink_dir):
                    os.remove(os.path.join(sink_dir, nm))
        for label, ratios in results.items():
            print(f"{label}: ratio median {statistics.median(ratios):.2f} (rounds: "
                  f"{', '.join(f'{x:.2f}' for x in ratios)}); goal >= 0.8")
        # Lag under steady load.
        if a.lag_seconds > 0:
            calls = int(a.lag_seconds * a.cps)
            proc, d = CT.start_sipp(work, "lag", nodes["a"].sip_port, calls, a.cps, 3000,
                                    int(a.cps * 6) + 2, 48000)
            proc.wait(a.lag_seconds + 120)
            time.sleep(8)
            lags = []
            idx = f"{work}/b/cluster/received"
            for b in os.listdir(idx):
                for nm in os.listdir(os.path.join(idx, b)):
                    note = json.load(open(os.path.join(idx, b, nm)))
                    if note["manifest"].startswith("bench/"):
                        continue  # the throughput rounds' recordings (removed)
                    man = json.load(open(os.path.join(f"{work}/b/recordings", note["manifest"])))
                    lags.append((S.parse_rfc3339_ns(note["received"]) -
                                 S.parse_rfc3339_ns(man["times"]["finalized"])) / 1e9)
            lags.sort()
            if lags:
                p = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))]
                print(f"lag (durable on B − finalized on A) over {len(lags)} calls at {a.cps} "
                      f"calls/s: p50 {p(0.5):.3f} s, p99 {p(0.99):.3f} s, max {lags[-1]:.3f} s; "
                      f"goal p99 <= 2 s")
    finally:
        for s in nodes.values():
            s.stop()
        S.cleanup_workdir(work, a.keep)


if __name__ == "__main__":
    main()
