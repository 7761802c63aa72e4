#!/usr/bin/env python3
"""kill -9 during 50 active calls: the spool holds the audio up to the kill, and a restart
turns every call into exactly one `partial` recording (DESIGN.md rule 4).

Usage: kill9_test.py --bin build/<preset>/src/app/callvault [--calls 50] [--seconds 5] [--keep]

1. `callvault serve` (default spool_flush_ms / spool_sync_ms) gets 50 SIPREC INVITEs (2 sendonly
   m-lines each: PCMA 600 Hz, PCMU 1000 Hz); once all are answered, one loop sends paced 20 ms
   packets on all 100 streams from non-blocking sockets, recording the send time of every packet.
2. After ~5 s: `kill -9`, the send loop stops.
3. The spool is read directly (docs/formats/spool.md: one `media.spool` per call, header
   `CVSPOOL\\0` v2; 20-byte record headers with slot and CRC-32C, streams declared by kind-4
   records): for every call and stream, the last spooled RTP packet must have been
   sent ≤ 1 s before the kill (worst case printed), and the spool holds every packet up to it
   (no hole) with a clean tail.
4. Restart on the same data dir: every call becomes exactly one recording with state `partial`
   (end_reason `crash`), audio.duration_ms ≥ (kill − first packet sent) − 1 s, the tones up to
   its end; no duplicates; the spool is empty.
"""
import argparse
import json
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import siprec_src as S  # noqa: E402

