#!/usr/bin/env python3
"""SRTP: SIPREC calls with RTP/SAVP + SDES keys (RFC 4568) against `callvault serve`.

Usage: srtp_test.py --bin build/<preset>/src/app/callvault --sender build/<preset>/tests/rtp/srtp_sender [--keep]

Call 1: both m-lines `RTP/SAVP` with `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:<key>` (label 1
PCMA 600 Hz, label 2 PCMU 1000 Hz); srtp_sender (libsrtp2) encrypts with the offered keys →
the answer is RTP/SAVP with a=crypto, the manifest shows both streams `srtp: true` with no
authentication failures and the packets sent, the WAV has each tone on its channel.
Call 2: the same, but the sender encrypts stream 2 with another key than the one offered →
per docs/formats/spool.md and manifest.md the packets are kept raw and flagged (not decodable):
the call is recorded (completed, BYE), stream 2 shows `auth_failed` = every packet sent, stream
1 is intact, channel 1 of the WAV is silent, and the server keeps running and answering.
"""
import argparse
import base64
import os
import random
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import siprec_src as S  # noqa: E402

SUITE = "AES_CM_128_HMAC_SHA1_80"
SECONDS = 3.0


def key(rng):
    return base64.b64encode(bytes(rng.getrandbits(8) for _ in range(30))).decode()


