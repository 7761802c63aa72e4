"""What actually went over the loopback interface, for tests/siprec/scenario_test.py.

Sniffer: an AF_PACKET socket on `lo` (needs root, as sipp's play_pcap_audio does) that records
every UDP datagram to the recorder's RTP port range (RTP header fields, kernel timestamp) and
every SIP message to/from the recorder's UDP SIP port (start line, Call-ID, CSeq, body). The
test's expectations ("duration of the RTP that was sent") come from here, not from the
recorder's own counters.

RtpSender: a paced RTP flow (20 ms, G.711, one SSRC, proper seq/timestamp) from Python, for the
m-lines sipp cannot stream itself (sipp sends RTP only to the first m-line of the answer).
"""
import ctypes
import random
import re
import select
import socket
import struct
import threading
import time

import media_check

SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
SOL_PACKET = 263
PACKET_STATISTICS = 6
PACKET_IGNORE_OUTGOING = 23
ETH_P_IP = 0x0800
SO_ATTACH_FILTER = 26


def _bpf(sip_port, rtp_lo, rtp_hi):
    """Classic BPF for lo frames (14-byte Ethernet header): IPv4/UDP, not a fragment, and
    destination port in [rtp_lo, rtp_hi] or either port == sip_port. Other traffic on lo (other
    test suites, benchmarks) then never reaches this process."""
    ld_h, ld_b, ldx_msh, ld_h_ind = 0x28, 0x30, 0xB1, 0x48
    jeq, jge, jgt, jset, ret = 0x15, 0x35, 0x25, 0x45, 0x06
    # (code, jt, jf, k); jumps are relative to the next instruction.
    return [
        (ld_h, 0, 0, 12),          # 0: A = EtherType
        (jeq, 0, 13, ETH_P_IP),    # 1: not IPv4 -> 15 (drop)
        (ld_b, 0, 0, 23),          # 2: A = IP protocol
        (jeq, 0, 11, 17),          # 3: not UDP -> 15
        (ld_h, 0, 0, 20),          # 4: A = flags + fragment offset
        (jset, 9, 0, 0x1FFF),      # 5: a fragment -> 15
        (ldx_msh, 0, 0, 14),       # 6: X = IP header length
        (ld_h_ind, 0, 0, 16),      # 7: A = UDP destination port
        (jge, 0, 2, rtp_lo),       # 8: below the RTP range -> 11
        (jgt, 1, 0, rtp_hi),       # 9: above the RTP range -> 11
        (ret, 0, 0, 0xFFFF),       # 10: accept (RTP to the recorder)
        (jeq, 2, 0, sip_port),     # 11: to the SIP port -> 14
        (ld_h_ind, 0, 0, 14),      # 12: A = UDP source port
        (jeq, 0, 1, sip_port),     # 13: from the SIP port -> 14, else 15
        (ret, 0, 0, 0xFFFF),       # 14: accept (SIP)
        (ret, 0, 0, 0),            # 15: drop
    ]


