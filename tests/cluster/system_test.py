#!/usr/bin/env python3
"""Cluster system tests (issue 15, "Acceptance"): three `callvault serve` nodes a, b, c, each in a
network namespace this test creates (a bridge, veth pairs, 10.77.<n>.1-3), replicating finished
calls to each other over mutual TLS; sipp as the SRC inside the namespace of the node it calls.
The harness (Cluster, Node, Sipp, partition/heal, convergence checks, Dnsmasq, Postgres) is
tests/cluster/harness.py; the SRV-following SRC of srv-failover is tests/cluster/srv_src.py.
Needs root, iproute2, iptables, openssl, sipp and sox; srv-failover and web-failover also
dnsmasq (Debian dnsmasq-base) and dnspython (python3-dnspython), web-failover PostgreSQL,
shared-bucket the S3 test server (tests/s3/s3_server.mjs, `npm ci --prefix tests`).

Usage:
  system_test.py converge  --bin PATH/callvault [--calls 300] [--keep]
  system_test.py partition --bin PATH/callvault [--partition-s 60] [--keep]
  system_test.py kill9     --bin PATH/callvault [--big-s 65] [--max-mbps 3] [--kill-at 0.45]
                           [--cycles 10] [--seed N] [--keep]
  system_test.py window    --bin PATH/callvault [--calls 20] [--keep]
  system_test.py delete    --bin PATH/callvault [--keep]
  system_test.py users     --bin PATH/callvault [--keep]
  system_test.py bigfile   --bin PATH/callvault [--big-mib 1024] [--big-timeout 150] [--keep]
  system_test.py srv-failover --bin PATH/callvault [--tmpfs-mib 160] [--min-free-mib 32] [--rate 5]
                           [--seed N] [--keep]
  system_test.py web-failover --bin PATH/callvault [--keep]
  system_test.py shared-bucket --bin PATH/callvault [--calls 20] [--keep]

converge: --calls short calls with RTP (2 s, 10 calls/s per node) spread evenly over a, b and c,
  plus one long call on a that starts before an outbox bucket boundary (65.536 s slices of call
  ids) and ends after the load (started past it) was finalized. While that call runs it is
  `active` on a's API and unknown to b and c (404, not listed). Then, bounded: every call is on every node exactly once — the API (all
  pages of /api/v1/calls) lists the same ids on a, b and c, each once, none active, every
  answered SIP Call-ID recorded; each node's recordings dir holds one manifest per call and the
  audio's SHA-256 is the manifest's `audio.sha256`; every outbox queue is empty. Counts printed.

partition: after a warm-up (5 calls per node, converged), c is cut off (iptables DROP in its
  namespace, lo excepted) for --partition-s while a and b take 40 calls each (3 s, 1 call/s).
  Sampled every 3 s: a's and b's `callvault_outbox_backlog{queue="peer.c"}` rise to the calls
  they recorded, `callvault_outbox_lag_seconds{queue="peer.c"}` grows, peer_up{peer="c"} drops
  to 0, a and b keep replicating to each other, c gets nothing. Healed: converged (none lost,
  none doubled, SHA-256 matches) and backlog and lag back to 0. Figures printed.

kill9: one --big-s G.722 call on a (x) and one on c (y): 16 kHz stereo WAV, 4.2 MB at 65 s; the
  peer entries for b are capped at --max-mbps (3: ≥ 10 s per file), c's window to b is closed.
  Sender killed: kill -9 of a once b holds --kill-at (45 %) of x, restart; b (not restarted, and
  receiving nothing else) counts callvault_replication_received_bytes_total ≤ 1.1 × x. Receiver
  killed: c's window opens (config rewritten + SIGHUP), kill -9 of b once it holds 45 % of y,
  restart; c (not restarted, sending nothing else to b) counts
  callvault_replication_sent_bytes_total{peer="b"} ≤ 1.1 × y. Both land on b once with the
  origin's SHA-256. Then --cycles kill -9 cycles of random nodes (seeded, printed) under light
  load (1 call/s per node): converged, exactly once everywhere, SHA-256 matches.

window: a's peer entry for b has `schedule = "HH:MM-HH:MM"` opening at the minute boundary
  65–125 s away (local time), c is continuous. a takes --calls calls. Until 2 s before the
  opening, sampled every 2 s: b's received bytes and a's sent bytes to b stay 0,
  `callvault_replication_window_open{peer="b"}` is 0, peer.b's backlog holds every call and b
  lists none of them (c has them all). While it is closed, a user made on a (API) logs in on b
  (Basic auth, GET /api/v1/me) within 10 s: configuration ignores windows. After the opening:
  every call reaches b (log lines stamped after the opening).

delete: 3 calls per node, converged. A call recorded on a is deleted on b (DELETE
  /api/v1/calls/{id} → 204): on a, b and c GET /api/v1/calls/{id} turns 404 and its audio and
  manifest leave the recordings dir within 10 s (time per node printed). Then c is cut off; 4 s
  later (every change feed has tried c since) a call recorded on c is deleted on a: gone on a and
  b within 10 s, still whole on c 6 s later; healed: gone on c within 30 s (time printed). The 7
  other calls stay converged everywhere and neither deleted call comes back.

users: alice made on a (POST /api/v1/users) logs in (GET /api/v1/me, Basic) on b and c within
  10 s; her password changed on b (PATCH): the old one gets 401 and the new one 200 on a, b and
  c within 10 s (each node had the old one in its auth cache). bob made on c. c cut off, then
  one edit a second: alice on a (supervisor), alice on c (viewer), bob on c (supervisor), bob on
  a (viewer, disabled): a and b agree within 10 s while c differs; healed: GET /api/v1/users
  (username, role, tenant, disabled) is identical on a, b, c, the later edit of each user won
  (alice viewer, bob viewer + disabled: refused everywhere). Times printed.

bigfile: a 1 GiB (--big-mib) 16 kHz stereo WAV made with sox (a 60 s clip repeated, cut to the
  byte) in a's recordings dir with a manifest cloned from a real call's (new call id, name, size,
  SHA-256), queued by `callvault cluster backfill b`; it reaches b (SHA-256 equal) while VmRSS of
  both servers is sampled every 0.1 s: growth over the level before < 64 MiB on a and b. Time,
  throughput and the RSS figures printed.

srv-failover: dnsmasq on 127.0.0.1:53 in the bridge namespace serves _sip._udp.rec.cv.test SRV
  records (a 10/100, b 20/70, c 20/30); the test SRC (srv_src.py, on the bridge's own address)
  resolves them with dnspython, pings OPTIONS to each target every second and picks targets by
  RFC 2782 among those answering 200. a's data dir is a --tmpfs-mib tmpfs. 20 calls go to a.
  a drained (PUT /api/v1/node/drain): OPTIONS 503 within 1 s (Retry-After, Warning
  sip_accepting) and 200 calls go to b/c 70/30 ± 10 %; undrained: calls return. a's tmpfs filled
  below http.min_free_disk_mb: 503 within 1 s (Warning disk_space), 200 calls → b/c 70/30 ± 10 %;
  freed: 200 within 1 s. Under --rate calls/s, kill -9 of a: calls answered by b/c within 3 s,
  none unanswered; a restarted: calls return to a within 3 s. Every answered call converges on
  every node. Splits, 503 times and move times printed.

web-failover: a's catalog is a private PostgreSQL in its namespace; HTTP on every node's address.
  A health checker (WebChecker, in this file) polls /readyz?role=web on a, b, c every second and
  points web.cv.test (a dnsmasq hosts file, SIGHUP) at the first that answers 200. a's
  PostgreSQL stopped: the name moves to b within 5 s (a client resolving it reaches b), a's
  /readyz?role=recorder stays 200 and sipp calls on a are answered and recorded (manifests);
  PostgreSQL back: the name returns to a, the calls are in a's and b's API. a drained: SIP 503,
  /readyz?role=web still 200, the name does not move for 5 s.

shared-bucket: a and b move audio to one S3 bucket (the SigV4-checking test server in the
  bridge namespace, prefixes rec/a/ and rec/b/) and have each other as `shared_bucket` peers; c
  keeps audio on its disk. --calls calls on a and on b: every call on every node once (SHA-256
  of the audio as a's and b's API serve it from the bucket, of the file on c); the bucket holds
  each call once; a ↔ b sent 0 audio bytes (manifests alone), c got the audio from both; b's
  manifests of a's calls name the object and b has no audio file; a has none left. A deletion
  on b removes the object and the call everywhere.

Prints `N passed, N failed`; exit 1 on a failure. The work dir (configs, certificates, server
logs per start, data dirs, sipp logs) is kept on failure or with --keep. A hard timeout
(--timeout) ends the run with a failure and still cleans up processes and namespaces.
"""
import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import harness as H  # noqa: E402
import srv_src as SRC  # noqa: E402

S = H.S


def stamp(t):
    return time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d}"


def log_time(line):
    """Seconds since the epoch of a server log line ("2026-12-06T22:49:46.866Z info event=…")."""
    return S.parse_rfc3339_ns(line.split()[0]) / 1e9


def wait_sipps(sipps, timeout):
    """Waits (bounded: killed after `timeout`) for sipps to end; (return codes, answered Call-IDs)."""
    deadline = time.time() + timeout
    rcs = [s.wait(max(1, deadline - time.time())) for s in sipps]
    answered = set().union(*(s.answered() for s in sipps))
    return rcs, answered