TICK_NS = 20_000_000
STREAMS = [dict(label="1", codec="PCMA", pt=8, freq=600.0), dict(label="2", codec="PCMU", pt=0, freq=1000.0)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--seed", type=int, default=9)
    args = ap.parse_args()
    c = S.Checks()
    rng = random.Random(args.seed)
    test_deadline = time.time() + 115
    work = S.make_workdir("cv-rtp-kill9-")
    data = os.path.join(work, "data")
    spool = os.path.join(data, "spool")
    n = args.calls
    lo, hi = S.free_port_range(4 * n + 40)
    srv = S.Server(args.bin, work, S.base_config(data, lo, hi, rtp_timeout_s=20))
    try:
        if not c.check(srv.start(), "server started", f"SIP UDP port {srv.sip_port}, RTP {lo}-{hi}"):
            return c.summary()

        # Sockets and per-stream RTP state.
        calls = []
        for i in range(n):
            call = dict(id=f"kill9-{i:02d}-{rng.getrandbits(32):08x}@127.0.0.1", streams=[])
            for s in STREAMS:
                so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                so.bind(("127.0.0.1", 0))
                so.setblocking(False)
                call["streams"].append(dict(sock=so, ssrc=rng.getrandbits(32), seq0=rng.getrandbits(16),
                                            ts0=rng.getrandbits(32), sends=[], dest=None, **s))
            calls.append(call)
        payload = {s["label"]: S.encode(s["codec"], S.tone_samples(s["freq"], 0, 160)) for s in STREAMS}

        uac = S.Uac(srv.sip_port)
        invites = []
        for call in calls:
            d = uac.new_dialog(call["id"])
            call["dlg"] = d
            media = [dict(port=st["sock"].getsockname()[1], pt=st["pt"], codec=st["codec"], label=st["label"])
                     for st in call["streams"]]
            invites.append((d, media))
        t_inv = time.time()
        finals = uac.invite(invites, timeout=30)
        answered = 0
        for call in calls:
            r = finals.get(call["id"])
            if r is None or r.code != 200:
                continue
            addr, ml = S.parse_answer_ports(r.body)
            if len(ml) != 2:
                continue
            for st, (port, _) in zip(call["streams"], ml):
                st["dest"] = (addr, port)
            answered += 1
        if not c.check(answered == n, f"{n} INVITEs answered 200 with 2 m-lines",
                       f"{answered} answered in {time.time() - t_inv:.2f} s"):
            return c.summary()

        # One paced loop for all streams until the kill.
        all_streams = [st for call in calls for st in call["streams"]]
        t0 = time.time_ns() + 100_000_000
        ticks = int(args.seconds * 50)
        send_errors = 0
        for k in range(ticks):
            S.sleep_until(t0 + k * TICK_NS)
            for st in all_streams:
                pkt = S.rtp_packet(st["pt"], st["seq0"] + k, st["ts0"] + 160 * k, st["ssrc"], payload[st["label"]],
                                   marker=k == 0)
                try:
                    st["sock"].sendto(pkt, st["dest"])
                    st["sends"].append(time.time_ns())
                except BlockingIOError:
                    send_errors += 1
                    st["sends"].append(None)
        S.sleep_until(t0 + ticks * TICK_NS - TICK_NS // 2)
        kill_ns = srv.kill9()
        uac.drain(0.0)
        late = sorted(st["sends"][k] - (t0 + k * TICK_NS) for st in all_streams for k in range(ticks)
                      if st["sends"][k] is not None)
        print(f"sent {ticks} packets per stream on {len(all_streams)} streams; sender lateness median "
              f"{late[len(late) // 2] / 1e6:.2f} ms, max {late[-1] / 1e6:.2f} ms; kill -9 "
              f"{(kill_ns - t0) / 1e9:.3f} s after the first packet")
        c.check(send_errors == 0, "every packet left the sender", f"{send_errors} EAGAIN")

        # The spool, read directly.
        by_sip = {}
        for cid in sorted(os.listdir(spool)):
            try:
                with open(os.path.join(spool, cid, "session.jsonl")) as f:
                    lines = [json.loads(l) for l in f if l.endswith("\n")]
            except (OSError, ValueError) as e:
                print(f"  {cid}: unreadable session log: {e}")
                continue
            start = next((l for l in lines if l.get("t") == "start"), {})
            by_sip[start.get("sip_call_id")] = (cid, lines)
        c.check(all(call["id"] in by_sip for call in calls) and len(by_sip) == n,
                f"spool holds one directory per call ({n})", f"{len(by_sip)} directories")
        worst = (-1, None)
        problems = []
        spooled_last = {}
        for call in calls:
            if call["id"] not in by_sip:
                continue
            cid, lines = by_sip[call["id"]]
            call["cid"] = cid
            if any(l.get("t") == "end" for l in lines):
                problems.append(f"{cid}: session log has an end line")
            ids = {l["index"]: l["stream"] for l in lines if l.get("t") == "stream"}
            try:
                by_stream, ignored = S.read_call_spool(os.path.join(spool, cid, "media.spool"))
            except (OSError, ValueError) as e:
                problems.append(f"{cid}: {e}")
                continue
            for idx, st in enumerate(call["streams"]):
                recs = by_stream.get(ids.get(idx, f"s{idx}"), [])
                seqs = [int.from_bytes(p[2:4], "big") for kind, _, _, p in recs if kind == 1 and len(p) >= 12]
                ks = [(q - st["seq0"]) & 0xFFFF for q in seqs]
                if ignored:
                    problems.append(f"{cid}/{idx}: {ignored} bytes of torn tail")
                if not ks:
                    problems.append(f"{cid}/{idx}: no RTP spooled")
                    age = kill_ns - st["sends"][0]
                else:
                    if ks != list(range(len(ks))):
                        problems.append(f"{cid}/{idx}: spooled packets are not 0..{len(ks) - 1} in order")
                    age = kill_ns - st["sends"][ks[-1]]
                    spooled_last[(cid, idx)] = ks[-1]
                if age > worst[0]:
                    worst = (age, f"{cid} stream {idx} (last spooled packet {ks[-1] if ks else None} of "
                             f"{ticks})")
                if age > 1_000_000_000:
                    problems.append(f"{cid}/{idx}: last spooled packet sent {age / 1e6:.0f} ms before the kill")
        ages = sorted(kill_ns - call["streams"][i]["sends"][spooled_last[(call.get('cid'), i)]]
                      for call in calls for i in range(2) if (call.get("cid"), i) in spooled_last)
        if ages:
            print(f"last spooled packet age at the kill: best {ages[0] / 1e6:.0f} ms, median "
                  f"{ages[len(ages) // 2] / 1e6:.0f} ms, worst {ages[-1] / 1e6:.0f} ms")
        c.check(not problems and len(spooled_last) == 2 * n,
                "every stream's spool holds its packets up to ≤ 1 s before the kill (clean tail, no hole)",
                f"worst {worst[0] / 1e6:.0f} ms: {worst[1]}" + ("; " + "; ".join(problems[:10]) if problems else ""))

        # Restart: crash recovery.
        if not c.check(srv.start(), "server restarted on the same data dir", f"SIP UDP port {srv.sip_port}"):
            return c.summary()
        c.check(srv.wait_log(r"event=finalize\.recovery .*unfinished=" + str(n) + r"\b", 1, timeout=20),
                f"recovery queued {n} unfinished spools",
                next((l for l in srv.read_log().splitlines() if "finalize.recovery" in l), "no finalize.recovery line"))
        done = srv.wait_log(r"event=finalize\.done ", n, timeout=max(5, test_deadline - time.time() - 10))
        time.sleep(0.5)
        mans = S.manifests(os.path.join(data, "recordings"))
        per_call = {}
        for p, m in mans:
            per_call.setdefault(m.get("sip_call_id"), []).append((p, m))
        partial = sum(1 for call in calls if len(per_call.get(call["id"], [])) == 1
                      and per_call[call["id"]][0][1].get("state") == "partial")
        dups = sum(max(0, len(v) - 1) for v in per_call.values())
        left = sorted(os.listdir(spool)) if os.path.isdir(spool) else []
        print(f"recordings: {len(mans)} manifests, {partial} partial of {n} calls, {dups} duplicated, "
              f"{len(left)} spool entries left")
        c.check(done, f"{n} finalize.done lines after the restart")
        c.check(partial == n and len(mans) == n, f"every call is exactly one `partial` recording ({n})",
                f"{partial} partial, {len(mans)} manifests")
        c.check(dups == 0, "no call recorded twice", f"{dups} duplicates")
        c.check(not left, "spool emptied", ", ".join(left[:5]))
        short = []
        bad_state = []
        no_tone = []
        for call in calls:
            v = per_call.get(call["id"], [])
            if len(v) != 1:
                continue
            p, m = v[0]
            if m.get("end_reason") != "crash" or m.get("call_id") != call.get("cid"):
                bad_state.append(f"{call['id']}: end_reason {m.get('end_reason')} call_id {m.get('call_id')}")
            first = min(st["sends"][0] for st in call["streams"])
            want = (kill_ns - first) / 1e6 - 1000
            if m["audio"]["duration_ms"] < want:
                short.append(f"{m['call_id']}: {m['audio']['duration_ms']} ms < {want:.0f} ms")
            # Tone on both channels in the last 0.5 s of audio before the last spooled packet.
            rate, ch = S.read_wav(os.path.join(data, "recordings", m["audio"]["file"]))
            started = S.parse_rfc3339_ns(m["audio"]["started"])
            for i, st in enumerate(call["streams"]):
                last_k = spooled_last.get((call.get("cid"), i))
                if last_k is None:
                    continue
                end_i = int((t0 + (last_k + 1) * TICK_NS - started) / 1e9 * rate)
                seg = ch[i][max(0, end_i - rate // 2):end_i - 80]
                if S.rms(seg) < 2000:
                    no_tone.append(f"{m['call_id']} ch{i}: rms {S.rms(seg):.0f} before {end_i / rate:.2f} s")
        c.check(not bad_state, "manifests: end_reason crash, call_id = spool directory", "; ".join(bad_state[:5]))
        c.check(not short, "every recording holds the audio up to the kill (duration ≥ sent − 1 s)",
                "; ".join(short[:5]))
        c.check(not no_tone, "both tones present up to the last spooled packet", "; ".join(no_tone[:5]))
        c.check(srv.alive(), "restarted server still running")
    finally:
        if srv.alive():
            srv.stop()
    rc = c.summary()
    S.cleanup_workdir(work, rc != 0 or args.keep)
    return rc


if __name__ == "__main__":
    sys.exit(main())
