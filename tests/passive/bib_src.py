"""A Cisco UCM Built-in-Bridge (BiB) SRC for tests: N concurrent calls, each forked as two
dialogs as CUCM does (our own messages, fields as in ../shared/siprec-samples' cisco-200788
trace; the samples' sipp pair has one fixed x-refci, so it cannot run calls side by side).

Per call k: a near-end and a far-end leg, each an INVITE without SDP (delayed offer) whose
From-URI carries `x-nearend` / `x-farend`, the call's `x-refci` and the parties' numbers and
devices; the recorder's 200 carries its offer, our ACK the answer (`a=sendonly`, PCMU from the
leg's own RTP port); then RTP: the near end a 1 kHz tone, the far end 2 kHz, 20 ms packets, for
`seconds`; then a BYE on each leg.

    src = BibSrc(("127.0.0.1", 25060), local_ip="127.0.0.1")
    legs = src.run(calls=10, seconds=8)     # blocks; returns the legs with their outcome
"""
import math
import random
import socket
import struct
import threading
import time

CRLF = "\r\n"


def _ulaw(sample):
    """ITU-T G.711 mu-law of one 16-bit sample."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    if sample < 0:
        sample = -sample
    sample = min(sample, clip) + bias
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not sample & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (sample >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def tone_frames(freq, seconds, rate=8000, amplitude=8000):
    n = int(seconds * rate)
    pcm = bytes(_ulaw(int(amplitude * math.sin(2 * math.pi * freq * i / rate))) for i in range(n))
    return [pcm[i:i + 160] for i in range(0, len(pcm) - 159, 160)]


class Leg:
    def __init__(self, call, side, local_ip):
        self.call = call
        self.side = side  # "x-nearend" | "x-farend"
        self.call_id = f"bib-{call.refci}-{side[2:]}@cucm.test"
        self.from_tag = f"t{random.randrange(1 << 30)}"
        self.to_tag = None
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind((local_ip, 0))
        self.rtp_port = self.rtp.getsockname()[1]
        self.target = None  # (addr, port) from the recorder's offer
        self.code = None    # final answer to the INVITE
        self.bye_code = None
        self.packets = 0
        self.ssrc = random.randrange(1 << 32)


class Call:
    def __init__(self, refci, local_ip):
        self.refci = refci
        self.legs = [Leg(self, "x-nearend", local_ip), Leg(self, "x-farend", local_ip)]


class BibSrc:
    def __init__(self, server, local_ip="127.0.0.1", sip_port=0):
        self.server = server
        self.local_ip = local_ip
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((local_ip, sip_port))
        self.port = self.sock.getsockname()[1]
        self.branch = 0
        self.legs = {}

    def _from(self, leg):
        c = leg.call
        return (f"<sip:4062@{self.local_ip};{leg.side};x-refci={c.refci};x-nearendclusterid=cl1;"
                f"x-nearenddevice=SEP{c.refci:012X};x-nearendaddr=4062;x-farendrefci={c.refci + 1};"
                f"x-farendclusterid=cl1;x-farenddevice=SEP{c.refci + 1:012X};"
                f"x-farendaddr=8172710497>;tag={leg.from_tag}")

    def _request(self, leg, method, cseq, body=""):
        self.branch += 1
        to = f"<sip:rec@{self.server[0]}>" + (f";tag={leg.to_tag}" if leg.to_tag else "")
        h = [f"{method} sip:rec@{self.server[0]}:{self.server[1]} SIP/2.0",
             f"Via: SIP/2.0/UDP {self.local_ip}:{self.port};branch=z9hG4bK-{self.branch}-{leg.call_id}",
             f"From: {self._from(leg)}", f"To: {to}", f"Call-ID: {leg.call_id}",
             f"CSeq: {cseq} {method}", "Max-Forwards: 70", "User-Agent: Cisco-CUCM10.5",
             f"Contact: <sip:4062@{self.local_ip}:{self.port}>;isFocus"]
        if body:
            h.append("Content-Type: application/sdp")
        h.append(f"Content-Length: {len(body)}")
        return (CRLF.join(h) + CRLF + CRLF + body).encode()

    def _answer_sdp(self, leg):
        return CRLF.join([
            "v=0", f"o=CiscoSystemsCCM-SIP {leg.call.refci} 1 IN IP4 {self.local_ip}", "s=SIP Call",
            f"c=IN IP4 {self.local_ip}", "t=0 0", f"m=audio {leg.rtp_port} RTP/AVP 0 101",
            "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15",
            "a=ptime:20", "a=sendonly"]) + CRLF

    def _responses(self, until, want):
        """Reads responses until `want()` or `until`; 2xx to INVITE are ACKed with the answer."""
        while time.time() < until and not want():
            self.sock.settimeout(max(0.01, min(0.1, until - time.time())))
            try:
                data = self.sock.recv(65536).decode("latin-1")
            except socket.timeout:
                continue
            if not data.startswith("SIP/2.0 "):
                continue  # a request from the recorder (BYE on RTP timeout): not expected here
            head, _, body = data.partition("\r\n\r\n")
            lines = head.split("\r\n")
            code = int(lines[0].split()[1])
            hdr = {}
            for l in lines[1:]:
                k, _, v = l.partition(":")
                hdr.setdefault(k.strip().lower(), v.strip())
            leg = self.legs.get(hdr.get("call-id"))
            if leg is None or code < 200:
                continue
            method = hdr.get("cseq", "").split()[-1]
            if method == "INVITE":
                to = hdr.get("to", "")
                if ";tag=" in to:
                    leg.to_tag = to.split(";tag=")[1].split(";")[0]
                if 200 <= code < 300:
                    addr = port = None
                    for l in body.split("\r\n"):
                        if l.startswith("c=IN IP4 "):
                            addr = l.split()[2]
                        elif l.startswith("m=audio ") and port is None:
                            port = int(l.split()[1])
                    if addr and port:
                        leg.target = (addr, port)
                    self.sock.sendto(self._request(leg, "ACK", 101, self._answer_sdp(leg)), self.server)
                leg.code = code
            elif method == "BYE":
                leg.bye_code = code

    def run(self, calls, seconds, first_refci=None):
        base = first_refci or random.randrange(10_000_000, 90_000_000, 2)
        cs = [Call(base + 2 * k, self.local_ip) for k in range(calls)]
        legs = [leg for c in cs for leg in c.legs]
        for leg in legs:
            self.legs[leg.call_id] = leg
        invites = {leg.call_id: self._request(leg, "INVITE", 101) for leg in legs}
        deadline = time.time() + 10
        while time.time() < deadline and any(l.code is None for l in legs):
            for leg in legs:
                if leg.code is None:
                    self.sock.sendto(invites[leg.call_id], self.server)
            self._responses(min(deadline, time.time() + 0.5),
                            lambda: all(l.code is not None for l in legs))
        streaming = [l for l in legs if l.code == 200 and l.target]
        frames = {"x-nearend": tone_frames(1000, 1), "x-farend": tone_frames(2000, 1)}
        stop = threading.Event()

        def drain():  # 200 retransmissions until our ACK is seen: re-ACKed by _responses
            while not stop.is_set():
                self._responses(time.time() + 0.2, lambda: False)

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        t0 = time.time()
        n = int(seconds * 50)
        for i in range(n):
            for leg in streaming:
                f = frames[leg.side][i % len(frames[leg.side])]
                pkt = struct.pack("!BBHII", 0x80, 0, i & 0xFFFF, (160 * i) & 0xFFFFFFFF,
                                  leg.ssrc) + f
                leg.rtp.sendto(pkt, leg.target)
                leg.packets += 1
            delay = t0 + (i + 1) * 0.02 - time.time()
            if delay > 0:
                time.sleep(delay)
        stop.set()
        reader.join()
        byes = {leg.call_id: self._request(leg, "BYE", 102) for leg in streaming}
        deadline = time.time() + 10
        while time.time() < deadline and any(l.bye_code is None for l in streaming):
            for leg in streaming:
                if leg.bye_code is None:
                    self.sock.sendto(byes[leg.call_id], self.server)
            self._responses(min(deadline, time.time() + 0.5),
                            lambda: all(l.bye_code is not None for l in streaming))
        for leg in legs:
            leg.rtp.close()
        return cs
