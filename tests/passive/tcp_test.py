#!/usr/bin/env python3
"""Issue 19: a passive spare follows SIP over TCP whose segments are split and reordered.

Three network namespaces the test creates: `src` (sipp, the SRC), `fwd` (reorder_fwd.py, an L2
forwarder that makes each second TCP data segment towards the primary's SIP port overtake the
one before it and sends every fifth twice) and `rec` (the primary `callvault serve`, SIP over TCP
on 10.89.0.2:5060, and a spare `callvault serve` with [passive] capturing rec's eth0, the link
the forwarder writes to). Every link has MTU 576 (so sipp's ~1.4 kB INVITEs travel as three
segments) and no offloads (so frames are what is on the wire). sipp sends CALLS SIPREC calls
over one TCP connection with RTP. Checks: the forwarder really reordered and repeated segments;
the primary recorded every call; the spare recorded the same calls from its capture: one
manifest each, `capture.mode` passive, transport TCP, packets per stream within 2 and duration
within 50 ms of the primary's. (The direct path's 20 ms bound is passive_test.py's: here the
Python forwarder sits on the path of every packet, and the primary stamps a BYE when its worker
processes it — on a loaded box tens of ms after the wire, one more RTP packet in — while the
spare stamps the capture time.)
Prints `N passed, N failed`.
"""
import argparse
import array
import fcntl
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "rtp"))
sys.path.insert(0, HERE)
import siprec_src as S  # noqa: E402
from passive_test import manifests  # noqa: E402

UAC = os.path.join(HERE, "..", "catalog", "siprec_uac.xml")
SRC_IP, REC_IP = "10.89.0.1", "10.89.0.2"
SIP_PORT = 5060
MTU = 576

# SIOCETHTOOL and the ethtool_value commands that switch one offload (linux/ethtool.h).
SIOCETHTOOL = 0x8946
ETHTOOL_OFFLOADS = {"tx-checksum": 0x17, "tso": 0x1F, "gso": 0x24, "gro": 0x2C}


def run(cmd, check=True, timeout=60, cwd=None):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: rc={r.returncode} {r.stdout}{r.stderr}")
    return r


def offloads_off(ifname):
    """Run inside the interface's namespace: every offload that would hand AF_PACKET frames
    larger than the MTU or without their checksum switched off."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for cmd in ETHTOOL_OFFLOADS.values():
        ev = array.array("I", [cmd, 0])
        ifr = struct.pack("16sP", ifname.encode(), ev.buffer_info()[0])
        fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifr)
    s.close()


class Net:
    def __init__(self):
        tag = f"cvt{os.getpid()}"
        self.ns = {n: f"{tag}-{n}" for n in ("src", "fwd", "rec")}
        self.created = []

    def exec(self, n):
        return ["ip", "netns", "exec", self.ns[n]]

    def create(self):
        for ns in self.ns.values():
            run(["ip", "netns", "add", ns])
            self.created.append(ns)
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        # src.eth0 <-> fwd.a, fwd.b <-> rec.eth0
        for here, there, ifname in (("src", "a", "eth0"), ("rec", "b", "eth0")):
            run(["ip", "link", "add", ifname, "netns", self.ns[here], "type", "veth", "peer",
                 "name", there, "netns", self.ns["fwd"]])
        run(["ip", "-n", self.ns["src"], "addr", "add", f"{SRC_IP}/24", "dev", "eth0"])
        run(["ip", "-n", self.ns["rec"], "addr", "add", f"{REC_IP}/24", "dev", "eth0"])
        for n, ifname in (("src", "eth0"), ("rec", "eth0"), ("fwd", "a"), ("fwd", "b")):
            run(["ip", "-n", self.ns[n], "link", "set", "dev", ifname, "mtu", str(MTU), "up"])
            run(self.exec(n) + [sys.executable, os.path.abspath(__file__), "--offloads-off",
                                ifname])

    def destroy(self):
        for ns in reversed(self.created):
            run(["ip", "netns", "del", ns], check=False)


def config(work, name, passive):
    text = f"""[node]
id = "{name}"
data_dir = "{work}/{name}"
[sip]
listen = ["{"tcp:" + REC_IP + ":" + str(SIP_PORT) if not passive else "udp:127.0.0.1:5071"}"]
[http]
port = 0
[media]
ipv4_address = "{REC_IP if not passive else "127.0.0.1"}"
port_min = {30000 if not passive else 32000}
port_max = {30999 if not passive else 32999}
[server]
drain_timeout_s = 2
"""
    if passive:
        text += f"""[passive]