def _attach_filter(sock, prog):
    buf = b"".join(struct.pack("HBBI", *ins) for ins in prog)
    cbuf = ctypes.create_string_buffer(buf, len(buf))
    fprog = struct.pack("HL", len(prog), ctypes.addressof(cbuf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    return cbuf  # keep alive until attached (the kernel copies it)


class SipMessage:
    def __init__(self, t, src_port, dst_port, text):
        self.t = t
        self.src_port = src_port
        self.dst_port = dst_port
        head, _, self.body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.start = lines[0]
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            key = {"i": "call-id", "c": "content-type"}.get(name.strip().lower(), name.strip().lower())
            self.headers.setdefault(key, value.strip())
        self.call_id = self.headers.get("call-id", "")
        cseq = self.headers.get("cseq", "").split()
        self.cseq_method = cseq[1] if len(cseq) > 1 else ""
        self.is_response = self.start.startswith("SIP/2.0 ")
        self.status = int(self.start.split()[1]) if self.is_response else 0
        self.method = "" if self.is_response else self.start.split(" ", 1)[0]

    def sdp(self):
        """The application/sdp text of the body (a multipart part or the whole body)."""
        if "m=audio" not in self.body:
            return None
        i = self.body.find("v=0")
        text = self.body[i:] if i >= 0 else self.body
        return text.split("\r\n--", 1)[0]


def sdp_media(sdp):
    """[(port, direction, [payload types])] per m= line of an SDP text."""
    out = []
    for block in re.split(r"\r?\nm=", "\n" + sdp)[1:]:
        first = block.split("\n", 1)[0].split()
        port = int(first[1]) if len(first) > 1 and first[1].isdigit() else 0
        direction = "sendrecv"
        for d in ("sendonly", "recvonly", "inactive", "sendrecv"):
            if re.search(r"^a=%s\s*$" % d, block, re.M):
                direction = d
        out.append((port, direction, [int(p) for p in first[3:] if p.isdigit()]))
    return out


class RtpPacket:
    __slots__ = ("t", "src_port", "dst_port", "pt", "marker", "seq", "ts", "ssrc", "size")

    def __init__(self, t, src_port, dst_port, data):
        self.t = t
        self.src_port = src_port
        self.dst_port = dst_port
        self.marker = bool(data[1] & 0x80)
        self.pt = data[1] & 0x7F
        self.seq, self.ts, self.ssrc = struct.unpack("!HII", data[2:12])
        self.size = len(data) - 12


class Sniffer:
    def __init__(self, sip_port, rtp_lo, rtp_hi):
        self.sip_port = sip_port
        self.rtp_lo, self.rtp_hi = rtp_lo, rtp_hi
        self.rtp = []  # RtpPacket, arrival order
        self.sip = []  # SipMessage, arrival order
        self.lock = threading.Lock()
        self.stop_flag = False
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
        _attach_filter(self.sock, _bpf(sip_port, rtp_lo, rtp_hi))
        self.sock.bind(("lo", 0))
        try:  # root may exceed net.core.rmem_max; a drop would make the expectations wrong
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
        try:  # lo shows each datagram twice (outgoing + incoming): keep one
            self.sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        except OSError:
            pass
        self.drops = 0
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stop_flag = True
        self.thread.join(timeout=5)
        self.read_drops()
        self.sock.close()

    def read_drops(self):
        """Datagrams the kernel dropped for this socket (buffer full), cumulative."""
        packets, drops = struct.unpack("II", self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
        self.drops += drops  # the counters reset on read
        return self.drops

    def _run(self):
        while not self.stop_flag:
            r, _, _ = select.select([self.sock], [], [], 0.2)
            if not r:
                continue
            data, anc, _, addr = self.sock.recvmsg(65536, 64)
            if addr[2] == socket.PACKET_OUTGOING:  # lo shows each datagram twice
                continue
            t = time.time()
            for level, kind, value in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
                    sec, nsec = struct.unpack("qq", value[:16])
                    t = sec + nsec / 1e9
            ip = data[14:]
            if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
                continue
            ihl = (ip[0] & 15) * 4
            sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
            payload = ip[ihl + 8:]
            if self.rtp_lo <= dport <= self.rtp_hi and len(payload) >= 12 and payload[0] >> 6 == 2:
                if 72 <= (payload[1] & 0x7F) <= 76:  # RTCP
                    continue
                with self.lock:
                    self.rtp.append(RtpPacket(t, sport, dport, payload))
            elif self.sip_port in (sport, dport) and payload[:1] not in (b"\r", b"\n", b""):
                try:
                    msg = SipMessage(t, sport, dport, payload.decode("utf-8", "replace"))
                except (IndexError, ValueError):
                    continue
                with self.lock:
                    self.sip.append(msg)

    def sip_for(self, call_id):
        with self.lock:
            return [m for m in self.sip if m.call_id == call_id]

    def answers(self, call_id):
        """[(t, [(port, direction, pts)])] of the recorder's 200 OKs to (re-)INVITEs with SDP,
        deduplicated by retransmission (same text)."""
        out, seen = [], set()
        for m in self.sip_for(call_id):
            if m.is_response and m.status == 200 and m.cseq_method == "INVITE" and \
                    m.src_port == self.sip_port and m.sdp():
                key = (m.headers.get("cseq"), m.body)
                if key not in seen:
                    seen.add(key)
                    out.append((m.t, sdp_media(m.sdp())))
        return out

    def offers(self, call_id):
        """[(t, method, [(port, direction, pts)])] of the SRC's requests with SDP."""
        out, seen = [], set()
        for m in self.sip_for(call_id):
            if not m.is_response and m.dst_port == self.sip_port and m.sdp() and \
                    m.method in ("INVITE", "UPDATE"):
                key = m.headers.get("cseq")
                if key not in seen:
                    seen.add(key)
                    out.append((m.t, m.method, sdp_media(m.sdp())))
        return out

    def bye_time(self, call_id):
        """When the first BYE of the call (either side) went over the wire, or None."""
        for m in self.sip_for(call_id):
            if m.method == "BYE":
                return m.t
        return None

    def media_end_time(self, call_id):
        """When the call's media ended for the recorder: its answer to the SRC's first BYE (until
        it has processed the BYE the dialog is open and RTP that arrives is the call's — an SRC
        such as sipp streams on until its BYE is answered, and a loaded recorder answers late),
        or the recorder's own BYE; None before either."""
        bye = None
        for m in self.sip_for(call_id):
            if bye is None and not m.is_response and m.method == "BYE":
                if m.src_port == self.sip_port:
                    return m.t  # the recorder hung up
                bye = m
            elif bye is not None and m.is_response and m.cseq_method == "BYE" and \
                    m.src_port == self.sip_port and m.status >= 200:
                return m.t
        return bye.t if bye is not None else None

    def packets_to(self, port, t_from, t_to):
        with self.lock:
            return [p for p in self.rtp if p.dst_port == port and t_from <= p.t < t_to]


def g711_payloads(freq, seconds, pt, amplitude=0.5):
    """20 ms G.711 payloads (PT 0 mu-law, PT 8 A-law) of a sine tone."""
    pcm = media_check.tone(freq, seconds, 8000, amplitude)
    enc = media_check.linear_to_alaw if pt == 8 else media_check.linear_to_ulaw
    data = bytes(enc(v) for v in pcm)
    return [data[i:i + 160] for i in range(0, len(data) - 159, 160)]


class RtpSender(threading.Thread):
    """Streams a tone to 127.0.0.1:port every 20 ms while `active()` is true, until `done()`
    or `max_seconds`. Counts what it sent."""

    def __init__(self, port_fn, pt, freq, active, done, max_seconds):
        super().__init__(daemon=True)
        self.port_fn, self.pt, self.active, self.done = port_fn, pt, active, done
        self.max_seconds = max_seconds
        self.payloads = g711_payloads(freq, 2.0, pt)  # 2 s of whole periods, looped
        self.sent = 0
        self.first = self.last = None
        self.error = None

    def run(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        ssrc = random.getrandbits(32)
        seq = random.getrandbits(16)
        ts = random.getrandbits(32)
        start = time.monotonic()
        next_t = start
        marker = True
        try:
            while not self.done() and time.monotonic() - start < self.max_seconds:
                now = time.monotonic()
                if now < next_t:
                    time.sleep(min(next_t - now, 0.02))
                    continue
                next_t += 0.02
                if not self.active():
                    ts = (ts + 160) & 0xFFFFFFFF  # the clock runs on while not sending
                    marker = True
                    continue
                port = self.port_fn()
                hdr = struct.pack("!BBHII", 0x80, self.pt | (0x80 if marker else 0),
                                  seq, ts, ssrc)
                sock.sendto(hdr + self.payloads[self.sent % len(self.payloads)],
                            ("127.0.0.1", port))
                marker = False
                self.sent += 1
                self.first = self.first or time.time()
                self.last = time.time()
                seq = (seq + 1) & 0xFFFF
                ts = (ts + 160) & 0xFFFFFFFF
        except OSError as e:
            self.error = str(e)
        finally:
            sock.close()
