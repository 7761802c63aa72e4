#!/usr/bin/env python3
"""SIPREC setup rate (issue 18): how many SIPREC INVITEs per second `callvault serve` answers with
0 failed calls, and how long INVITE -> 200 takes at 500 and 1,000 calls/s — against sipp's own
`-sn uas` in the same run as the baseline (the least a SIP UAS costs on this box), with and
without 2,000 other calls' RTP flowing into the recorder.

Usage: bench/setup_rate_bench.py --bin build/release/src/app/callvault
           [--rtp-load build/release/bench/rtp_load] [--rates 500 1000 2000 3000 4000]
           [--rtp-rates 500 1000] [--step-s 2] [--max-calls 2000] [--hold-ms 2000]
           [--rtp-calls 2000] [--skip-uas] [--skip-rtp] [--work-dir DIR] [--extra TOML] [--keep]

Per target (sipp uas, then callvault, then callvault with RTP) a fresh process; per rate one
burst: min(rate x step-s, max-calls) INVITEs of bench/siprec_setup.xml (the SIPREC INVITE of
tests/catalog/siprec_uac.xml: multipart SDP with two m-lines + RFC 7865 metadata; ACK) over UDP
on 127.0.0.1, every call held until the whole burst is up plus --hold-ms (so no call ends and
nothing is finalized while INVITEs are answered: an SBC failing over), then BYE'd; the next
burst starts when the recorder has finalized these calls. sipp's `-trace_rtt -rtt_freq 1` gives
every call's INVITE -> 200 time (sipp's clock: 1-4 ms resolution). A step counts when sipp
reports 0 failed calls and the answered rate (answers over the time from the first INVITE to the
last 200) is >= 95 % of the offered one; the ramp stops at the first step from 1,000/s on that
does not.
Printed per step: the rate reached, p50/p99/max INVITE -> 200, the recorder's CPU per INVITE
(utime+stime of its threads from the first INVITE to 0.5 s after the last, by thread name).
"with RTP": before the steps, --rtp-calls SIPREC calls are opened (tests/rtp/siprec_src.py, two
PCMU m-lines each) and bench/rtp_load sends 50 packets/s to every answered port during the
steps (200 k packets/s at 2,000 calls); afterwards the packets sent and recorded are printed.
--work-dir puts the data directories elsewhere (e.g. a journaled ext4 mount, or /dev/shm as a
tmpfs control without disk costs).

Prints the figures; asserts nothing. Only 127.0.0.1 is used.
"""
import argparse
import glob
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "rtp"))
import siprec_src as S  # noqa: E402

SCENARIO = os.path.join(HERE, "siprec_setup.xml")
HZ = os.sysconf("SC_CLK_TCK")


