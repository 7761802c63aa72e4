#!/usr/bin/env python3
"""Impairments and alignment: one SIPREC call against `callvault serve` on loopback.

Usage: impairments_test.py --bin build/<preset>/src/app/callvault [--keep]

The SRC (this script) offers two sendonly m-lines (label 1 PCMA 600 Hz, label 2 PCMU 1000 Hz)
and sends paced 20 ms packets; both streams carry a 4 ms full-scale click at t = 10 s and at
t = 51 s (after the hold). Timeline (k = 20 ms tick from the first packet):
  k 0..899      media (18 s); SSRC change on stream B at k = 750 (15 s, new random seq/ts base)
  k 900..2399   hold: re-INVITE a=inactive, no RTP for 30 s, re-INVITE a=sendonly
  k 2400..2699  media (6 s); A's timestamps kept running through the hold, B's did not
  then BYE.
Injected impairments (packet k = the packet of tick k):
  A: drops 100, 250, 400-404 (burst), 2600          → lost 8, gaps at those ticks
     150 sent after 151, 300 after 301, 350 after 353 → reordered 3
     600 sent after 615 (300 ms late)                → reordered +1 = 4, late 1
     duplicates: 200 and 450 twice back to back, 700 again after 702 → duplicates 3
  B: drops 120, 600-609 (burst), 800, 2620          → lost 13
     700 sent after 701, 2500 after 2501             → reordered 2
     duplicates: 330, 760 twice back to back         → duplicates 2
Reordering is always a delay (a packet is never sent before its time: the timeline estimates
network delay by the minimum of arrival − timestamp, so an early packet would shift the audio).
"Reordered" is what docs/formats/manifest.md and src/recording/stream_timeline.cc count: a
packet whose sequence number is lower than the highest already received from its SSRC, not a
duplicate (a packet sent after the next one counts 1, one sent d places late counts 1). A
duplicate that arrives behind counts only as a duplicate. Positions are checked against the
nominal send time t0 + k × 20 ms (the sender's lateness is printed).
Checks: manifest counters equal the injection; gaps at the injected positions (±1 packet) with
their lengths; SSRCs listed; `paused` ≈ the 30 s hold; WAV duration = media wall duration ±1 %;
the hold is silence of its real length on both channels; clicks at the same sample on both
channels ±20 ms (and where they were sent); the tones on the right channels.
"""
import argparse
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import siprec_src as S  # noqa: E402

TICK_NS = 20_000_000
RATE = 8000
SPP = 160  # samples per packet
PHASE1 = range(0, 900)
PHASE2 = range(2400, 2700)
HOLD_START_K, HOLD_END_K = 900, 2400
CLICKS = (500, 2550)
SSRC_CHANGE_K = 750


class StreamPlan:
    def __init__(self, name, label, codec, pt, freq, ts_runs_in_hold):
        self.name, self.label, self.codec, self.pt, self.freq = name, label, codec, pt, freq
        self.ts_runs_in_hold = ts_runs_in_hold
        self.drops = set()
        self.delays = []         # (k, d): k sent right after k+d
        self.dups = []           # k sent twice at its tick
        self.late_dups = []      # (k, d): k sent again after k+d
        self.ssrc_change_k = None
        self.expected = {}

    def schedule(self):
        """{tick: [packet k, ...]} in send order."""
        ticks = list(PHASE1) + list(PHASE2)
        sched = {t: [t] for t in ticks}
        for k in self.drops:
            sched[k].remove(k)
        for k, d in self.delays:
            sched[k].remove(k)
            sched[k + d].append(k)
        for k in self.dups:
            sched[k].append(k)
        for k, d in self.late_dups:
            sched[k + d].append(k)
        return sched


def build_streams(rng):
    a = StreamPlan("A", "1", "PCMA", 8, 600.0, ts_runs_in_hold=True)
    a.drops = {100, 250, 400, 401, 402, 403, 404, 2600}
    a.delays = [(150, 1), (300, 1), (350, 3), (600, 15)]
    a.dups = [200, 450]
    a.late_dups = [(700, 2)]
    a.expected = dict(lost=8, duplicates=3, reordered=4, late=1,
                      gaps=[(100, 1), (250, 1), (400, 5), (2600, 1)])
    b = StreamPlan("B", "2", "PCMU", 0, 1000.0, ts_runs_in_hold=False)
    b.drops = {120, 800, 2620} | set(range(600, 610))
    b.delays = [(700, 1), (2500, 1)]
    b.dups = [330, 760]
    b.ssrc_change_k = SSRC_CHANGE_K
    b.expected = dict(lost=13, duplicates=2, reordered=2, late=0,
                      gaps=[(120, 1), (600, 10), (800, 1), (2620, 1)])
    for s in (a, b):
        s.ssrcs = [rng.getrandbits(32)]
        s.seq0 = [rng.getrandbits(16)]
        s.ts0 = [rng.getrandbits(32)]
        if s.ssrc_change_k is not None:
            s.ssrcs.append(rng.getrandbits(32) | 1)
            s.seq0.append(rng.getrandbits(16))
            s.ts0.append(rng.getrandbits(32))
    return a, b


