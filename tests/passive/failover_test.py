#!/usr/bin/env python3
"""Issue 19 acceptance: a passive hot spare makes a primary's crash lose nothing.

Two cluster nodes in network namespaces (tests/cluster/harness.py): `a` the primary, `b` a spare
with [passive] capturing its eth0. The bridge forwards like a hub (ageing_time 0: every frame
floods to every port), so b sees what is sent to a and what a sends, as a switch's SPAN port
would show it. The SRC is sipp in a namespace of its own on the bridge (not the bridge's own
address: frames to the bridge itself are not flooded) calling a: CALLS SIPREC calls of CALL_S seconds, RTP (1 kHz tone)
on the first m-line. KILL_AT_S into the calls a is killed with SIGKILL; sipp keeps sending RTP
(a's namespace drops its ICMP port-unreachable: a Cisco phone keeps forking regardless) and sends
its BYEs, which only the spare sees. a restarts RESTART_AT_S in: its crash recovery finalizes the
`partial` copies, which replicate to b, as b's passive copies replicate to a.

After reconciliation (catalog/copies.h), on both nodes:
  - the API lists exactly one recording per sipp call (the Call-IDs sipp had answered), none
    doubled, none active;
  - each is complete: audio.duration_ms >= CALL_S - 0.5 s, and the 1 kHz tone is present in its
    last second (channel 0);
  - the partial copies are deleted (audit actor `reconcile`) and their files purged.
Prints PASS/FAIL lines and ends with `N passed, N failed`.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cluster"))
sys.path.insert(0, os.path.join(HERE, "..", "rtp"))
import harness as H  # noqa: E402
import siprec_src as S  # noqa: E402


class HardTimeout(Exception):
    pass


def spare_config(cl):
    a = cl.net.addr["a"]
    return f"""