def run_call(c, srv, args, rng, name, wrong_key_on_stream2):
    streams = [dict(label="1", codec="PCMA", pt=8, freq=600.0), dict(label="2", codec="PCMU", pt=0, freq=1000.0)]
    for s in streams:
        s["key"] = key(rng)
        s["ssrc"] = rng.getrandbits(32)
        s["send_key"] = s["key"]
    if wrong_key_on_stream2:
        streams[1]["send_key"] = key(rng)
    media = [dict(port=30000 + 2 * i, pt=s["pt"], codec=s["codec"], label=s["label"], crypto=(SUITE, s["key"]))
             for i, s in enumerate(streams)]
    uac = S.Uac(srv.sip_port)
    dlg = uac.new_dialog(f"srtp-{name.split()[1]}-{rng.getrandbits(40):x}@127.0.0.1")
    r = uac.invite([(dlg, media)]).get(dlg.call_id)
    answered = time.monotonic()
    if not c.check(r is not None and r.code == 200, f"{name}: INVITE (RTP/SAVP, a=crypto) answered 200",
                   r.text.split("\r\n")[0] if r else "no answer"):
        return None
    addr, mlines = S.parse_answer_ports(r.body)
    msec = [l for l in r.body.split("\r\n") if l.startswith("m=")]
    cryptos = re.findall(r"a=crypto:\d+ (\S+) inline:", r.body)
    c.check(len(msec) == 2 and all(" RTP/SAVP " in l for l in msec) and cryptos == [SUITE, SUITE],
            f"{name}: answer has 2 RTP/SAVP m-lines with a=crypto {SUITE}", f"{msec} crypto {cryptos}")
    cmd = [args.sender, "--seconds", str(SECONDS)]
    for s, (port, _) in zip(streams, mlines):
        cmd += ["--stream", f"{addr}:{port},{s['pt']},{s['freq']},{s['ssrc']},{SUITE},inline:{s['send_key']}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS + 20)
    sent = [int(x) for x in re.findall(r"packets=(\d+)", out.stdout)]
    if not c.check(out.returncode == 0 and len(sent) == 2, f"{name}: srtp_sender sent both streams",
                   out.stdout.strip().replace("\n", "; ") + out.stderr.strip()):
        return None
    time.sleep(0.1)
    span_ms = (time.monotonic() - answered) * 1000  # answer to BYE, as the recorder saw it
    rb = uac.bye([dlg]).get(dlg.call_id)
    c.check(rb is not None and rb.code == 200, f"{name}: BYE answered 200")
    mpath, m = S.wait_manifest(os.path.join(srv.data, "recordings"), dlg.call_id, timeout=30)
    if not c.check(m is not None, f"{name}: manifest written", mpath or "none"):
        return None
    print(f"{name}: manifest {mpath}")
    c.check(m["state"] == "completed" and m["end_reason"] == "bye", f"{name}: state completed, end_reason bye",
            f"{m['state']}/{m['end_reason']}")
    return streams, sent, m, span_ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--sender", required=True)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--seed", type=int, default=3711)
    args = ap.parse_args()
    c = S.Checks()
    rng = random.Random(args.seed)
    work = S.make_workdir("cv-rtp-srtp-")
    data = os.path.join(work, "data")
    lo, hi = S.free_port_range(40)
    srv = S.Server(args.bin, work, S.base_config(data, lo, hi, rtp_timeout_s=5))
    srv.data = data
    try:
        if not c.check(srv.start(), "server started", f"SIP UDP port {srv.sip_port}"):
            return c.summary()

        # Call 1: the right keys.
        res = run_call(c, srv, args, rng, "call 1 (right keys)", wrong_key_on_stream2=False)
        if res:
            streams, sent, m, span_ms = res
            ms = {st["label"]: st for st in m["streams"]}
            for i, s in enumerate(streams):
                st = ms.get(s["label"], {})
                c.check(st.get("srtp") is True and st.get("auth_failed") == 0 and st.get("packets") == sent[i]
                        and st.get("lost") == 0 and st.get("bad") == 0 and st.get("channel") == i,
                        f"call 1 stream {s['label']}: srtp, {sent[i]} packets, no auth failure/loss, channel {i}",
                        {k: st.get(k) for k in ("srtp", "packets", "auth_failed", "lost", "bad", "channel",
                                                "codec")})
            rate, ch = S.read_wav(os.path.join(data, "recordings", m["audio"]["file"]))
            for i, s in enumerate(streams):
                seg = ch[i][rate:2 * rate]
                other = streams[1 - i]["freq"]
                p_own, p_other = S.goertzel_power(seg, s["freq"], rate), S.goertzel_power(seg, other, rate)
                c.check(S.rms(seg) > 2000 and p_own > 100 * max(p_other, 1e-9),
                        f"call 1: {s['freq']:.0f} Hz tone decrypted onto channel {i}",
                        f"rms {S.rms(seg):.0f}, power {s['freq']:.0f}/{other:.0f} Hz = "
                        f"{p_own / max(p_other, 1e-9):.0f}")

        # Call 2: stream 2 encrypted with another key than the one offered.
        res = run_call(c, srv, args, rng, "call 2 (wrong key on stream 2)", wrong_key_on_stream2=True)
        if res:
            streams, sent, m, span_ms = res
            ms = {st["label"]: st for st in m["streams"]}
            st1, st2 = ms.get("1", {}), ms.get("2", {})
            c.check(st1.get("auth_failed") == 0 and st1.get("packets") == sent[0] and st1.get("channel") == 0,
                    "call 2 stream 1 (right key): intact",
                    {k: st1.get(k) for k in ("packets", "auth_failed", "lost", "channel")})
            c.check(st2.get("srtp") is True and st2.get("packets") == sent[1] and st2.get("auth_failed") == sent[1],
                    "call 2 stream 2 (wrong key): every packet stored and counted as auth_failed",
                    {k: st2.get(k) for k in ("srtp", "packets", "auth_failed", "bad", "lost", "channel")}
                    | {"sent": sent[1]})
            rate, ch = S.read_wav(os.path.join(data, "recordings", m["audio"]["file"]))
            seg0 = ch[0][rate:2 * rate]
            c.check(S.rms(seg0) > 2000 and S.goertzel_power(seg0, 600, rate) > 100 * S.goertzel_power(seg0, 1000, rate),
                    "call 2: 600 Hz tone of stream 1 on channel 0", f"rms {S.rms(seg0):.0f}")
            c.check(max((abs(x) for x in ch[1]), default=0) == 0, "call 2: channel 1 (undecodable) is silence",
                    f"peak {max((abs(x) for x in ch[1]), default=0)}")
            # From the answer (silence until the sender's first packet: a slow start under ASan
            # adds it) to the last packet, never beyond the BYE.
            c.check(SECONDS * 1000 * 0.95 - 300 <= m["audio"]["duration_ms"] <= span_ms + 300,
                    "call 2: audio spans the call",
                    f"duration_ms {m['audio']['duration_ms']}, answer to BYE {span_ms:.0f} ms")

        # The server survived and still answers.
        c.check(srv.alive(), "server still running")
        uac = S.Uac(srv.sip_port)
        d = uac.new_dialog(f"alive-{rng.getrandbits(32):x}")
        r = uac.transact([(d, "OPTIONS", 1, uac.build(d, "OPTIONS", 1))], timeout=5).get(d.call_id)
        c.check(r is not None and r.code == 200, "server answers OPTIONS 200 after the calls")
        log = srv.read_log()
        c.check(" error " not in log and "panic" not in log.lower(), "no error lines in the server log",
                "; ".join(l for l in log.splitlines() if " error " in l)[:500])
    finally:
        srv.stop()
    rc = c.summary()
    S.cleanup_workdir(work, rc != 0 or args.keep)
    return rc


if __name__ == "__main__":
    sys.exit(main())