def packets_for(s):
    """{k: bytes} for every tick of both phases."""
    out = {}
    hold_ticks = HOLD_END_K - HOLD_START_K
    for k in list(PHASE1) + list(PHASE2):
        epoch = 1 if s.ssrc_change_k is not None and k >= s.ssrc_change_k else 0
        k0 = s.ssrc_change_k if epoch else 0
        n = k - k0 - (hold_ticks if k >= HOLD_END_K else 0)  # packets sent in this epoch before
        seq = s.seq0[epoch] + n
        ts_n = n + (hold_ticks if (k >= HOLD_END_K and s.ts_runs_in_hold) else 0)
        ts = s.ts0[epoch] + ts_n * SPP
        samples = S.tone_samples(s.freq, k * SPP, SPP)
        if k in CLICKS:
            samples[:32] = [32000.0] * 32
        marker = k == 0 or k == s.ssrc_change_k or k == HOLD_END_K
        out[k] = S.rtp_packet(s.pt, seq, ts, s.ssrcs[epoch], S.encode(s.codec, samples), marker)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--seed", type=int, default=7866)
    args = ap.parse_args()
    c = S.Checks()
    rng = random.Random(args.seed)
    work = S.make_workdir("cv-rtp-impair-")
    data = os.path.join(work, "data")
    lo, hi = S.free_port_range(40)
    srv = S.Server(args.bin, work, S.base_config(data, lo, hi, rtp_timeout_s=5))
    try:
        if not c.check(srv.start(), "server started", f"SIP UDP port {srv.sip_port}"):
            return c.summary()
        a, b = build_streams(rng)
        streams = [a, b]
        pk = [packets_for(s) for s in streams]
        scheds = [s.schedule() for s in streams]
        socks = []
        for s in streams:
            so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            so.bind(("127.0.0.1", 0))
            socks.append(so)
        media = [dict(port=so.getsockname()[1], pt=s.pt, codec=s.codec, label=s.label)
                 for s, so in zip(streams, socks)]

        uac = S.Uac(srv.sip_port)
        dlg = uac.new_dialog(f"impair-{rng.getrandbits(40):x}@127.0.0.1")
        r = uac.invite([(dlg, media)]).get(dlg.call_id)
        if not c.check(r is not None and r.code == 200, "INVITE answered 200",
                       r.text.split("\r\n")[0] if r else "no answer"):
            return c.summary()
        addr, mlines = S.parse_answer_ports(r.body)
        c.check(addr == "127.0.0.1" and len(mlines) == 2 and all(d == "recvonly" for _, d in mlines),
                "answer: 2 recvonly m-lines on 127.0.0.1", f"c={addr} m={mlines}")
        dests = [(addr, p) for p, _ in mlines]

        # Media, hold, media.
        sends = [dict(), dict()]  # k -> [send ns, ...]
        sent_count = [0, 0]
        t0 = time.time_ns() + 50_000_000
        pause_ns = resume_ns = None
        ticks = list(PHASE1) + list(PHASE2)
        for tick in ticks:
            if tick == HOLD_END_K:
                # resume: re-INVITE a=sendonly 50 ms before the first packet after the hold
                S.sleep_until(t0 + tick * TICK_NS - 50_000_000)
                rr = uac.reinvite(dlg, media, "sendonly")
                resume_ns = time.time_ns()
                c.check(rr is not None and rr.code == 200 and "a=recvonly" in rr.body,
                        "re-INVITE a=sendonly answered 200 recvonly",
                        rr.text.split("\r\n")[0] if rr else "no answer")
            S.sleep_until(t0 + tick * TICK_NS)
            for i in range(2):
                for k in scheds[i][tick]:
                    socks[i].sendto(pk[i][k], dests[i])
                    sends[i].setdefault(k, []).append(time.time_ns())
                    sent_count[i] += 1
            if tick == HOLD_START_K - 1:
                S.sleep_until(t0 + HOLD_START_K * TICK_NS)
                rr = uac.reinvite(dlg, media, "inactive")
                pause_ns = time.time_ns()
                c.check(rr is not None and rr.code == 200 and "a=inactive" in rr.body,
                        "re-INVITE a=inactive answered 200 inactive",
                        rr.text.split("\r\n")[0] if rr else "no answer")
        def nominal(k):
            return t0 + k * TICK_NS

        lateness = [min(v) - nominal(k) for sd in sends for k, v in sd.items()
                    if all(k not in (kk, kk + d) for kk, d in streams[0].delays + streams[1].delays)]
        lateness.sort()
        print(f"sender lateness vs nominal tick: median {lateness[len(lateness) // 2] / 1e6:.2f} ms, "
              f"p99 {lateness[int(len(lateness) * 0.99)] / 1e6:.2f} ms, max {lateness[-1] / 1e6:.2f} ms")
        last_send = max(max(v) for sd in sends for v in sd.values())
        first_send = min(min(v) for sd in sends for v in sd.values())
        S.sleep_until(last_send + TICK_NS)
        rb = uac.bye([dlg]).get(dlg.call_id)
        c.check(rb is not None and rb.code == 200, "BYE answered 200")
        c.check(not any(t.startswith("BYE ") for t in uac.stray), "server sent no BYE (no RTP timeout)",
                "; ".join(t.split("\r\n")[0] for t in uac.stray))

        mpath, m = S.wait_manifest(os.path.join(data, "recordings"), dlg.call_id, timeout=60)
        if not c.check(m is not None, "manifest written", mpath or ""):
            return c.summary()
        print(f"manifest: {mpath}")
        c.check(m["state"] == "completed" and m["end_reason"] == "bye", "state completed, end_reason bye",
                f"{m['state']}/{m['end_reason']}")
        started_ns = S.parse_rfc3339_ns(m["audio"]["started"])
        ms = {st["label"]: st for st in m["streams"]}

        def wall_ms(ns):
            return (ns - started_ns) / 1e6

        for i, s in enumerate(streams):
            st = ms.get(s.label)
            if not c.check(st is not None, f"{s.name}: stream label {s.label} in manifest"):
                continue
            c.check(st["codec"] == s.codec and st["payload_type"] == s.pt and st["channel"] == i,
                    f"{s.name}: codec {s.codec}, pt {s.pt}, channel {i}",
                    f"{st['codec']} pt {st['payload_type']} channel {st['channel']}")
            c.check(st["packets"] == sent_count[i], f"{s.name}: packets = sent datagrams",
                    f"manifest {st['packets']} sent {sent_count[i]}")
            for key in ("lost", "duplicates", "reordered", "late"):
                c.check(st[key] == s.expected[key], f"{s.name}: {key} = injected",
                        f"manifest {st[key]} injected {s.expected[key]}")
            for key in ("bad", "auth_failed", "unknown_payload", "receiver_drops"):
                c.check(st[key] == 0, f"{s.name}: {key} = 0", f"manifest {st[key]}")
            want_ssrcs = [f"0x{x:08x}" for x in s.ssrcs]
            c.check([x.lower() for x in st["ssrcs"]] == want_ssrcs, f"{s.name}: ssrcs listed in order",
                    f"manifest {st['ssrcs']} sent {want_ssrcs}")
            # Gaps: at the nominal time of the first missing packet.
            gaps = st.get("gaps", [])
            exp = [(wall_ms(nominal(k)), n * 20) for k, n in s.expected["gaps"]]
            detail = (f"manifest {[(g['at_ms'], g['duration_ms']) for g in gaps]} "
                      f"expected {[(round(x), d) for x, d in exp]}")
            ok = len(gaps) == len(exp) and all(
                abs(g["at_ms"] - x) <= 20.5 and abs(g["duration_ms"] - d) <= 1 for g, (x, d) in zip(gaps, exp))
            c.check(ok, f"{s.name}: gaps at the injected positions (±1 packet) and lengths", detail)
            # Paused interval ≈ the hold (between our re-INVITEs).
            paused = st.get("paused", [])
            want_at, want_len = wall_ms(pause_ns), (resume_ns - pause_ns) / 1e6
            ok = len(paused) == 1 and abs(paused[0]["at_ms"] - want_at) <= 100 and \
                abs(paused[0]["duration_ms"] - want_len) <= 100
            c.check(ok, f"{s.name}: paused ≈ hold", f"manifest {paused} expected at {want_at:.0f} "
                    f"duration {want_len:.0f} ms")

        # The audio file.
        wav = os.path.join(data, "recordings", m["audio"]["file"])
        rate, ch = S.read_wav(wav)
        c.check(rate == 8000 and len(ch) == 2 and m["audio"]["sample_rate"] == 8000,
                "WAV 8000 Hz stereo", f"{rate} Hz {len(ch)} ch")
        dur_s = len(ch[0]) / rate
        media_s = (last_send + TICK_NS - first_send) / 1e9
        c.check(abs(dur_s - media_s) <= 0.01 * media_s, "WAV duration = media wall duration ±1 %",
                f"WAV {dur_s:.3f} s media {media_s:.3f} s "
                f"(lead-in before the first packet {wall_ms(first_send):.0f} ms)")
        c.check(abs(m["audio"]["duration_ms"] - dur_s * 1000) <= 1, "audio.duration_ms = WAV length",
                f"{m['audio']['duration_ms']} vs {dur_s * 1000:.1f}")

        def idx(ns):
            return int(round((ns - started_ns) / 1e9 * rate))

        # Hold: silence from the end of packet 899 to the start of packet 2400, on both channels.
        hold_from = nominal(HOLD_START_K)
        hold_to = nominal(HOLD_END_K)
        want = (hold_to - hold_from) / 1e9
        for i, s in enumerate(streams):
            lo_i, hi_i = S.silent_run(ch[i], idx((hold_from + hold_to) // 2), 200)
            got = (hi_i - lo_i) / rate
            c.check(abs(got - want) <= 0.06 and abs(lo_i - idx(hold_from)) <= 0.03 * rate,
                    f"{s.name}: hold is silence of its real length (channel {i})",
                    f"silence {got:.3f} s from {lo_i / rate:.3f} s; hold {want:.3f} s from "
                    f"{idx(hold_from) / rate:.3f} s")

        # Clicks.
        for k in CLICKS:
            pos = []
            for i, s in enumerate(streams):
                e = idx(nominal(k))
                p = S.first_above(ch[i], 20000, e - rate // 2, e + rate // 2)
                pos.append(p)
                c.check(p is not None and abs(p - e) <= 0.02 * rate,
                        f"{s.name}: click of packet {k} where it was sent (±20 ms)",
                        f"at {p / rate:.4f} s, sent at {e / rate:.4f} s, offset "
                        f"{(p - e) / rate * 1000:+.1f} ms" if p is not None else "no click found")
            if None not in pos:
                d_ms = (pos[1] - pos[0]) / rate * 1000
                c.check(abs(d_ms) <= 20, f"click of t={k * 20 / 1000:.0f} s: same position on both "
                        f"channels ±20 ms", f"right − left = {d_ms:+.2f} ms")

        # The late packet (A 600, arrived 300 ms after its time) is recorded in its own slot:
        # the tone is there, and it is not added to the audio 300 ms later (no doubled level).
        beg = idx(nominal(600))
        slot = ch[0][beg:beg + SPP]
        after = ch[0][beg + SPP:beg + SPP + rate // 2]
        c.check(S.rms(slot) > 5000 and max(abs(x) for x in after) < 9000,
                "A: late packet 600 placed in its own slot (tone there, nothing added later)",
                f"rms in its slot {S.rms(slot):.0f} (tone 5650), peak in the next 500 ms "
                f"{max(abs(x) for x in after)} (tone 8064) at "
                f"{(beg + SPP + max(range(len(after)), key=lambda j: abs(after[j]))) / rate:.3f} s")

        # Tones on the right channels (1 s windows: start, after the SSRC change, after the hold).
        for k in (275, 800 + 5, 2450):
            beg = idx(nominal(k))
            for i, s in enumerate(streams):
                seg = ch[i][beg:beg + rate]
                other = streams[1 - i].freq
                p_own, p_other = (S.goertzel_power(seg, f, rate) for f in (s.freq, other))
                c.check(p_own > 100 * max(p_other, 1e-9) and S.rms(seg) > 2000,
                        f"{s.name}: {s.freq:.0f} Hz tone on channel {i} at {beg / rate:.1f} s",
                        f"power {s.freq:.0f} Hz / {other:.0f} Hz = {p_own / max(p_other, 1e-9):.0f}, "
                        f"rms {S.rms(seg):.0f}")
        c.check(srv.alive(), "server still running")
    finally:
        srv.stop()
    rc = c.summary()
    S.cleanup_workdir(work, rc != 0 or args.keep)
    return rc


if __name__ == "__main__":
    sys.exit(main())