enabled = true
interface = "eth0"
filter = "host {REC_IP}"
sip_ports = ["{SIP_PORT}"]
primary = ["{REC_IP}:{SIP_PORT}"]
primary_node_id = "primary"
buffer_mb = 64
"""
    path = os.path.join(work, name + ".toml")
    with open(path, "w") as f:
        f.write(text)
    return path


def wait_log(path, needle, proc, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        with open(path, errors="replace") as f:
            if needle in f.read():
                return True
        if proc.poll() is not None:
            return False
        time.sleep(0.1)
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin")
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--offloads-off", metavar="IF", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.offloads_off:
        offloads_off(args.offloads_off)
        return 0
    missing = [t for t in ("ip", "sipp", "sox") if shutil.which(t) is None]
    if missing or os.geteuid() != 0:
        print(f"needs root and {', '.join(missing) or 'its tools'}\n0 passed, 1 failed")
        return 1
    c = S.Checks()
    work = S.make_workdir("cv-passive-tcp-")
    net = Net()
    procs = []
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("hard timeout")))
    signal.alarm(240)
    try:
        net.create()
        stats_path = os.path.join(work, "fwd.json")
        fwd = subprocess.Popen(net.exec("fwd") + [sys.executable, os.path.join(HERE, "reorder_fwd.py"),
                                                  "a", "b", str(SIP_PORT), stats_path],
                               stdout=open(os.path.join(work, "fwd.log"), "w"),
                               stderr=subprocess.STDOUT)
        procs.append(fwd)
        nodes = {}
        for name, passive in (("primary", False), ("spare", True)):
            log = os.path.join(work, name + ".log")
            p = subprocess.Popen(net.exec("rec") + [args.bin, "serve", "-c", config(work, name, passive)],
                                 stdout=open(log, "w"), stderr=subprocess.STDOUT)
            procs.append(p)
            nodes[name] = (p, log)
        ok = all(wait_log(log, "event=server.ready", p) for p, log in nodes.values())
        c.check(ok, "primary (SIP over TCP) and passive spare started in namespace rec")
        if not ok:
            return 1
        tone = os.path.join(work, "cv_tone.alaw")
        subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-e", "a-law", "-t", "raw", tone,
                        "synth", "30", "sine", "1000", "vol", "0.3"], check=True)
        sipp = run(net.exec("src") + [
            "sipp", f"{REC_IP}:{SIP_PORT}", "-t", "t1", "-sf", UAC, "-m", str(args.calls),
            "-l", str(args.calls), "-r", str(min(args.calls, 10)), "-d", "6000", "-i", SRC_IP,
            "-mi", SRC_IP, "-mp", "31000", "-nostdin", "-timeout", "90", "-timeout_error",
            "-trace_err", "-error_file", os.path.join(work, "sipp_err.log")], check=False,
            timeout=150, cwd=work)
        c.check(sipp.returncode == 0, f"sipp ran {args.calls} calls over one TCP connection "
                                      f"(rc {sipp.returncode})")
        deadline = time.time() + 30
        while time.time() < deadline and (len(manifests(os.path.join(work, "primary"))) < args.calls
                                          or len(manifests(os.path.join(work, "spare"))) < args.calls):
            time.sleep(0.5)
        fwd.send_signal(signal.SIGTERM)
        fwd.wait(timeout=10)
        with open(stats_path) as f:
            st = json.load(f)
        c.check(st["reordered"] >= args.calls and st["repeated"] >= args.calls // 2,
                f"the forwarder reordered {st['reordered']} and repeated {st['repeated']} of "
                f"{st['data_segments']} TCP data segments towards the primary")
        prim = manifests(os.path.join(work, "primary"))
        spar = manifests(os.path.join(work, "spare"))
        c.check(len(prim) == args.calls, f"primary recorded {len(prim)} of {args.calls} calls")
        bad, worst = [], 0
        for cid, pms in sorted(prim.items()):
            sms = spar.get(cid, [])
            if len(pms) != 1 or len(sms) != 1:
                bad.append(f"{cid}: {len(pms)} primary, {len(sms)} spare recordings")
                continue
            pm, sm = pms[0], sms[0]
            d = abs(pm["audio"]["duration_ms"] - sm["audio"]["duration_ms"])
            worst = max(worst, d)
            pp = {s["id"]: (s["packets"], s.get("channel")) for s in pm["streams"]}
            sp = {s["id"]: (s["packets"], s.get("channel")) for s in sm["streams"]}
            near = set(pp) == set(sp) and all(
                abs(pp[k][0] - sp[k][0]) <= 2 and pp[k][1] == sp[k][1] for k in pp)
            if d > 50 or not near or sm.get("capture", {}).get("mode") != "passive" or \
                    sm["src"].get("transport") != "TCP":
                bad.append(f"{cid}: {sm['audio']['duration_ms']} vs {pm['audio']['duration_ms']} ms, "
                           f"streams {sp} vs {pp}, capture {sm.get('capture')}, "
                           f"transport {sm['src'].get('transport')}")
        for b in bad[:10]:
            print("       - " + b)
        c.check(not bad and len(spar) == len(prim),
                f"spare followed SIP over TCP (split, reordered, repeated) and recorded the same "
                f"{len(spar)} calls: packets per stream within 2, channels equal, duration within "
                f"{worst} ms (limit 50)")
    except Exception as e:  # a broken fixture is a failure with a summary, not a crash
        c.check(False, "test ran", repr(e))
    finally:
        signal.alarm(0)
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
        net.destroy()
    rc = c.summary()
    S.cleanup_workdir(work, rc != 0 or args.keep)
    return rc


if __name__ == "__main__":
    sys.exit(main())