def check_converged(c, cl, expected, timeout, what):
    took = cl.wait_converged(expected, timeout)
    c.check(took is not None, f"{what}: converged within {timeout} s",
            "" if took is None else f"{took:.1f} s")
    rep, problems = cl.convergence_report(expected)
    print(H.format_counts(rep), flush=True)
    c.check(not problems, f"{what}: every call on every node exactly once, SHA-256 = manifest's",
            "; ".join(problems[:8]))
    return took, rep


def wait_login(cl, names, user, password, want, t0, timeout):
    """{node: seconds after t0 when GET /api/v1/me with Basic user:password first answered `want`}."""
    took = {}
    while len(took) < len(names) and time.time() - t0 < timeout:
        for n in names:
            if n not in took and cl.node(n).request("GET", "/api/v1/me", auth=(user, password))[0] == want:
                took[n] = time.time() - t0
        time.sleep(0.1)
    return took


def user_table(node):
    code, body = node.get("/api/v1/users")
    if code != 200:
        return None
    return sorted((u["username"], u["role"], u.get("tenant"), bool(u["disabled"])) for u in body["users"])


def fmt_took(took, names):
    return ", ".join(f"{n} {took[n]:.2f} s" if n in took else f"{n} —" for n in names)


# --- converge ---------------------------------------------------------------------------------
def converge(args, c, cl):
    cl.setup()
    cl.start()
    a = cl.node("a")
    # The long call starts before an outbox bucket boundary (call ids' first 8 hex digits: 65.536 s
    # slices, docs/formats/outbox.md) and ends after the load, started past it, was finalized:
    # its entries land in a bucket the drainers have already left behind.
    now_ms = time.time_ns() // 1_000_000
    to_boundary = (65536 - now_ms % 65536) / 1000
    if to_boundary < 3:
        to_boundary += 65.536
    boundary = time.time() + to_boundary
    long = cl.sipp("a", 1, 1, int((to_boundary + 22) * 1000), tag="long")
    c.check(H.wait_until(long.answered, 15), "the long call on a is answered")
    long_sip = next(iter(long.answered()), None)
    print(f"  long call {long_sip}: {to_boundary + 22:.0f} s, across the bucket boundary at "
          f"{stamp(boundary)}", flush=True)
    time.sleep(max(0, boundary + 0.5 - time.time()))
    per = [args.calls // 3 + (1 if i < args.calls % 3 else 0) for i in range(3)]
    t0 = time.time()
    loads = [cl.sipp(n, k, 10, 2000, limit=40, tag="load") for n, k in zip("abc", per)]
    rcs, answered = wait_sipps(loads, 120)
    c.check(all(rc == 0 for rc in rcs) and len(answered) == args.calls,
            f"sipp: {args.calls} calls answered on a, b, c ({per})",
            f"rc={rcs} answered={len(answered)}")
    print(f"  load of {len(answered)} calls took {time.time() - t0:.1f} s", flush=True)

    # While the long call runs: active on a, unknown to b and c (which already hold a's calls).
    H.wait_until(lambda: all(len(cl.node(n).all_calls("node=a") or []) >= per[0] for n in "bc"), 20)
    active = a.all_calls("state=active") or []
    long_id = active[0]["id"] if len(active) == 1 else None
    detail = a.get(f"/api/v1/calls/{long_id}")[1] if long_id else {}
    c.check(long_id is not None and isinstance(detail, dict) and detail.get("sip_call_id") == long_sip,
            "a's API lists the running call as active (state=active: exactly that call)",
            f"active on a: {[x['id'] for x in active]}")
    for n in "bc":
        node = cl.node(n)
        code, _ = node.get(f"/api/v1/calls/{long_id}")
        listed = [x for x in (node.all_calls() or []) if x["id"] == long_id]
        act = node.all_calls("state=active")
        foreign = [x["id"] for x in act or [] if x["node"] != n]
        c.check(code == 404 and not listed and act is not None and not foreign,
                f"the running call is absent on {n} (404, not listed, no active call of another node)",
                f"GET={code} listed={len(listed)} active elsewhere={foreign}")
    still = [x for x in (a.all_calls("state=active") or []) if x["id"] == long_id]
    c.check(bool(still) and not long.ended(), "…and it was still running on a after those checks")

    long.wait(60)
    expected = answered | long.answered()
    took, rep = check_converged(c, cl, expected, 90, f"{len(expected)} calls")
    for n, r in rep.items():
        c.check(r["api"] == len(expected) and r["manifests"] == len(expected) and
                r["sha_ok"] == len(expected),
                f"node {n}: {len(expected)} calls in the API, {len(expected)} manifests, "
                f"{len(expected)} SHA-256 matches",
                f"api={r['api']} manifests={r['manifests']} sha_ok={r['sha_ok']}")
    if long_id and any(long_id not in r["ids"] for r in rep.values()):
        stuck = {n: os.path.exists(os.path.join(cl.node(n).data, "outbox", "catalog", long_id[:8],
                                                long_id + ".json")) for n in cl.names}
        print(f"  the long call {long_id}: catalog outbox entry still queued on {stuck} "
              f"(its bucket is older than the drainer's cursor)", flush=True)


# --- partition --------------------------------------------------------------------------------
def partition(args, c, cl):
    cl.setup()
    cl.start()
    a, b, cc = cl.node("a"), cl.node("b"), cl.node("c")
    warm = [cl.sipp(n, 5, 5, 1000, tag="warm") for n in "abc"]
    _, warm_ids = wait_sipps(warm, 60)
    took, rep = check_converged(c, cl, warm_ids, 60, "warm-up")
    base = len(rep["c"]["ids"])
    c_recv0 = cc.metrics().get("callvault_replication_received_calls_total")

    cl.partition("c")
    t0 = time.time()
    print(f"  {stamp(t0)} c cut off (iptables DROP in {cl.net.ns['c']})", flush=True)
    loads = [cl.sipp(n, 40, 1, 3000, limit=10, tag="part") for n in "ab"]
    samples = []
    while time.time() - t0 < args.partition_s:
        time.sleep(min(3, max(0, args.partition_s - (time.time() - t0))))
        row = {"t": time.time() - t0}
        for n in "ab":
            m = cl.node(n).metrics()
            row[n] = None if m is None else {
                "backlog": m.get("callvault_outbox_backlog", queue="peer.c"),
                "lag": m.get("callvault_outbox_lag_seconds", queue="peer.c"),
                "up": m.get("callvault_replication_peer_up", peer="c"),
                "errors": m.get("callvault_replication_errors_total", peer="c"),
                "peer_ab": m.get("callvault_outbox_backlog", queue="peer." + ("b" if n == "a" else "a"))}
        row["c_calls"] = len(cc.all_calls() or [])
        samples.append(row)
        print("  t={t:5.1f}s  a→c backlog={ab:3.0f} lag={al:5.1f}s up={au:.0f} errors={ae:.0f} | "
              "b→c backlog={bb:3.0f} lag={bl:5.1f}s up={bu:.0f} errors={be:.0f} | a→b backlog={x:.0f} "
              "b→a backlog={y:.0f} | c lists {cn}".format(
                  t=row["t"], ab=row["a"]["backlog"], al=row["a"]["lag"], au=row["a"]["up"],
                  ae=row["a"]["errors"], bb=row["b"]["backlog"], bl=row["b"]["lag"], bu=row["b"]["up"],
                  be=row["b"]["errors"], x=row["a"]["peer_ab"], y=row["b"]["peer_ab"],
                  cn=row["c_calls"]), flush=True)
    # Figures at the end of the partition.
    rcs, answered = wait_sipps(loads, 30)
    last = samples[-1]
    part_calls = {n: len(ld.answered()) for n, ld in zip("ab", loads)}
    done_by = {n: len(cl.node(n).all_calls(f"node={n}") or []) - 5 for n in "ab"}  # minus warm-up
    for n in "ab":
        c.check(last[n]["backlog"] >= 0.9 * done_by[n] and last[n]["backlog"] >= 20,
                f"{n}: peer.c backlog rose to the calls recorded during the partition",
                f"backlog={last[n]['backlog']:.0f} recorded={done_by[n]}")
        # The lag gauge moves when the drainer tries a round (backoff up to 30 s meanwhile).
        mid = [s for s in samples if s["t"] >= args.partition_s / 3][0]
        top = max(s[n]["lag"] for s in samples)
        c.check(top >= args.partition_s / 3 and top > mid[n]["lag"],
                f"{n}: peer.c lag grew during the partition",
                f"lag {mid[n]['lag']:.1f} s at t={mid['t']:.0f} s → {top:.1f} s at most, "
                f"{last[n]['lag']:.1f} s at the end")
        c.check(last[n]["up"] == 0, f"{n}: callvault_replication_peer_up{{peer=\"c\"}} = 0")
    c.check(all(s["c_calls"] == base for s in samples),
            "c received nothing while cut off", f"c listed {[s['c_calls'] for s in samples]}")
    c.check(cc.metrics().get("callvault_replication_received_calls_total") == c_recv0,
            "c's received-calls counter did not move")
    c.check(last["a"]["peer_ab"] <= 3 and last["b"]["peer_ab"] <= 3,
            "a and b kept replicating to each other during the partition",
            f"a→b backlog={last['a']['peer_ab']:.0f} b→a backlog={last['b']['peer_ab']:.0f}")

    cl.heal("c")
    t_heal = time.time()
    print(f"  {stamp(t_heal)} healed after {t_heal - t0:.1f} s; calls answered during the "
          f"partition: {part_calls}", flush=True)
    c.check(all(rc == 0 for rc in rcs) and len(answered) == 80, "sipp: 80 calls answered on a and b",
            f"rc={rcs} answered={len(answered)}")

    def drained():
        ms = [cl.node(n).metrics() for n in "ab"]
        return all(m is not None and m.get("callvault_outbox_backlog", queue="peer.c") == 0 and
                   m.get("callvault_outbox_lag_seconds", queue="peer.c") == 0 for m in ms)
    ok = H.wait_until(drained, 120, 0.5)
    t_drained = time.time() - t_heal
    c.check(bool(ok), "a's and b's peer.c backlog and lag back to 0 after the heal",
            f"{t_drained:.1f} s after the heal")
    took, rep = check_converged(c, cl, warm_ids | answered, 90, "after the heal")
    print(f"  figures: max backlog a→c={max(s['a']['backlog'] for s in samples):.0f} "
          f"b→c={max(s['b']['backlog'] for s in samples):.0f}; max lag a→c="
          f"{max(s['a']['lag'] for s in samples):.1f} s b→c={max(s['b']['lag'] for s in samples):.1f} s; "
          f"backlog/lag 0 again {t_drained:.1f} s after the heal", flush=True)


# --- kill9 ------------------------------------------------------------------------------------
def hhmm(t):
    lt = time.localtime(t)
    return f"{lt.tm_hour:02d}:{lt.tm_min:02d}"


def kill9(args, c, cl):
    """Sender kill: x goes a → b alone (c's window to b is closed meanwhile), b is not restarted:
    b's received-bytes counter counts x's bytes exactly. Receiver kill: y goes c → b once c's
    window opens (SIGHUP), c is not restarted: c's sent-bytes counter to b counts y's bytes."""
    cl.setup()
    a, b, cc = cl.node("a"), cl.node("b"), cl.node("c")
    closed = f"{hhmm(time.time() + 12 * 3600)}-{hhmm(time.time() + 12 * 3600 + 120)}"
    a.peer_overrides["b"] = {"max_mbps": args.max_mbps}
    cc.peer_overrides["b"] = {"max_mbps": args.max_mbps, "schedule": closed}
    cl.write_configs()
    cl.start()
    bigs = {n: cl.sipp(n, 1, 1, args.big_s * 1000, tag="big", codec="G722") for n in "ac"}
    c.check(H.wait_until(lambda: all(s.answered() for s in bigs.values()), 15),
            f"a big G.722 call ({args.big_s} s) answered on a and on c")
    b0 = b.metrics().get("callvault_replication_received_bytes_total")
    for s in bigs.values():
        s.wait(args.big_s + 30)

    def big_manifest(n):
        sip = next(iter(bigs[n].answered()), None)
        found = [lst[0][1] for lst in cl.node(n).manifests().values() if lst[0][1].get("sip_call_id") == sip]
        return found[0] if found else None
    mx, my = H.wait_until(lambda: big_manifest("a"), 30), H.wait_until(lambda: big_manifest("c"), 30)
    if not c.check(mx is not None and my is not None, "both big calls finalized"):
        return
    x, y = mx["call_id"], my["call_id"]
    size = {x: mx["audio"]["bytes"], y: my["audio"]["bytes"]}
    print(f"  x = {x} on a, {size[x]} bytes; y = {y} on c, {size[y]} bytes; max_mbps = {args.max_mbps}",
          flush=True)

    # Rate: how fast x's part grows on b.
    first = H.wait_until(lambda: b.part_files().get(x), 30, 0.05)
    t_first = time.time()
    hit = H.wait_until(lambda: b.part_files().get(x, 0) >= args.kill_at * size[x], 60, 0.05)
    if not c.check(first is not None and hit, "x is being sent to b"):
        return
    rate = (b.part_files().get(x, 0) - first) / max(0.001, time.time() - t_first)
    c.check(size[x] / max(rate, 1) >= 5, f"the transfer is slowed by max_mbps = {args.max_mbps} (≥ 5 s per file)",
            f"{rate / 1000:.0f} kB/s → {size[x] / max(rate, 1):.1f} s for {size[x]} bytes")

    # 1. The sender dies mid-file.
    a.kill9()
    p1 = b.part_files().get(x, 0)
    print(f"  kill -9 a (sender) with {p1} of {size[x]} bytes ({100 * p1 / size[x]:.0f} %) of x on b",
          flush=True)
    time.sleep(0.5)
    c.check(a.start(), "a restarted")
    got = H.wait_until(lambda: x in b.received_ids(), 90, 0.1)
    recv = b.metrics().get("callvault_replication_received_bytes_total") - b0
    c.check(bool(got) and recv <= 1.1 * size[x],
            "sender killed mid-file: the transfer resumed at b's offset (b received ≤ 1.1 × file)",
            f"b received {recv:.0f} bytes for a {size[x]}-byte file ({recv / size[x]:.3f}×)")
    c.check(not b.part_files(), "nothing else reached b meanwhile (no other part on b)", str(b.part_files()))

    # 2. The receiver dies mid-file: c's window to b opens (SIGHUP), y goes.
    cc.peer_overrides["b"] = {"max_mbps": args.max_mbps}
    cc.write_config()
    os.kill(cc.proc.pid, signal.SIGHUP)
    hit = H.wait_until(lambda: b.part_files().get(y, 0) >= args.kill_at * size[y], 60, 0.05)
    if not c.check(bool(hit), "after SIGHUP (window open) y is being sent from c to b"):
        return
    b.kill9()
    p2 = b.part_files().get(y, 0)
    print(f"  kill -9 b (receiver) with {p2} of {size[y]} bytes ({100 * p2 / size[y]:.0f} %) of y on b",
          flush=True)
    time.sleep(0.5)
    c.check(b.start(), "b restarted")
    got = H.wait_until(lambda: y in b.received_ids(), 90, 0.1)
    sent = cc.metrics().get("callvault_replication_sent_bytes_total", peer="b")
    c.check(bool(got) and sent <= 1.1 * size[y],
            "receiver killed mid-file: the transfer resumed at b's offset (c sent ≤ 1.1 × file)",
            f"c sent {sent:.0f} bytes for a {size[y]}-byte file ({sent / size[y]:.3f}×)")
    for cid, m in ((x, mx), (y, my)):
        lst = b.manifests().get(cid, [])
        ok = len(lst) == 1 and H.sha256_file(os.path.join(b.recordings, lst[0][1]["audio"]["file"])) == \
            m["audio"]["sha256"]
        c.check(ok, f"{cid} on b once, SHA-256 = the origin's manifest's")
    sips = bigs["a"].answered() | bigs["c"].answered()

    # 3. kill -9 cycles of random nodes under light load.
    rng = random.Random(args.seed)
    print(f"  {args.cycles} kill -9 cycles, seed {args.seed}", flush=True)
    light = [cl.sipp(n, 30, 1, 2000, limit=5, tag="light") for n in "abc"]
    time.sleep(2)
    for i in range(args.cycles):
        victim = rng.choice("abc")
        cl.node(victim).kill9()
        down = rng.uniform(0.3, 1.5)
        time.sleep(down)
        ok = cl.node(victim).start()
        print(f"  cycle {i + 1}: kill -9 {victim}, down {down:.1f} s, restarted={ok}", flush=True)
        if not c.check(ok, f"cycle {i + 1}: {victim} restarted"):
            return
        time.sleep(rng.uniform(0.5, 2.0))
    _, answered = wait_sipps(light, 90)
    print(f"  light load: {len(answered)} calls answered", flush=True)
    check_converged(c, cl, answered | sips, 150, "after the kill -9 cycles")


# --- window -----------------------------------------------------------------------------------
def window(args, c, cl):
    cl.setup()
    a, b, cc = cl.node("a"), cl.node("b"), cl.node("c")
    now = time.time()
    k = 2 if time.localtime(now).tm_sec <= 55 else 3
    open_t = (int(now) // 60 + k) * 60
    lo, hi = time.localtime(open_t), time.localtime(open_t + 1800)
    sched = f"{lo.tm_hour:02d}:{lo.tm_min:02d}-{hi.tm_hour:02d}:{hi.tm_min:02d}"
    a.peer_overrides["b"] = {"schedule": sched}
    cl.write_configs()
    cl.start()
    print(f"  a's peer b: schedule = \"{sched}\" (opens at {stamp(open_t)}, in {open_t - time.time():.0f} s)",
          flush=True)
    m = a.metrics()
    c.check(m.get("callvault_replication_window_open", -1, peer="b") == 0 and
            m.get("callvault_replication_window_open", -1, peer="c") == 1,
            "a: window_open{peer=b} = 0, {peer=c} = 1")
    load = cl.sipp("a", args.calls, 5, 2000, limit=20, tag="window")
    _, answered = wait_sipps([load], 60)
    c.check(len(answered) == args.calls, f"sipp: {args.calls} calls answered on a", str(len(answered)))
    ok = H.wait_until(lambda: len(cc.all_calls("node=a") or []) == len(answered), 30)
    c.check(bool(ok), "c (continuous) has every call before b's window opens",
            f"{time.time() - open_t:.0f} s relative to the opening")
    # Configuration ignores windows: a user made on a logs in on b while a's window to b is shut.
    t_user = time.time()
    code, _ = a.request("POST", "/api/v1/users", {"username": "wendy", "password": "wendy-pass-1", "role": "viewer"})
    took = wait_login(cl, "b", "wendy", "wendy-pass-1", 200, t_user, 20)
    print(f"  user wendy made on a at {stamp(t_user)} ({open_t - t_user:.0f} s before the opening): logs in "
          f"on b after {fmt_took(took, 'b')}", flush=True)
    c.check(code == 201 and took.get("b", 99) <= 10 and time.time() < open_t - 2,
            "a new user made on a logs in on b within 10 s while a's window to b is closed",
            f"POST {code}, {fmt_took(took, 'b')}")
    bad, n_samples, last = [], 0, None
    while time.time() < open_t - 2:
        ma, mb = a.metrics(), b.metrics()
        listed = len(b.all_calls("node=a") or [])
        last = {"b_recv_bytes": mb.get("callvault_replication_received_bytes_total"),
                "a_sent_b": ma.get("callvault_replication_sent_bytes_total", peer="b"),
                "window_open": ma.get("callvault_replication_window_open", peer="b"),
                "backlog": ma.get("callvault_outbox_backlog", queue="peer.b"), "b_lists": listed,
                "parts": len(b.part_files())}
        n_samples += 1
        if (last["b_recv_bytes"], last["a_sent_b"], last["window_open"], listed, last["parts"]) != (0, 0, 0, 0, 0) \
                or last["backlog"] != len(answered):
            bad.append(f"{stamp(time.time())}: {last}")
        time.sleep(min(2, max(0.01, open_t - 2 - time.time())))
    print(f"  before the opening ({n_samples} samples): last {last}", flush=True)
    c.check(n_samples >= 10 and not bad,
            "zero bytes reach b before the window opens (b received 0, a sent 0 to b, window_open 0, "
            "backlog = every call, nothing listed on b)", "; ".join(bad[:3]))

    took = cl.wait_converged(answered, max(10, open_t + 60 - time.time()))
    c.check(took is not None, "every call reaches b within 60 s of the opening",
            f"{time.time() - open_t:.1f} s after the opening")
    lines = re.findall(r"^\S+ \S+ event=replication\.call_received .*$", b.read_log(), re.M)
    times = sorted(log_time(line) for line in lines)
    c.check(len(lines) == len(answered) and times and times[0] >= open_t,
            "b received every call, all after the opening",
            f"{len(lines)} received, first {times[0] - open_t:+.1f} s, last {times[-1] - open_t:+.1f} s "
            "from the opening" if times else "none received")
    m = a.metrics()
    c.check(m.get("callvault_replication_window_open", peer="b") == 1, "a: window_open{peer=b} = 1 now")
    rep, problems = cl.convergence_report(answered)
    print(H.format_counts(rep), flush=True)
    c.check(not problems, "every call on every node exactly once, SHA-256 = manifest's", "; ".join(problems[:8]))


# --- delete -----------------------------------------------------------------------------------
def call_files(node, cid):
    """The manifest and audio paths of call `cid` in node's recordings dir."""
    out = []
    for p, m in node.manifests().get(cid, []):
        out += [p, os.path.join(node.recordings, m["audio"]["file"])]
    return out


def wait_gone(cl, cid, files, names, t0, timeout):
    """{node: seconds after t0 when GET /api/v1/calls/<cid> said 404 and none of files[node] was
    left} for the nodes of `names` that got there within `timeout`."""
    took = {}
    while len(took) < len(names) and time.time() - t0 < timeout:
        for n in names:
            if n in took:
                continue
            code, _ = cl.node(n).get(f"/api/v1/calls/{cid}")
            if code == 404 and not any(os.path.exists(f) for f in files[n]):
                took[n] = time.time() - t0
        time.sleep(0.1)
    return took


def still_there(cl, n, cid, files):
    code, _ = cl.node(n).get(f"/api/v1/calls/{cid}")
    return code == 200 and bool(files[n]) and all(os.path.exists(f) for f in files[n])


def delete(args, c, cl):
    cl.setup()
    cl.start()
    b = cl.node("b")
    sipps = [cl.sipp(n, 3, 3, 1000, tag="del") for n in "abc"]
    _, answered = wait_sipps(sipps, 60)
    c.check(len(answered) == 9, "sipp: 9 calls answered (3 on each of a, b, c)", str(len(answered)))
    took, rep = check_converged(c, cl, answered, 60, f"{len(answered)} calls")
    if took is None:
        return
    by_origin = {}
    for x in cl.node("a").all_calls() or []:
        by_origin.setdefault(x["node"], []).append(x)
    x, y = by_origin["a"][0], by_origin["c"][0]
    mans = cl.node("a").manifests()
    deleted_sip = {mans[x["id"]][0][1]["sip_call_id"], mans[y["id"]][0][1]["sip_call_id"]}

    # 1. Deleted on b (not its origin, a): gone everywhere.
    files = {n: call_files(cl.node(n), x["id"]) for n in cl.names}
    c.check(all(files[n] for n in cl.names), f"call {x['id']} (recorded on a) has its files on a, b, c")
    t0 = time.time()
    code, body = b.request("DELETE", f"/api/v1/calls/{x['id']}")
    c.check(code == 204, f"DELETE /api/v1/calls/{x['id']} on b → 204", f"{code} {body}")
    gone = wait_gone(cl, x["id"], files, cl.names, t0, 20)
    print("  deleted on b: gone (API 404, audio + manifest removed) after " +
          ", ".join(f"{n} {gone[n]:.2f} s" if n in gone else f"{n} not within 20 s" for n in cl.names),
          flush=True)
    for n in cl.names:
        c.check(gone.get(n, 99) <= 10, f"{n}: the call deleted on b is 404 and its files are gone within 10 s",
                f"{gone[n]:.2f} s" if n in gone else "still there after 20 s")

    # 2. Deleted on a while c is cut off: c purges its own recording after the heal.
    files = {n: call_files(cl.node(n), y["id"]) for n in cl.names}
    cl.partition("c")
    # 4 s in: every node's change feed has tried c (every 2 s) since the cut, so b's pull of a
    # comes after a pull of c that no longer answers.
    time.sleep(4)
    t0 = time.time()
    code, body = cl.node("a").request("DELETE", f"/api/v1/calls/{y['id']}")
    c.check(code == 204, f"c cut off 4 s ago; DELETE /api/v1/calls/{y['id']} (recorded on c) on a → 204",
            f"{code} {body}")
    gone = wait_gone(cl, y["id"], files, "ab", t0, 15)
    print("  deleted on a during the partition: gone after " +
          ", ".join(f"{n} {gone[n]:.2f} s" if n in gone else f"{n} not within 15 s" for n in "ab"), flush=True)
    c.check(all(gone.get(n, 99) <= 10 for n in "ab"),
            "a and b (reachable): gone within 10 s during the partition",
            ", ".join(f"{n} {gone[n]:.2f} s" if n in gone else f"{n} not within 15 s" for n in "ab"))
    time.sleep(max(0, t0 + 6 - time.time()))  # c would have pulled it twice by now if it could
    c.check(still_there(cl, "c", y["id"], files), "c (cut off) still has the call and its files 6 s later")
    cl.heal("c")
    t_heal = time.time()
    gone = wait_gone(cl, y["id"], files, "c", t_heal, 60)
    print(f"  deleted on a during the partition: gone on c {gone['c']:.2f} s after the heal" if gone
          else "  deleted on a during the partition: still on c 60 s after the heal", flush=True)
    c.check(gone.get("c", 99) <= 30, "c: the call deleted during the partition is gone (404, files) within "
            "30 s of the heal", f"{gone['c']:.2f} s" if gone else "still there after 60 s")

    # The rest is untouched and converged; the deleted calls stay deleted.
    rest = answered - deleted_sip
    check_converged(c, cl, rest, 60, "the 7 other calls")
    left = {n: [cid for cid in (x["id"], y["id"]) if cid in cl.node(n).manifests() or
                cl.node(n).get(f"/api/v1/calls/{cid}")[0] != 404] for n in cl.names}
    c.check(not any(left.values()), "neither deleted call came back on any node (API, manifests)", str(left))


# --- users ------------------------------------------------------------------------------------
def users(args, c, cl):
    cl.setup()
    cl.start()
    a, b, cc = cl.node("a"), cl.node("b"), cl.node("c")

    # 1. Made on a, logs in on b and c.
    t0 = time.time()
    code, body = a.request("POST", "/api/v1/users",
                           {"username": "alice", "password": "alice-pass-1", "role": "viewer"})
    c.check(code == 201, "POST /api/v1/users alice (viewer) on a → 201", f"{code} {body}")
    took = wait_login(cl, "abc", "alice", "alice-pass-1", 200, t0, 20)
    print(f"  alice (made on a) logs in (GET /api/v1/me, Basic) after {fmt_took(took, 'abc')}", flush=True)
    for n in "bc":
        c.check(took.get(n, 99) <= 10, f"{n}: a user made on a logs in within 10 s", fmt_took(took, n))
    code, me = b.request("GET", "/api/v1/me", auth=("alice", "alice-pass-1"))
    c.check(code == 200 and isinstance(me, dict) and (me.get("user") or {}).get("username") == "alice"
            and me.get("auth") == "basic", "b: /api/v1/me says alice, auth basic", str(me))

    # 2. Password changed on b: the old one fails everywhere (every node has it cached: it logged
    # in just above), the new one works.
    t0 = time.time()
    code, body = b.request("PATCH", "/api/v1/users/alice", {"password": "alice-pass-2"})
    c.check(code == 200, "PATCH /api/v1/users/alice {password} on b → 200", f"{code} {body}")
    old = wait_login(cl, "abc", "alice", "alice-pass-1", 401, t0, 20)
    new = wait_login(cl, "abc", "alice", "alice-pass-2", 200, t0, 20)
    print(f"  password changed on b: old one 401 after {fmt_took(old, 'abc')}; new one 200 after "
          f"{fmt_took(new, 'abc')}", flush=True)
    for n in "abc":
        c.check(old.get(n, 99) <= 10 and new.get(n, 99) <= 10,
                f"{n}: the old password fails (401) and the new one works within 10 s",
                f"old {fmt_took(old, n)}, new {fmt_took(new, n)}")
    relapse = [n for n in "abc" if cl.node(n).request("GET", "/api/v1/me", auth=("alice", "alice-pass-1"))[0] != 401]
    c.check(not relapse, "…and the old password still fails on every node afterwards", str(relapse))

    # 3. Conflicting edits while c is cut off: alice edited on a then on c, bob on c then on a.
    code, _ = cc.request("POST", "/api/v1/users", {"username": "bob", "password": "bob-pass-1", "role": "viewer"})
    c.check(code == 201 and bool(wait_login(cl, "ab", "bob", "bob-pass-1", 200, time.time(), 15)),
            "bob made on c logs in on a and b")
    cl.partition("c")
    print(f"  {stamp(time.time())} c cut off", flush=True)
    edits = [("alice", a, {"role": "supervisor"}), ("alice", cc, {"role": "viewer", "disabled": False}),
             ("bob", cc, {"role": "supervisor"}), ("bob", a, {"role": "viewer", "disabled": True})]
    ok = True
    for user, node, body in edits:
        time.sleep(1.0)  # an order any clock tells apart
        code, got = node.request("PATCH", f"/api/v1/users/{user}", body)
        ok = ok and code == 200
        print(f"  {stamp(time.time())} {node.name}: PATCH {user} {json.dumps(body)} → {code}", flush=True)
    c.check(ok, "the four conflicting edits were accepted on both sides of the partition")
    t_last = time.time()
    agree = H.wait_until(lambda: (lambda t: t["a"] is not None and t["a"] == t["b"])(
        {n: user_table(cl.node(n)) for n in "ab"}), 10, 0.2)
    tables = {n: user_table(cl.node(n)) for n in "abc"}
    c.check(bool(agree) and tables["a"] == tables["b"] and tables["a"] != tables["c"],
            "during the partition a and b agree (within 10 s of the last edit) and c differs",
            f"{time.time() - t_last:.1f} s: {json.dumps(tables)}")
    cl.heal("c")
    t_heal = time.time()
    same = H.wait_until(lambda: (lambda t: t["a"] is not None and t["a"] == t["b"] == t["c"])(
        {n: user_table(cl.node(n)) for n in "abc"}), 30, 0.2)
    took = time.time() - t_heal
    tables = {n: user_table(cl.node(n)) for n in "abc"}
    print(f"  after the heal ({took:.1f} s): " + "; ".join(f"{n}: {tables[n]}" for n in "abc"), flush=True)
    c.check(bool(same), "after the heal a, b and c list identical users (username, role, tenant, disabled)",
            f"{took:.1f} s after the heal")
    t = {u[0]: u for u in tables["a"] or []}
    alice = t.get("alice", (None,) * 4)
    c.check(alice[1] == "viewer" and alice[3] is False, "alice: c's later edit won (role viewer) — last writer wins",
            str(t.get("alice")))
    bob = t.get("bob", (None,) * 4)
    c.check(bob[1] == "viewer" and bob[3] is True, "bob: a's later edit won (role viewer, disabled) — last writer wins",
            str(t.get("bob")))
    # The winner decides logins too: bob is disabled everywhere.
    refused = [n for n in "abc" if cl.node(n).request("GET", "/api/v1/me", auth=("bob", "bob-pass-1"))[0] == 401]
    c.check(refused == list("abc"), "bob (disabled by the winning edit) is refused on a, b and c", str(refused))


# --- bigfile ----------------------------------------------------------------------------------
def uuid7():
    """A UUIDv7 string for now (as bench/replication_bench.py makes them)."""
    return str(uuid.UUID(int=(int(time.time() * 1000) << 80) | (0x7 << 76) | (2 << 62) |
                        int.from_bytes(os.urandom(8), "big") >> 2))


def make_big_recording(node, template, size, work):
    """A `size`-byte 16 kHz stereo PCM16 WAV made with sox (a 60 s two-tone clip repeated and cut
    to the byte) in node's recordings dir under bigfile/, with a manifest cloned from `template`
    (a real call's): new call id and SIP Call-ID, the audio's name, size, SHA-256 and duration.
    Returns (manifest, audio path)."""
    samples = (size - 44) // 4  # 44-byte RIFF header, 4 bytes per stereo frame
    clip = os.path.join(work, "clip.wav")
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "2", "-b", "16", "-e", "signed-integer", clip,
                    "synth", "60", "sine", "300", "sine", "500", "vol", "0.3"], check=True)
    cid = uuid7()
    rel = f"bigfile/{cid[:8]}_big.wav"
    path = os.path.join(node.recordings, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    subprocess.run(["sox", clip, path, "repeat", str(samples // 960000 + 1), "trim", "0", f"{samples}s"],
                   check=True)
    os.remove(clip)
    m = json.loads(json.dumps(template))
    m["call_id"] = cid
    m["sip_call_id"] = f"bigfile-{cid}"
    dur = samples * 1000 // 16000
    m["audio"].update({"file": rel, "format": "wav", "encoding": "pcm_s16le", "sample_rate": 16000,
                       "channels": 2, "duration_ms": dur, "bytes": os.path.getsize(path),
                       "sha256": H.sha256_file(path)})
    m["times"]["duration_ms"] = dur
    with open(path + ".json", "w") as f:
        json.dump(m, f)
    subprocess.run(["sync"], check=True)
    return m, path


def bigfile(args, c, cl):
    cl.setup()
    cl.start()
    a, b = cl.node("a"), cl.node("b")
    tpl = cl.sipp("a", 1, 1, 1000, tag="tpl")
    _, answered = wait_sipps([tpl], 30)
    took, _ = check_converged(c, cl, answered, 30, "the template call")
    if took is None:
        return
    template = next(iter(a.manifests().values()))[0][1]
    t0 = time.time()
    m, path = make_big_recording(a, template, args.big_mib << 20, cl.work)
    cid, size = m["call_id"], m["audio"]["bytes"]
    print(f"  {path}: {size} bytes ({size / 2**30:.2f} GiB, {m['audio']['duration_ms'] / 3.6e6:.2f} h of "
          f"16 kHz stereo), made with sox in {time.time() - t0:.1f} s, call {cid}", flush=True)
    c.check(size == args.big_mib << 20, f"a {args.big_mib} MiB recording in a's recordings dir", str(size))

    comm = {}
    for n in "ab":
        try:
            with open(f"/proc/{cl.node(n).proc.pid}/comm") as f:
                comm[n] = f.read().strip()
        except OSError:
            comm[n] = None
    c.check(all(v == "callvault" for v in comm.values()), "the sampled pids are the servers themselves", str(comm))
    base = {}
    for n in "ab":
        xs = []
        for _ in range(10):
            xs.append(cl.node(n).rss_bytes() or 0)
            time.sleep(0.1)
        base[n] = max(xs)
    r = a.cli("cluster", "backfill", "b")
    t_q = time.time()
    print(f"  backfill: {r.stdout.strip()}{r.stderr.strip()}", flush=True)
    c.check(r.returncode == 0 and "queued 2 " in r.stdout,
            "`callvault cluster backfill b` on a queued its recordings (the big one and the template call)",
            r.stdout.strip())
    peak = dict(base)
    started = None
    while time.time() - t_q < args.big_timeout:
        for n in "ab":
            peak[n] = max(peak[n], cl.node(n).rss_bytes() or 0)
        if started is None and b.part_files().get(cid):
            started = time.time() - t_q
        if cid in b.manifests():
            break
        time.sleep(0.1)
    took = time.time() - t_q
    for _ in range(20):  # the catalog ingest and the sender's clean-up that follow
        for n in "ab":
            peak[n] = max(peak[n], cl.node(n).rss_bytes() or 0)
        time.sleep(0.1)
    got = b.manifests().get(cid, [])
    c.check(len(got) == 1, f"the big recording reached b within {args.big_timeout} s",
            f"{took:.1f} s after the backfill ({size / max(took, 0.001) / 1e6:.0f} MB/s), first bytes "
            f"after {started if started is None else round(started, 1)} s")
    if got:
        t_h = time.time()
        digest = H.sha256_file(os.path.join(b.recordings, got[0][1]["audio"]["file"]))
        c.check(digest == m["audio"]["sha256"] and got[0][1]["audio"]["sha256"] == m["audio"]["sha256"],
                "b's copy: SHA-256 = a's manifest's (and b's manifest says so)",
                f"{digest[:16]}… hashed in {time.time() - t_h:.1f} s")
    for n in "ab":
        growth = peak[n] - base[n]
        print(f"  {n}: VmRSS {base[n] / 2**20:.1f} MiB before, peak {peak[n] / 2**20:.1f} MiB during the "
              f"transfer: +{growth / 2**20:.1f} MiB", flush=True)
        if os.environ.get("CALLVAULT_SANITIZED") == "1":
            # ASan keeps freed memory in its quarantine (256 MiB): RSS says nothing here; the
            # release build checks the bound.
            print(f"  {n}: RSS bound not checked under AddressSanitizer", flush=True)
            continue
        c.check(growth < 64 << 20, f"{n}: RSS growth during the {size >> 20} MiB transfer < 64 MiB",
                f"+{growth / 2**20:.1f} MiB")
    ok = H.wait_until(lambda: cl.node("b").get(f"/api/v1/calls/{cid}")[0] == 200, 20)
    c.check(bool(ok), "b's API lists the big call (its catalog ingested the replicated manifest)")
    mt = a.metrics()
    c.check(mt is not None and mt.get("callvault_outbox_backlog", queue="peer.b") == 0,
            "a's peer.b queue is empty again")
    for p in [path] + [os.path.join(b.recordings, x[1]["audio"]["file"]) for x in got]:
        try:
            os.remove(p)  # 1 GiB each: not kept, even with --keep
        except OSError:
            pass


# --- srv-failover -----------------------------------------------------------------------------
DOMAIN = "rec.cv.test"
SRV_NAME = "_sip._udp." + DOMAIN
SRV_RECORDS = (("a", 10, 100), ("b", 20, 70), ("c", 20, 30))


def probe_options(src, host, pred, t0, timeout, interval=0.05):
    """OPTIONS to `host` every `interval` until pred(response): (seconds after t0, response), or
    (None, last response) after `timeout`."""
    r = None
    while time.time() - t0 < timeout:
        r = src.options(host, timeout=0.3)
        if pred(r):
            return time.time() - t0, r
        time.sleep(interval)
    return None, r


def describe(r):
    if r is None:
        return "no answer"
    return f"{r.code} Retry-After={r.header('Retry-After')} Warning={r.header('Warning')}"


def check_split(c, recs, what):
    """200 calls went to b and c only, b:c = 70:30 ± 10 % (of the calls)."""
    sp = {SRC.short(k): v for k, v in SRC.split(recs).items()}
    first = {SRC.short(k): v for k, v in SRC.first_tries(recs).items()}
    nb, nc = sp.get("b", 0), sp.get("c", 0)
    share = nb / max(1, nb + nc)
    print(f"  {what}: {len(recs)} calls answered by {sp}; first INVITE to {first}; b's share "
          f"{100 * share:.1f} %", flush=True)
    c.check(nb + nc == len(recs), f"{what}: all {len(recs)} calls answered by b or c (none by a, none lost)",
            str(sp))
    c.check(0.6 <= share <= 0.8, f"{what}: b/c split 70/30 ± 10 %", f"{nb}/{nc} = {100 * share:.1f} % on b")


def srv_failover(args, c, cl):
    if SRC.import_dns() is None:
        c.check(False, "python3-dnspython is installed (scripts/install-deps.sh)")
        return
    a_mnt = {}

    def prepare(cl):
        a = cl.node("a")
        os.makedirs(a.data, exist_ok=True)
        H.run(["mount", "-t", "tmpfs", "-o", f"size={args.tmpfs_mib}m,mode=0700", "cv-test-tmpfs", a.data])
        a_mnt["path"] = a.data

        def umount_a_data():
            H.run(["umount", a_mnt["path"]], check=False)
        cl.on_close(umount_a_data)
        a.http_extra["min_free_disk_mb"] = args.min_free_mib
    cl.setup(prepare)
    cl.start()
    a = cl.node("a")
    net = cl.net
    dns = H.Dnsmasq(net, net.bridge_ns, cl.work,
                    srv=[(SRV_NAME, f"{n}.{DOMAIN}", H.SIP_PORT, prio, w) for n, prio, w in SRV_RECORDS],
                    hosts=[(f"{n}.{DOMAIN}", net.addr[n]) for n in cl.names])
    dns.start()
    cl.on_close(dns.stop)
    src = SRC.SrvSrc(SRV_NAME, ("127.0.0.1", 53), net.host_addr, seed=args.seed,
                     enter=lambda: H._enter_netns(net.bridge_ns))
    cl.on_close(src.stop)
    src.start()
    got = sorted((SRC.short(t.host), t.addr, t.port, t.priority, t.weight) for t in src.targets)
    want = sorted((n, net.addr[n], H.SIP_PORT, prio, w) for n, prio, w in SRV_RECORDS)
    print(f"  dnsmasq on 127.0.0.1:53 in {net.bridge_ns}: {SRV_NAME} → {src.targets}; SRC seed {args.seed}",
          flush=True)
    c.check(got == want, "the SRC resolves the SRV records with dnspython (a 10/100, b 20/70, c 20/30)", str(got))
    c.check(H.wait_until(lambda: all(t.up for t in src.targets), 5), "OPTIONS: a, b and c answer 200")
    recs = src.run_calls(20, parallel=4)
    sp = {SRC.short(k): v for k, v in SRC.split(recs).items()}
    c.check(sp == {"a": 20}, "20 calls with everything up: all to a (priority 10)", str(sp))
    sips = {r["sip_call_id"] for r in recs if r["target"]}

    # 1. a drained through the API.
    t0 = time.time()
    code, body = a.request("PUT", "/api/v1/node/drain", {"draining": True})
    c.check(code == 200 and isinstance(body, dict) and body.get("draining") is True,
            "PUT /api/v1/node/drain {draining: true} on a → 200", f"{code} {body}")
    took, r = probe_options(src, f"a.{DOMAIN}", lambda r: r is not None and r.code == 503, t0, 5)
    print(f"  drained: a answers OPTIONS {describe(r)} after {took if took is None else round(took, 3)} s", flush=True)
    c.check(took is not None and took <= 1.0, "drained: a answers OPTIONS with 503 within 1 s",
            f"{took:.3f} s" if took is not None else describe(r))
    c.check(r is not None and bool(r.header("Retry-After")) and "sip_accepting" in (r.header("Warning") or ""),
            "…with Retry-After and a Warning naming sip_accepting", describe(r))
    code, _ = a.get("/readyz?role=recorder")
    c.check(code == 503, "drained: a's /readyz?role=recorder → 503", str(code))
    recs = src.run_calls(200, parallel=8)
    check_split(c, recs, "a drained")
    sips |= {r["sip_call_id"] for r in recs if r["target"]}
    a.request("PUT", "/api/v1/node/drain", {"draining": False})
    c.check(H.wait_until(lambda: src.target(f"a.{DOMAIN}").up, 5), "undrained: the SRC sees a answer 200 again")
    recs = src.run_calls(10, parallel=2)
    sp = {SRC.short(k): v for k, v in SRC.split(recs).items()}
    c.check(sp == {"a": 10}, "undrained: calls go to a again", str(sp))
    sips |= {r["sip_call_id"] for r in recs if r["target"]}

    # 2. a's data dir (a tmpfs) filled up.
    st = os.statvfs(a.data)
    free = st.f_bavail * st.f_frsize
    filler = os.path.join(a.data, "filler")
    fill = free - (args.min_free_mib // 2 << 20)
    with open(filler, "wb") as f:
        f.truncate(0)
        os.posix_fallocate(f.fileno(), 0, fill)
    t0 = time.time()
    st = os.statvfs(a.data)
    left = st.f_bavail * st.f_frsize
    print(f"  a's data dir: tmpfs of {args.tmpfs_mib} MiB, {free >> 20} MiB were free, filler of {fill >> 20} "
          f"MiB → {left >> 20} MiB free (http.min_free_disk_mb = {args.min_free_mib})", flush=True)
    took, r = probe_options(src, f"a.{DOMAIN}", lambda r: r is not None and r.code == 503, t0, 5)
    print(f"  disk full: a answers OPTIONS {describe(r)} after {took if took is None else round(took, 3)} s",
          flush=True)
    c.check(took is not None and took <= 1.0, "disk full: a answers OPTIONS with 503 within 1 s",
            f"{took:.3f} s" if took is not None else describe(r))
    c.check(r is not None and "disk_space" in (r.header("Warning") or "") and bool(r.header("Retry-After")),
            "…with Retry-After and a Warning naming disk_space", describe(r))
    recs = src.run_calls(200, parallel=8)
    check_split(c, recs, "a's disk full")
    sips |= {r["sip_call_id"] for r in recs if r["target"]}
    os.remove(filler)
    t0 = time.time()
    took, r = probe_options(src, f"a.{DOMAIN}", lambda r: r is not None and r.code == 200, t0, 5)
    c.check(took is not None and took <= 1.0, "disk freed: a answers OPTIONS with 200 within 1 s",
            f"{took:.3f} s" if took is not None else describe(r))
    H.wait_until(lambda: src.target(f"a.{DOMAIN}").up, 5)

    # 3. kill -9 of a under load (--rate calls/s): calls move; a restarted: they come back.
    src.start_load(args.rate)
    time.sleep(3)
    t_kill = a.kill9()
    print(f"  {stamp(t_kill)} kill -9 a ({args.rate:g} calls/s)", flush=True)
    time.sleep(8)
    t_restart = time.time()
    up = a.start()
    t_up = time.time()
    print(f"  {stamp(t_restart)} a restarting; SIP and HTTP up {t_up - t_restart:.1f} s later", flush=True)
    time.sleep(4)
    recs = src.stop_load()
    sips |= {r["sip_call_id"] for r in recs if r["target"]}
    on = lambda r, nodes: SRC.short(r["target"]) in nodes  # noqa: E731
    before = [r for r in recs if r["t_answered"] and r["t_answered"] < t_kill]
    moved = sorted(r["t_answered"] - t_kill for r in recs
                   if r["t_answered"] and r["t_answered"] >= t_kill and on(r, "bc"))
    down = [r for r in recs if t_kill + 3 <= r["t0"] < t_restart]
    lost = [r for r in recs if r["target"] is None]
    cut = [r for r in before if r["bye"] is None]
    print(f"  kill -9: {len(before)} calls answered by a before it ({len(cut)} of them cut: BYE unanswered); "
          f"first call answered by b/c {moved[0] if moved else float('nan'):.2f} s after the kill; calls "
          f"started from 3 s after it until the restart: {len(down)} → "
          f"{ {SRC.short(k): v for k, v in SRC.split(down).items()} }; unanswered: {len(lost)}", flush=True)
    c.check(bool(before) and all(on(r, "a") for r in before), "before the kill the calls went to a",
            str(SRC.split(before)))
    c.check(bool(moved) and moved[0] <= 3.0, "kill -9 a: calls answered by b/c within 3 s",
            f"first {moved[0]:.2f} s after the kill" if moved else "none")
    c.check(len(down) >= 10 and all(on(r, "bc") for r in down),
            "every call started from 3 s after the kill until the restart was answered by b or c",
            str(SRC.split(down)))
    c.check(not lost, "no call went unanswered (the SRC tried the next target on timeout)",
            str([[(SRC.short(h), code) for h, code, _ in r["attempts"]] for r in lost][:5]))

    c.check(up, "a restarted (undrained, disk freed)")
    back = sorted(r["t_answered"] for r in recs if r["t_answered"] and r["t_answered"] >= t_restart and on(r, "a"))
    after = [r for r in recs if back and r["t0"] > back[0]]
    print(f"  a restarted: first call answered by a {back[0] - t_up if back else float('nan'):+.2f} s from SIP/HTTP "
          f"up; calls after it: { {SRC.short(k): v for k, v in SRC.split(after).items()} }", flush=True)
    c.check(bool(back) and back[0] - t_up <= 3.0, "a restarted: calls return to a within 3 s of it being up",
            f"{back[0] - t_up:+.2f} s" if back else "none")
    c.check(len(after) >= 5 and all(on(r, "a") for r in after), "…and every call after that goes to a",
            str(SRC.split(after)))

    # Every answered call is on every node (those cut by the kill as partial).
    check_converged(c, cl, sips, 90, f"{len(sips)} SRC calls")


# --- web-failover -----------------------------------------------------------------------------
WEB_NAME = "web.cv.test"


class WebChecker:
    """The test's health checker: every `interval` s polls /readyz?role=web on each node (in the
    order given) and points WEB_NAME at the first that answers 200 (the dnsmasq hosts file
    rewritten + SIGHUP), as a health-checked DNS record would. `moves`: [(t, node or None)]."""

    def __init__(self, cl, dns, order="abc", interval=1.0):
        self.cl, self.dns, self.order, self.interval = cl, dns, order, interval
        self.current = None
        self.moves = []
        self.polls = []  # [(t, {node: code})]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join(10)

    def _run(self):
        while not self.stopping.is_set():
            t0 = time.time()
            codes = {n: self.cl.node(n).get("/readyz?role=web", timeout=0.8)[0] for n in self.order}
            self.polls.append((t0, codes))
            best = next((n for n in self.order if codes[n] == 200), None)
            if best != self.current:
                self.dns.write_hosts([(self.cl.net.addr[best], WEB_NAME)] if best else [])
                self.current = best
                self.moves.append((time.time(), best))
            self.stopping.wait(max(0.0, self.interval - (time.time() - t0)))


def web_failover(args, c, cl):
    if SRC.import_dns() is None:
        c.check(False, "python3-dnspython is installed (scripts/install-deps.sh)")
        return
    pg = {}

    def prepare(cl):
        a = cl.node("a")
        pg["a"] = H.Postgres(cl.net, a.ns, cl.work)
        cl.on_close(pg["a"].close)
        pg["a"].init()
        a.catalog_url = pg["a"].url()
        for node in cl.nodes.values():
            node.http_host = "0.0.0.0"  # the web name's clients come from outside the namespace
    cl.setup(prepare)
    cl.start()
    a, b = cl.node("a"), cl.node("b")
    net = cl.net
    dns = H.Dnsmasq(net, net.bridge_ns, cl.work, addn_hosts=os.path.join(cl.work, "web.hosts"))
    dns.start()
    cl.on_close(dns.stop)
    checker = WebChecker(cl, dns)
    cl.on_close(checker.stop)
    checker.start()
    server = ("127.0.0.1", 53)

    def resolve():
        return H.in_netns(net.bridge_ns, SRC.lookup_a, server, WEB_NAME, timeout=10)

    def name_on(n):
        return resolve() == [net.addr[n]]

    def client_get(path):
        """GET http://web.cv.test:8080<path> from the test host, as a browser would."""
        def get():
            addrs = SRC.lookup_a(server, WEB_NAME)
            if not addrs:
                return None, 0
            try:
                with urllib.request.urlopen(f"http://{addrs[0]}:{H.HTTP_PORT}{path}", timeout=3) as r:
                    return addrs[0], r.status
            except urllib.error.HTTPError as e:
                return addrs[0], e.code
            except OSError:
                return addrs[0], 0
        return H.in_netns(net.bridge_ns, get, timeout=10)

    c.check(H.wait_until(lambda: name_on("a"), 10), f"{WEB_NAME} points at a (the first healthy node)",
            str(resolve()))
    addr, code = client_get("/readyz?role=web")
    c.check(addr == net.addr["a"] and code == 200, f"a client resolving {WEB_NAME} gets 200 from a's /readyz?role=web",
            f"{addr} {code}")
    # A warm-up call on a, so that its catalog and its peers have something before the outage.
    warm = cl.sipp("a", 2, 2, 1000, tag="warm")
    _, warm_ids = wait_sipps([warm], 30)
    check_converged(c, cl, warm_ids, 30, "warm-up")

    # 1. a's PostgreSQL stops: the web name moves to b, a still records.
    t0 = time.time()
    pg["a"].stop()
    print(f"  {stamp(t0)} a's PostgreSQL stopped", flush=True)
    moved = H.wait_until(lambda: name_on("b"), 10, 0.1)
    took = time.time() - t0
    c.check(bool(moved) and took <= 5, f"a's database down: {WEB_NAME} moves to b within 5 s", f"{took:.1f} s")
    codes = {role: a.get(f"/readyz?role={role}")[0] for role in ("web", "recorder")}
    c.check(codes == {"web": 503, "recorder": 200}, "a: /readyz?role=web 503, /readyz?role=recorder 200", str(codes))
    addr, code = client_get("/api/v1/me")
    c.check(addr == net.addr["b"] and code == 401, f"a client resolving {WEB_NAME} now reaches b (401 without "
            "credentials: b's API answers)", f"{addr} {code}")
    nodb = cl.sipp("a", 3, 3, 2000, tag="nodb")
    rec_codes = []
    while nodb.proc.poll() is None:
        rec_codes.append(a.get("/readyz?role=recorder", timeout=2)[0])
        time.sleep(0.5)
    _, nodb_ids = wait_sipps([nodb], 30)
    c.check(len(nodb_ids) == 3, "sipp: 3 calls answered by a while its database is down", str(len(nodb_ids)))
    c.check(rec_codes and all(x == 200 for x in rec_codes), "a's /readyz?role=recorder stayed 200 meanwhile",
            str(sorted(set(rec_codes))))

    def on_a_disk():
        return {m.get("sip_call_id"): cid for cid, lst in a.manifests().items() for _, m in lst}
    ok = H.wait_until(lambda: nodb_ids <= set(on_a_disk()), 20)
    c.check(bool(ok), "…and recorded on a (manifests written) with its database down")
    ids = [cid for sip, cid in on_a_disk().items() if sip in nodb_ids]
    code, _ = a.get("/api/v1/calls?limit=1")
    early = sum(b.get(f"/api/v1/calls/{cid}")[0] == 200 for cid in ids)
    print(f"  database down: a's /api/v1/calls → {code}; b already lists {early} of the {len(ids)} calls "
          "(replication needs no database)", flush=True)
    c.check(name_on("b"), f"{WEB_NAME} still points at b")

    # 2. PostgreSQL back: the name returns to a, the calls are everywhere.
    t1 = time.time()
    pg["a"].start()
    back = H.wait_until(lambda: name_on("a"), 15, 0.1)
    print(f"  {stamp(t1)} a's PostgreSQL started; {WEB_NAME} back on a after {time.time() - t1:.1f} s", flush=True)
    c.check(bool(back), f"database back: {WEB_NAME} points at a again (the first healthy node)")
    ok = H.wait_until(lambda: all(cl.node(n).get(f"/api/v1/calls/{cid}")[0] == 200 for n in "ab" for cid in ids), 30)
    c.check(bool(ok) and len(ids) == 3, "the calls a recorded without its database are in a's and b's API",
            f"{time.time() - t1:.1f} s after the database returned")
    check_converged(c, cl, warm_ids | nodb_ids, 60, "after the outage")

    # 3. a drained (SIP 503): the web name stays on a.
    t2 = time.time()
    code, _ = a.request("PUT", "/api/v1/node/drain", {"draining": True})
    r = None
    while time.time() - t2 < 1.0 and (r is None or r.code != 503):
        r = H.in_netns(net.bridge_ns, SRC.options_once, net.host_addr, net.addr["a"], H.SIP_PORT, timeout=10)
        time.sleep(0.05)
    time.sleep(max(0, t2 + 5 - time.time()))
    moves = [(round(t - t2, 1), n) for t, n in checker.moves if t >= t2]
    codes = {role: a.get(f"/readyz?role={role}")[0] for role in ("web", "recorder")}
    print(f"  a drained: OPTIONS → {describe(r)}; readyz {codes}; web name moves in 5 s: {moves}", flush=True)
    c.check(code == 200 and r is not None and r.code == 503, "a drained: SIP OPTIONS → 503 within 1 s", describe(r))
    c.check(codes == {"web": 200, "recorder": 503}, "a drained: /readyz?role=web 200, role=recorder 503", str(codes))
    c.check(not moves and name_on("a"), f"a drained: {WEB_NAME} stays on a (5 s of health checks)", str(moves))
    a.request("PUT", "/api/v1/node/drain", {"draining": False})
    print(f"  web name history: {[(stamp(t), n) for t, n in checker.moves]}", flush=True)


# --- shared bucket -----------------------------------------------------------------------------
def api_sha(node, manifest):
    """SHA-256 of the call's audio as the node's API serves it (from the bucket once moved)."""
    code, body = node.get_raw(f"/api/v1/calls/{manifest['call_id']}/audio", timeout=30)
    return hashlib.sha256(body).hexdigest() if code == 200 else None


def shared_bucket(args, c, cl):
    """a and b move their audio to one S3 bucket and send each other manifests alone; c keeps
    audio on its disk and gets it from both."""
    if not H.S3Bucket.available():
        c.check(False, "Node 20 and s3rver are installed (npm ci --prefix tests)")
        return
    box = {}

    def prepare(cl):
        net = cl.net
        box["s3"] = H.S3Bucket(net, net.bridge_ns, net.host_addr, cl.work)
        box["s3"].start()
        cl.on_close(box["s3"].stop)
        for n, other in (("a", "b"), ("b", "a")):
            node = cl.node(n)
            node.extra_text = box["s3"].config(f"rec/{n}/")
            node.peer_overrides[other] = {"shared_bucket": True}
            node.sha_of = api_sha
    cl.setup(prepare)
    cl.start()
    s3 = box["s3"]
    a, b, cc = cl.node("a"), cl.node("b"), cl.node("c")
    sipps = [cl.sipp(n, args.calls, 5, 3000, limit=20, tag="shared") for n in "ab"]
    rcs, answered = wait_sipps(sipps, 120)
    c.check(all(rc == 0 for rc in rcs) and len(answered) == 2 * args.calls,
            f"sipp: {args.calls} calls answered on a and on b", f"rc={rcs} answered={len(answered)}")
    took, rep = check_converged(c, cl, answered, 120, f"{len(answered)} calls")
    if took is None:
        return

    # The bucket holds each call once, under its origin's prefix.
    objects = s3.objects()
    by_prefix = {n: sum(1 for k in objects if k.startswith(f"rec/{n}/")) for n in "ab"}
    print(f"  bucket: {len(objects)} objects ({by_prefix})", flush=True)
    c.check(len(objects) == len(answered) and by_prefix == {"a": args.calls, "b": args.calls},
            f"the bucket holds {len(answered)} objects: each call once, under its origin's prefix",
            f"{len(objects)} objects, {by_prefix}")

    # Between a and b not one audio byte; c got every call's audio from its origin.
    ma, mb, mc = a.metrics(), b.metrics(), cc.metrics()
    sent = {(n, p): m.get("callvault_replication_sent_bytes_total", peer=p)
            for n, m in (("a", ma), ("b", mb)) for p in ("a", "b", "c") if p != n}
    calls_sent = {(n, p): m.get("callvault_replication_sent_calls_total", peer=p)
                  for n, m in (("a", ma), ("b", mb)) for p in ("a", "b", "c") if p != n}
    recv = {n: m.get("callvault_replication_received_bytes_total") for n, m in (("a", ma), ("b", mb))}
    print(f"  audio bytes sent {sent}; calls sent {calls_sent}; received by a/b {recv}", flush=True)
    c.check(sent[("a", "b")] == 0 and sent[("b", "a")] == 0 and recv == {"a": 0, "b": 0} and
            calls_sent[("a", "b")] == args.calls and calls_sent[("b", "a")] == args.calls,
            f"a ↔ b: {args.calls} calls each way as manifests alone, 0 audio bytes",
            f"sent={sent} calls={calls_sent} received={recv}")
    c.check(sent[("a", "c")] > 0 and sent[("b", "c")] > 0 and calls_sent[("a", "c")] == args.calls and
            calls_sent[("b", "c")] == args.calls,
            "c (no shared bucket) got the audio from a and from b",
            f"sent={sent} calls={calls_sent}")

    # On b, a's calls have a manifest naming the object and no local audio; the API serves the
    # object (SHA-256 checked for every call on a and b by the convergence report above).
    mans = b.manifests()
    from_a = [m for lst in mans.values() for _, m in lst if m.get("node_id") == "a"]
    bad = [m["call_id"] for m in from_a
           if not str(m["audio"].get("location", "")).startswith(f"s3://{s3.BUCKET}/rec/a/")
           or os.path.exists(os.path.join(b.recordings, m["audio"]["file"]))]
    c.check(len(from_a) == args.calls and not bad,
            f"b: a's {args.calls} calls are manifests naming the object in the bucket, no audio file",
            f"{len(from_a)} from a, {len(bad)} wrong: {bad[:3]}")
    local = [m["call_id"] for lst in a.manifests().values() for _, m in lst
             if os.path.exists(os.path.join(a.recordings, m["audio"]["file"]))]
    c.check(not local, "a: no audio left on disk (all moved to the bucket)", f"{len(local)} files left")
    code, detail = b.get(f"/api/v1/calls/{from_a[0]['call_id']}") if from_a else (0, {})
    loc = (detail.get("location") or detail.get("storage") or {}) if isinstance(detail, dict) else {}
    print(f"  b's API for a's call {from_a[0]['call_id'] if from_a else '-'}: location {loc}", flush=True)

    # Deleted on b: the object goes from the bucket, the call from a, b and c.
    x = from_a[0]
    t0 = time.time()
    code, body = b.request("DELETE", f"/api/v1/calls/{x['call_id']}")
    c.check(code == 204, f"DELETE /api/v1/calls/{x['call_id']} (recorded on a) on b → 204", f"{code} {body}")
    key = x["audio"]["location"].split("/", 3)[3]

    def gone():
        return (key not in s3.objects() and
                all(cl.node(n).get(f"/api/v1/calls/{x['call_id']}")[0] == 404 for n in cl.names))
    ok = H.wait_until(gone, 20, 0.2)
    print(f"  deleted on b: object and API entries gone after {time.time() - t0:.2f} s" if ok
          else "  deleted on b: still there after 20 s", flush=True)
    c.check(bool(ok) and time.time() - t0 <= 15,
            "the call deleted on b: its object is gone from the bucket and it is 404 on a, b, c",
            f"object there: {key in s3.objects()}")


MODES = {"converge": (converge, 240), "partition": (partition, 300), "kill9": (kill9, 330),
         "window": (window, 270), "delete": (delete, 150), "users": (users, 150),
         "bigfile": (bigfile, 210), "srv-failover": (srv_failover, 210), "web-failover": (web_failover, 210),
         "shared-bucket": (shared_bucket, 210)}


class HardTimeout(Exception):
    pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=sorted(MODES))
    ap.add_argument("--bin", required=True)
    ap.add_argument("--calls", type=int)
    ap.add_argument("--partition-s", type=float, default=60)
    ap.add_argument("--big-s", type=int, default=65)
    ap.add_argument("--max-mbps", type=int, default=3)
    ap.add_argument("--kill-at", type=float, default=0.45)
    ap.add_argument("--cycles", type=int, default=10)
    ap.add_argument("--big-mib", type=int, default=1024)
    ap.add_argument("--tmpfs-mib", type=int, default=160)
    ap.add_argument("--min-free-mib", type=int, default=32)
    ap.add_argument("--rate", type=float, default=5)
    ap.add_argument("--big-timeout", type=int, default=150)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--timeout", type=int, help="hard limit of the whole run, seconds")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    fn, hard = MODES[args.mode]
    if args.calls is None:
        args.calls = 300 if args.mode == "converge" else 20
    if args.seed is None:
        args.seed = random.randrange(1 << 30)
    tools = ("ip", "openssl", "sipp", "sox") + (
        ("iptables",) if args.mode in ("partition", "delete", "users") else ()) + (
        ("dnsmasq",) if args.mode in ("srv-failover", "web-failover") else ())
    missing = [t for t in tools if shutil.which(t) is None]
    if missing or os.geteuid() != 0:
        print(f"needs root and {', '.join(missing) or 'its tools'} (Debian packages iproute2, iptables, "
              f"openssl, sip-tester, sox, dnsmasq-base)\n0 passed, 1 failed", flush=True)
        return 1
    c = S.Checks()
    work = S.make_workdir(f"cv-cluster-{args.mode}-")
    t0 = time.time()

    def on_alarm(signum, frame):
        raise HardTimeout(f"hard timeout of {args.timeout or hard} s")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, lambda s, f: (_ for _ in ()).throw(HardTimeout("SIGTERM")))
    signal.alarm(args.timeout or hard)
    cl = None
    try:
        cl = H.Cluster(args.bin, work)
        fn(args, c, cl)
    except Exception as e:  # a broken fixture or a timeout is a failure, not a crash without a summary
        c.check(False, "test ran", repr(e))
    finally:
        signal.alarm(0)
        if cl is not None:
            cl.close()
    print(f"  {args.mode}: {time.time() - t0:.0f} s", flush=True)
    rc = c.summary()
    S.cleanup_workdir(work, rc != 0 or args.keep)
    return rc


if __name__ == "__main__":
    sys.exit(main())