[passive]
enabled = true
interface = "eth0"
filter = "udp and host {a}"
sip_ports = ["{H.SIP_PORT}"]
primary = ["{a}:{H.SIP_PORT}"]
primary_node_id = "a"
buffer_mb = 64
rtp_timeout_s = 20
"""


def add_src_namespace(cl):
    """A namespace for the SRC with eth0 on the bridge; returns (namespace, address)."""
    ns = f"{cl.net.tag}-src"
    addr = f"{cl.net.subnet}.200"
    host_end = f"cv{os.getpid()}src"[:15]
    H.run(["ip", "netns", "add", ns])
    cl.on_close(lambda: H.run(["ip", "netns", "del", ns], check=False))
    H.run(["ip", "-n", ns, "link", "set", "lo", "up"])
    H.run(["ip", "link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns", ns])
    H.run(["ip", "link", "set", host_end, "netns", cl.net.bridge_ns])
    H.run(["ip", "-n", cl.net.bridge_ns, "link", "set", host_end, "master", "br0", "up"])
    H.run(["ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", "eth0"])
    H.run(["ip", "-n", ns, "link", "set", "eth0", "up"])
    return ns, addr


def start_sipp(cl, work, calls, call_ms, ns, host):
    """sipp in the SRC's namespace calling a."""
    d = os.path.join(work, "sipp")
    os.makedirs(d, exist_ok=True)
    shutil.copy(cl.tone, os.path.join(d, "cv_tone.alaw"))
    cmd = ["ip", "netns", "exec", ns, "sipp", "-sf", H.SCENARIO, "-m", str(calls),
           "-r", str(calls), "-l", str(calls), "-d", str(call_ms), "-i", host, "-p", "5070",
           "-mi", host, "-mp", "31000", "-trace_logs", "-log_file", os.path.join(d, "calls.log"),
           "-trace_err", "-error_file", os.path.join(d, "errors.log"), "-timeout",
           str(call_ms // 1000 + 90), "-nostdin", f"{cl.net.addr['a']}:{H.SIP_PORT}"]
    out = open(os.path.join(d, "sipp.out"), "w")
    proc = subprocess.Popen(cmd, cwd=d, stdout=out, stderr=subprocess.STDOUT,
                            preexec_fn=H._die_with_parent)
    cl.on_close(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
    return proc, os.path.join(d, "calls.log")


def answered(log):
    if not os.path.exists(log):
        return set()
    with open(log, errors="replace") as f:
        return {l.split()[1] for l in f if l.startswith("answered ")}


def tone_in_last_second(path):
    rate, ch = S.read_wav(path)
    last = list(ch[0][-rate:])
    if len(last) < rate // 2:
        return False, "shorter than a second"
    p1k = S.goertzel_power(last, 1000, rate)
    p700 = S.goertzel_power(last, 700, rate)
    level = S.rms(last)
    return (level > 500 and p1k > 100 * max(p700, 1e-9)), f"rms {level:.0f}, 1 kHz/700 Hz {p1k / max(p700, 1e-9):.0f}"


def run(args, c, cl, work):
    def prepare(cl):
        cl.node("b").extra_text = spare_config(cl)

    cl.setup(prepare)
    # The bridge as a hub (what a SPAN port gives the spare), and a that never answers RTP
    # with ICMP port-unreachable (so the SRC's stream goes on after the kill whatever sipp does
    # with such errors).
    H.run(["ip", "-n", cl.net.bridge_ns, "link", "set", "br0", "type", "bridge", "ageing_time", "0"])
    src_ns, src_addr = add_src_namespace(cl)
    H.run(cl.net.exec_prefix("a") + ["iptables", "-A", "OUTPUT", "-p", "icmp", "--icmp-type",
                                     "port-unreachable", "-j", "DROP"])
    cl.start()
    a, b = cl.node("a"), cl.node("b")
    c.check("event=passive.started interface=eth0" in b.read_log(),
            "spare b captures eth0 ([passive])")

    sipp, calls_log = start_sipp(cl, work, args.calls, int(args.call_s * 1000), src_ns, src_addr)
    t0 = time.time()
    H.wait_until(lambda: len(answered(calls_log)) >= args.calls, 10, 0.1)
    ids = answered(calls_log)
    c.check(len(ids) == args.calls, f"primary a answered {len(ids)} of {args.calls} calls")
    time.sleep(max(0.0, t0 + args.kill_at_s - time.time()))
    killed_at = a.kill9()
    print(f"  a killed with SIGKILL {killed_at - t0:.1f} s into the calls", flush=True)
    time.sleep(max(0.0, t0 + args.restart_at_s - time.time()))
    c.check(a.start(), f"a restarted {time.time() - t0:.1f} s into the calls")
    rc = sipp.wait(timeout=args.call_s + 120)
    print(f"  sipp ended (rc {rc}; the restarted a answers the BYEs of the calls it recovered)",
          flush=True)

    def reconciled():
        calls = cl.api_ids()
        if any(v is None for v in calls.values()):
            return None
        if not cl.quiet():
            return None
        for n, lst in calls.items():
            # One finished, whole recording per call: a partial still listed is a copy that
            # reconciliation has not replaced (yet).
            if len(lst) != len(ids) or any(x["state"] in ("active", "partial") for x in lst):
                return None
            # Purged: one manifest per sipp call on disk.
            sips = [m.get("sip_call_id") for l in cl.node(n).manifests().values() for _, m in l]
            if sorted(sips) != sorted(ids):
                return None
        return calls

    t_end = time.time()
    calls = H.wait_until(reconciled, args.settle_s, 1.0)
    c.check(bool(calls), f"both nodes list one recording per call and their disks hold no other "
                         f"({time.time() - t_end:.0f} s after sipp ended)")
    for n in "ab":
        node = cl.node(n)
        lst = node.all_calls() or []
        mans = {cid: l[0] for cid, l in node.manifests().items()}
        by_sip = {}
        bad = []
        for x in lst:
            p, m = mans.get(x["id"], (None, None))
            if m is None:
                bad.append(f"{x['id']}: no manifest on disk")
                continue
            by_sip.setdefault(m.get("sip_call_id"), []).append(x["id"])
            dur = m["audio"]["duration_ms"]
            if dur < args.call_s * 1000 - 500:
                bad.append(f"{x['id']}: {dur} ms ({m['state']}, {m.get('capture')})")
                continue
            audio = p[:-len(".json")]  # the manifest is <audio file>.json
            ok, why = tone_in_last_second(audio)
            if not ok:
                bad.append(f"{x['id']}: no tone in the last second ({why})")
        doubled = {k: v for k, v in by_sip.items() if len(v) > 1}
        c.check(set(by_sip) == ids and not doubled,
                f"{n}: {len(by_sip)} calls, each once (doubled: {len(doubled)}, "
                f"missing: {len(ids - set(by_sip))})")
        shortest = min((mans[x["id"]][1]["audio"]["duration_ms"] for x in lst if x["id"] in mans),
                       default=0)
        c.check(not bad, f"{n}: every recording >= {args.call_s - 0.5:.1f} s (shortest {shortest} ms) "
                         f"with the tone in its last second", "; ".join(bad[:5]))
        modes = sorted({(mans[x['id']][1].get('capture') or {}).get('mode', 'active')
                        for x in lst if x['id'] in mans})
        print(f"  {n}: kept copies captured {modes}", flush=True)
    log_a, log_b = a.read_log(all_runs=True), b.read_log(all_runs=True)
    dropped = log_a.count("event=catalog.copy_dropped") + log_b.count("event=catalog.copy_dropped")
    c.check(dropped >= args.calls, f"the partial copies were dropped by reconciliation "
                                   f"({dropped} copy_dropped lines on a and b)")
    m = b.metrics()
    print(f"  b: {m.get('callvault_passive_media_routed_total') if m else '?'} captured RTP packets "
          f"routed, {m.get('callvault_passive_capture_dropped_total') if m else '?'} dropped by the "
          f"capture", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--call-s", type=float, default=30)
    ap.add_argument("--kill-at-s", type=float, default=10)
    ap.add_argument("--restart-at-s", type=float, default=15)
    ap.add_argument("--settle-s", type=float, default=150)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    tools = ("ip", "iptables", "openssl", "sipp", "sox")
    missing = [t for t in tools if shutil.which(t) is None]
    if missing or os.geteuid() != 0:
        print(f"needs root and {', '.join(missing) or 'its tools'} (Debian iproute2, iptables, "
              f"openssl, sip-tester, sox)\n0 passed, 1 failed", flush=True)
        return 1
    c = S.Checks()
    work = S.make_workdir("cv-passive-failover-")

    def on_alarm(signum, frame):
        raise HardTimeout("hard timeout")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(args.call_s + args.settle_s + 240))
    cl = None
    t0 = time.time()
    try:
        cl = H.Cluster(args.bin, work, names="ab")
        run(args, c, cl, work)
    except Exception as e:  # a broken fixture or a timeout is a failure with a summary
        c.check(False, "test ran", repr(e))
    finally:
        signal.alarm(0)
        if cl is not None:
            cl.close()
    print(f"  passive failover: {time.time() - t0:.0f} s", flush=True)
    rc = c.summary()
    S.cleanup_workdir(work, rc != 0 or args.keep)
    return rc


if __name__ == "__main__":
    sys.exit(main())