def free_media_port():
    """An even port P with P..P+3 free on 127.0.0.1 (sipp binds its media ports there, even when
    no RTP is sent)."""
    for _ in range(100):
        p = free_udp_port() & ~1
        socks = []
        try:
            for q in range(p, p + 4):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", q))
            return p
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free media port")


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def thread_cpu(pid):
    """CPU seconds (utime+stime) of the process's threads, summed by name (cv-recorder-0 and
    cv-recorder-1 → cv-recorder; unnamed threads → their process name)."""
    out = {}
    for t in glob.glob(f"/proc/{pid}/task/*"):
        try:
            name = open(t + "/comm").read().strip()
            fields = open(t + "/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = re.sub(r"-\d+$", "", name)
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / HZ
    return out


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def step_calls(rate, args):
    return int(min(rate * args.step_s, args.max_calls))


def sipp_step(port, rate, args, work, tag, pid=None):
    """One burst: `calls` INVITEs at `rate`, every call held until the whole burst is up (so no
    call ends, and nothing is finalized, while INVITEs are being answered), then BYE'd.
    Returns (ok, achieved/s, rtts in ms, summary text, command)."""
    calls = step_calls(rate, args)
    burst_s = calls / rate
    hold_ms = int(burst_s * 1000 + args.hold_ms)
    d = os.path.join(work, tag)
    os.makedirs(d, exist_ok=True)
    timeout = int(burst_s * 3 + hold_ms / 1000.0 + 30)
    cmd = ["sipp", f"127.0.0.1:{port}", "-t", "u1", "-i", "127.0.0.1", "-p", str(free_udp_port()),
           "-sf", SCENARIO, "-mp", str(free_media_port()),
           "-m", str(calls), "-r", str(rate), "-l", str(calls),
           "-d", str(hold_ms), "-timeout", str(timeout), "-timeout_error", "-nostdin",
           "-max_socket", "1000", "-trace_rtt", "-rtt_freq", "1",
           "-trace_err", "-error_file", os.path.join(d, "errors.log"),
           "-trace_screen", "-screen_file", os.path.join(d, "screen.log")]
    t0 = time.time()
    before = thread_cpu(pid) if pid else {}
    proc = subprocess.Popen(cmd, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # CPU of the burst: from the first INVITE until 0.5 s after the last one was offered (the
    # calls are all held then: no BYE, nothing finalized yet).
    time.sleep(burst_s + 0.5)
    after = thread_cpu(pid) if pid else {}
    try:
        rc = proc.wait(timeout=timeout + 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = -9
    elapsed = time.time() - t0
    cpu = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    screen = open(os.path.join(d, "screen.log")).read() if os.path.exists(
        os.path.join(d, "screen.log")) else ""
    succ = re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", screen)
    fail = re.findall(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)", screen)
    succ = int(succ[-1]) if succ else 0
    fail = int(fail[-1]) if fail else -1
    rtts = []  # (ms since the run's start, INVITE -> 200 in ms)
    for f in glob.glob(os.path.join(d, "*_rtt.csv")):
        for line in open(f):
            parts = line.strip().split(";")
            if len(parts) >= 2 and parts[0] and parts[0][0].isdigit():
                try:
                    rtts.append((float(parts[0]), float(parts[1])))
                except ValueError:
                    pass
    # Achieved: answered INVITEs over the time from the first INVITE to the last 200.
    achieved = 0.0
    if rtts:
        sent = [t - r for t, r in rtts]
        span = max(t for t, _ in rtts) - min(sent)
        achieved = len(rtts) / max(span / 1000.0, 0.001)
    ok = rc == 0 and fail == 0 and succ == calls and achieved >= 0.95 * rate
    return (ok, achieved, [r for _, r in rtts],
            f"calls={calls} rc={rc} ok_calls={succ} failed={fail} took={elapsed:.1f}s", cmd, cpu)


def spool_calls(data):
    try:
        return len([n for n in os.listdir(os.path.join(data, "spool")) if not n.startswith(".")])
    except FileNotFoundError:
        return 0


def wait_spool_back_to(data, count, timeout=300):
    """Waits until every call of the last burst is finalized (the spool is back to `count`
    calls: the long RTP calls of a "with RTP" run stay)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if spool_calls(data) <= count:
            return True
        time.sleep(0.5)
    return False


def ramp(name, port, pid, args, work, data=None, rates=None):
    best = 0
    figures = {}
    for rate in rates or args.rates:
        resident = spool_calls(data) if data is not None else 0
        ok, achieved, rtts, summary, cmd, cpu = sipp_step(
            port, rate, args, work, re.sub(r"[^a-z0-9]+", "-", name.lower()) + f"-{rate}", pid)
        calls = step_calls(rate, args)
        p50, p99, mx = pct(rtts, 50), pct(rtts, 99), max(rtts) if rtts else float("nan")
        total = sum(cpu.values())
        print(f"  {name:<30} rate={rate:>5}/s achieved={achieved:6.0f}/s INVITE->200 "
              f"p50={p50:5.0f} p99={p99:5.0f} max={mx:5.0f} ms  cpu/INVITE={total / calls * 1e6:5.0f} us"
              f"  {summary}  {'OK' if ok else 'FAILED'}", flush=True)
        if len(cpu) > 1:
            top = sorted(cpu.items(), key=lambda kv: -kv[1])[:5]
            print("    cpu/INVITE by thread: " + ", ".join(
                f"{k}={v / calls * 1e6:.0f}us" for k, v in top if v > 0), flush=True)
        if not figures:
            print("    + " + " ".join(cmd), flush=True)
        figures[rate] = (ok, achieved, p50, p99)
        if data is not None and not wait_spool_back_to(data, resident):
            print("    the burst's calls were not finalized within 300 s", flush=True)
        if ok:
            best = max(best, achieved)
        elif rate >= 1000:  # 500 and 1,000/s are always measured (the reporting points)
            break
    print(f"  {name:<30} RESULT highest rate with 0 failed calls: {best:.0f} setups/s", flush=True)
    return best, figures


def run_uas(args, work):
    port = free_udp_port()
    d = os.path.join(work, "uas")
    os.makedirs(d)
    cmd = ["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(port), "-t", "u1", "-nostdin",
           "-bg", "-max_socket", "1000", "-trace_err", "-error_file", os.path.join(d, "err.log")]
    out = subprocess.run(cmd, cwd=d, capture_output=True, text=True, timeout=30).stdout
    m = re.search(r"PID=\[(\d+)\]", out)
    pid = int(m.group(1)) if m else None
    time.sleep(0.5)
    print(f"+ {' '.join(cmd)}", flush=True)
    try:
        return ramp("sipp -sn uas (baseline)", port, pid, args, work)
    finally:
        if pid:
            os.kill(pid, signal.SIGTERM)


def open_rtp_calls(srv, n, work):
    """n SIPREC calls kept up (two PCMU m-lines each); returns (uac, dialogs, ports file)."""
    uac = S.Uac(srv.sip_port)
    dlgs = []
    for b in range(0, n, 200):
        batch = []
        for i in range(b, min(n, b + 200)):
            d = uac.new_dialog(f"rtp-{i}@setup-bench")
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
    path = os.path.join(work, "ports.txt")
    with open(path, "w") as f:
        f.write("\n".join(map(str, ports)) + "\n")
    return uac, dlgs, path, len(ports)


def run_callvault(args, work, with_rtp, rates=None):
    name = "callvault" + (f" + {args.rtp_calls} calls RTP" if with_rtp else "")
    d = os.path.join(work, "cv-rtp" if with_rtp else "cv")
    os.makedirs(d)
    data = os.path.join(d, "data")
    extra = args.extra
    cfg = S.base_config(data, 20000, 59999, rtp_timeout_s=120, extra=extra)
    srv = S.Server(args.bin, d, cfg)
    load = None
    ok = False
    try:
        if not srv.start(timeout=60):
            raise RuntimeError("server did not start: " + srv.log_path)
        uac = dlgs = None
        if with_rtp:
            uac, dlgs, ports_file, streams = open_rtp_calls(srv, args.rtp_calls, d)
            seconds = int(sum(step_calls(r, args) / r + args.hold_ms / 1000.0 + 15
                              for r in rates) + 10)
            lcmd = [args.rtp_load, "--ports-file", ports_file, "--streams", str(streams),
                    "--pps", "50", "--seconds", str(seconds)]
            print(f"  {len(dlgs)} calls up, {streams} streams; + {' '.join(lcmd)}", flush=True)
            load = subprocess.Popen(lcmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(2)
        best, figures = ramp(name, srv.sip_port, srv.proc.pid, args, d, data=data,
                             rates=rates)
        if load is not None:
            out, _ = load.communicate(timeout=600)  # runs its --seconds out
            m = re.search(r"sent=(\d+)", out)
            sent = int(m.group(1)) if m else -1
            time.sleep(0.5)
            uac.bye(dlgs, timeout=60)
            srv.wait_log(r"event=finalize\.done.*", count=1, timeout=5)
            rec = recorded_packets(data, len(dlgs) + sum(step_calls(r, args) for r in rates))
            print(f"  rtp_load sent={sent} recorded(by the {len(dlgs)} RTP calls)={rec}", flush=True)
        ok = True
        return best, figures
    finally:
        if load is not None and load.poll() is None:
            load.kill()
        srv.stop(timeout=60)
        S.cleanup_workdir(d, args.keep or not ok)


def recorded_packets(data, calls, timeout=300):
    """Packets in every manifest once `calls` are finalized (-1 if not in time); only the RTP
    calls carry packets (sipp sends none)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        manifests = glob.glob(os.path.join(data, "recordings", "**", "*.json"), recursive=True)
        if len(manifests) >= calls:
            packets = 0
            for m in manifests:
                with open(m) as f:
                    packets += sum(s.get("packets", 0) for s in json.load(f).get("streams", []))
            return packets
        time.sleep(1)
    return -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--rtp-load", default=None)
    ap.add_argument("--rates", type=int, nargs="+", default=[500, 1000, 2000, 3000, 4000])
    ap.add_argument("--rtp-rates", type=int, nargs="+", default=[500, 1000])
    ap.add_argument("--step-s", type=float, default=2.0)
    ap.add_argument("--max-calls", type=int, default=2000,
                    help="INVITEs per step at most (all held up at once: the descriptor limit)")
    ap.add_argument("--hold-ms", type=int, default=2000,
                    help="how long the last call of a burst is held before the BYEs")
    ap.add_argument("--rtp-calls", type=int, default=2000)
    ap.add_argument("--skip-rtp", action="store_true")
    ap.add_argument("--skip-uas", action="store_true")
    ap.add_argument("--extra", default="", help="TOML appended to callvault.toml")
    ap.add_argument("--work-dir", default=None,
                    help="where the data directories go (default: the temp dir; /dev/shm = a "
                         "tmpfs control run without disk or inode-allocation costs)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if args.rtp_load is None:
        args.rtp_load = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(args.bin)))), "bench", "rtp_load")
    if shutil.which("sipp") is None:
        print("sipp not found (scripts/install-deps.sh)")
        return 1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(f"== setup rate {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} on {os.cpu_count()} "
          f"cores, load {open('/proc/loadavg').read().split()[:3]}; steps of {args.step_s:g} s, "
          f"calls held {args.hold_ms} ms", flush=True)
    work = tempfile.mkdtemp(prefix="cv-setup-bench-", dir=args.work_dir)
    try:
        if not args.skip_uas:
            run_uas(args, work)
        run_callvault(args, work, with_rtp=False, rates=args.rates)
        if not args.skip_rtp:
            run_callvault(args, work, with_rtp=True, rates=args.rtp_rates)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
