"""A minimal SIPREC SRC for system tests against `callvault serve` (tests/rtp/).

Plain SIP over UDP written by hand (INVITE with SDP + RFC 7865 metadata, ACK, re-INVITE, BYE),
RTP packets, G.711 encoders, a CRC-32C spool reader (docs/formats/spool.md) and WAV analysis
(Goertzel tone power, thresholds). Standard library only.
"""
import array
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import wave

CRLF = "\r\n"


# ---------------------------------------------------------------------------------------------
# Checks: one line per check, `N passed, N failed` at the end.

class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, name, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'PASS' if ok else 'FAIL'}: {name}" + (f" — {detail}" if detail else ""), flush=True)
        return ok

    def summary(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0


# ---------------------------------------------------------------------------------------------
# The server.

class Server:
    """`callvault serve -c CONFIG` on a data dir; the log goes to <work>/server-N.log."""

    def __init__(self, binary, work, config_text, name="server"):
        self.binary = os.path.abspath(binary)
        self.work = work
        self.config = os.path.join(work, "callvault.toml")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.name = name
        self.proc = None
        self.log_path = None
        self.sip_port = None
        self.starts = 0

    def start(self, timeout=20):
        self.starts += 1
        self.log_path = os.path.join(self.work, f"{self.name}-{self.starts}.log")
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen([self.binary, "serve", "-c", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT, cwd=self.work)
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(r"event=sip\.listening transport=UDP addr=127\.0\.0\.1:(\d+)", self.read_log())
            if m:
                self.sip_port = int(m.group(1))
                return True
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        return False

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, pattern, count=1, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(re.findall(pattern, self.read_log())) >= count:
                return True
            if self.proc.poll() is not None:
                return len(re.findall(pattern, self.read_log())) >= count
            time.sleep(0.05)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        """SIGKILL; returns the wall clock (ns) just before the signal was sent."""
        t = time.time_ns()
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        return t

    def stop(self, timeout=15):
        if not self.alive():
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


def base_config(data_dir, port_min, port_max, rtp_timeout_s=5, extra=""):
    return f"""# tests/rtp: callvault serve on loopback, ephemeral SIP port.
[node]
id = "rtp-test"
data_dir = "{data_dir}"

[sip]
listen = ["udp:127.0.0.1:0"]
workers = 2

[server]
drain_timeout_s = 2

[http]
port = 0

[log]
level = "info"

[media]
ipv4_address = "127.0.0.1"
ipv6_address = "::1"
port_min = {port_min}
port_max = {port_max}
rtp_timeout_s = {rtp_timeout_s}
{extra}
"""


def http_get(port, path):
    """(status, body) of GET http://127.0.0.1:<port><path>; (None, error) when unreachable."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except OSError as e:
        return None, str(e)


def parse_metrics(text):
    """{"name{labels}": value} of a Prometheus text exposition (comments and bad values skipped)."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?)\s+(\S+)", line)
        if m and not line.startswith("#"):
            try:
                out[m.group(1)] = float(m.group(2))
            except ValueError:
                pass
    return out


def metric_total(metrics, name):
    """Sum of metric `name` over all its label sets in parse_metrics() output."""
    return sum(v for k, v in metrics.items() if k == name or k.startswith(name + "{"))


def free_port_range(width, start=40000, end=60000):
    """A random even-aligned range [lo, lo+width) where every UDP port can be bound right now."""
    rng = random.Random(os.getpid() ^ time.time_ns())
    for _ in range(50):
        lo = rng.randrange(start, end - width) & ~1
        socks = []
        ok = True
        for p in range(lo, lo + width):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind(("127.0.0.1", p))
                socks.append(s)
            except OSError:
                ok = False
                s.close()
                break
        for s in socks:
            s.close()
        if ok:
            return lo, lo + width - 1
    raise RuntimeError("no free UDP port range")


def make_workdir(prefix):
    return tempfile.mkdtemp(prefix=prefix)


def cleanup_workdir(work, failed):
    if failed:
        print(f"kept {work} (server logs, data dir)", flush=True)
    else:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# SIP.

METADATA = (
    '<?xml version="1.0" encoding="UTF-8"?>\r\n'
    '<recording xmlns="urn:ietf:params:xml:ns:recording:1">\r\n'
    "<datamode>complete</datamode>\r\n"
    '<session session_id="{sess}"><sipSessionID>{callid}</sipSessionID></session>\r\n'
    '<participant participant_id="cGE="><nameID aor="sip:alice@example.com"><name>Alice</name>'
    "</nameID></participant>\r\n"
    '<participant participant_id="cGI="><nameID aor="sip:bob@example.com"><name>Bob</name>'
    "</nameID></participant>\r\n"
    '<stream stream_id="czE=" session_id="{sess}"><label>1</label></stream>\r\n'
    '<stream stream_id="czI=" session_id="{sess}"><label>2</label></stream>\r\n'
    '<participantstreamassoc participant_id="cGE="><send>czE=</send><recv>czI=</recv>'
    "</participantstreamassoc>\r\n"
    '<participantstreamassoc participant_id="cGI="><send>czI=</send><recv>czE=</recv>'
    "</participantstreamassoc>\r\n"
    "</recording>\r\n")


def offer_sdp(media, version=1, direction="sendonly"):
    """`media`: list of dicts {port, pt, codec ("PCMA"/"PCMU"), label, crypto (optional)}."""
    lines = ["v=0", f"o=SRC 4242 {version} IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0"]
    for m in media:
        proto = "RTP/SAVP" if m.get("crypto") else "RTP/AVP"
        lines.append(f"m=audio {m['port']} {proto} {m['pt']} 101")
        lines.append(f"a=rtpmap:{m['pt']} {m['codec']}/8000")
        lines.append("a=rtpmap:101 telephone-event/8000")
        lines.append("a=fmtp:101 0-15")
        if m.get("crypto"):
            lines.append(f"a=crypto:1 {m['crypto'][0]} inline:{m['crypto'][1]}")
        lines.append(f"a=label:{m['label']}")
        lines.append(f"a={direction}")
    return CRLF.join(lines) + CRLF


def parse_answer_ports(sdp):
    """[(port, direction)] per m-line of an SDP answer, and the c= address."""
    addr = None
    ms = []
    for line in sdp.replace("\r\n", "\n").split("\n"):
        if line.startswith("c=IN IP4 ") and addr is None:
            addr = line.split()[2]
        elif line.startswith("m="):
            ms.append([int(line.split()[1]), None])
        elif line in ("a=sendonly", "a=recvonly", "a=inactive", "a=sendrecv") and ms:
            ms[-1][1] = line[2:]
    return addr, [tuple(m) for m in ms]


class Response:
    def __init__(self, text):
        self.text = text
        head, _, self.body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.code = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers.setdefault(name.strip().lower(), []).append(value.strip())

    def header(self, name):
        v = self.headers.get(name.lower())
        return v[0] if v else None

    def cseq(self):
        n, m = self.header("CSeq").split()
        return int(n), m

    def call_id(self):
        return self.header("Call-ID")

    def to_tag(self):
        m = re.search(r";\s*tag=([^;>\s]+)", self.header("To") or "")
        return m.group(1) if m else None


class Dialog:
    def __init__(self, call_id, from_tag):
        self.call_id = call_id
        self.from_tag = from_tag
        self.to_tag = None
        self.cseq = 0
        self.sdp_version = 1
        self.answer = None


class Uac:
    """One UDP socket towards the server; transactions matched by Call-ID + CSeq."""

    def __init__(self, server_port, local_ip="127.0.0.1"):
        self.local_ip = local_ip
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((local_ip, 0))
        self.port = self.sock.getsockname()[1]
        self.server = ("127.0.0.1", server_port)
        self.branch = 0
        self.stray = []  # requests from the server (e.g. a BYE on RTP timeout)
        self.dialogs = {}

    def new_dialog(self, call_id):
        return Dialog(call_id, f"src{random.randrange(1 << 30)}")

    def build(self, dlg, method, cseq, body="", content_type=None, extra=()):
        self.branch += 1
        to = "<sip:srs@127.0.0.1>" + (f";tag={dlg.to_tag}" if dlg.to_tag else "")
        h = [f"{method} sip:srs@127.0.0.1:{self.server[1]} SIP/2.0",
             f"Via: SIP/2.0/UDP {self.local_ip}:{self.port};branch=z9hG4bK-{dlg.call_id}-{self.branch};rport",
             "Max-Forwards: 70",
             f"From: <sip:src@127.0.0.1>;tag={dlg.from_tag}",
             f"To: {to}",
             f"Call-ID: {dlg.call_id}",
             f"CSeq: {cseq} {method}",
             f"Contact: <sip:src@{self.local_ip}:{self.port}>;+sip.src",
             "User-Agent: callvault-rtp-test"]
        h.extend(extra)
        if content_type:
            h.append(f"Content-Type: {content_type}")
        h.append(f"Content-Length: {len(body.encode())}")
        return (CRLF.join(h) + CRLF + CRLF + body).encode()

    def _recv(self, timeout):
        self.sock.settimeout(max(0.001, timeout))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return None
        text = data.decode("latin-1")
        if not text.startswith("SIP/2.0 "):
            self._answer_request(text)
            return None
        return Response(text)

    def _answer_request(self, text):
        """A request from the server (BYE after an RTP timeout...): record it, answer 200."""
        self.stray.append(text)
        head = text.split("\r\n\r\n")[0].split("\r\n")
        if head[0].startswith("ACK "):
            return
        keep = [l for l in head[1:] if l.split(":")[0].strip().lower() in ("via", "from", "to", "call-id", "cseq")]
        resp = "SIP/2.0 200 OK" + CRLF + CRLF.join(keep) + CRLF + "Content-Length: 0" + CRLF + CRLF
        self.sock.sendto(resp.encode(), self.server)

    def transact(self, items, timeout=10.0):
        """items: [(dialog, method, cseq, data)]. Sends all, retransmits (T1 = 0.5 s, doubling,
        INVITE only until a provisional arrives), returns {call_id: final Response}. 2xx answers
        to INVITE are ACKed at once (and re-ACKed when retransmitted)."""
        pending = {(d.call_id, cseq): [d, method, data, time.time() + 0.5, 0.5, False]
                   for d, method, cseq, data in items}
        for v in pending.values():
            self.sock.sendto(v[2], self.server)
        finals = {}
        deadline = time.time() + timeout
        while pending and time.time() < deadline:
            now = time.time()
            for v in pending.values():
                if not v[5] and now >= v[3]:
                    self.sock.sendto(v[2], self.server)
                    v[4] = min(v[4] * 2, 4.0)
                    v[3] = now + v[4]
            r = self._recv(min(0.05, deadline - now))
            if r is None:
                continue
            n, m = r.cseq()
            key = (r.call_id(), n)
            if m == "INVITE" and 200 <= r.code < 300:
                d = pending[key][0] if key in pending else self.dialogs.get(r.call_id())
                if d is not None:
                    d.to_tag = r.to_tag()
                    self.send_ack(d, n)
            if key not in pending:
                continue
            if r.code < 200:
                pending[key][5] = True  # provisional: stop retransmitting
                continue
            d = pending.pop(key)[0]
            if m == "INVITE" and r.code >= 300:
                self.send_ack(d, n, to_tag=r.to_tag())  # ACK for a non-2xx final
            finals[r.call_id()] = r
        return finals

    def send_ack(self, dlg, cseq, to_tag=None):
        saved = dlg.to_tag
        if to_tag is not None:
            dlg.to_tag = to_tag
        self.sock.sendto(self.build(dlg, "ACK", cseq), self.server)
        dlg.to_tag = saved

    def invite(self, dlgs_and_media, timeout=15.0, extra=()):
        """Initial INVITEs: [(dialog, media list)] → {call_id: Response}. `extra`: more header
        lines for every INVITE, or a function dialog → header lines."""
        items = []
        for d, media in dlgs_and_media:
            self.dialogs[d.call_id] = d
            d.cseq = 1
            body = ("--cvb1\r\nContent-Type: application/sdp\r\n\r\n" + offer_sdp(media, d.sdp_version) +
                    "\r\n--cvb1\r\nContent-Type: application/rs-metadata+xml\r\n"
                    "Content-Disposition: recording-session\r\n\r\n" +
                    METADATA.format(sess="c2Vzcw==", callid=d.call_id) + "\r\n--cvb1--\r\n")
            items.append((d, "INVITE", 1, self.build(
                d, "INVITE", 1, body, "multipart/mixed;boundary=cvb1",
                extra=("Require: siprec", "Accept: application/sdp, application/rs-metadata+xml") +
                tuple(extra(d) if callable(extra) else extra))))
        finals = self.transact(items, timeout)
        for d, _ in dlgs_and_media:
            r = finals.get(d.call_id)
            if r is not None and r.code == 200:
                d.answer = r.body
        return finals

    def reinvite(self, d, media, direction):
        d.cseq += 1
        d.sdp_version += 1
        data = self.build(d, "INVITE", d.cseq, offer_sdp(media, d.sdp_version, direction),
                          "application/sdp")
        return self.transact([(d, "INVITE", d.cseq, data)]).get(d.call_id)

    def bye(self, dlgs, timeout=10.0):
        items = []
        for d in dlgs:
            d.cseq += 1
            items.append((d, "BYE", d.cseq, self.build(d, "BYE", d.cseq)))
        return self.transact(items, timeout)

    def drain(self, seconds=0.0):
        """Reads whatever the server sent (retransmitted 200s are re-ACKed, requests answered)."""
        end = time.time() + seconds
        while True:
            r = self._recv(max(0.001, end - time.time()) if seconds else 0.001)
            if r is None:
                if time.time() >= end:
                    return
                continue
            n, m = r.cseq()
            d = self.dialogs.get(r.call_id())
            if m == "INVITE" and 200 <= r.code < 300 and d is not None:
                self.send_ack(d, n)


# ---------------------------------------------------------------------------------------------
# RTP and G.711.

def rtp_packet(pt, seq, ts, ssrc, payload, marker=False):
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                       ts & 0xFFFFFFFF, ssrc & 0xFFFFFFFF) + payload


def _search(val, table):
    for i, t in enumerate(table):
        if val <= t:
            return i
    return len(table)


def _lin2ulaw(pcm):  # ITU-T G.711 (Sun reference implementation)
    pcm >>= 2
    if pcm < 0:
        pcm, mask = -pcm, 0x7F
    else:
        mask = 0xFF
    pcm = min(pcm, 8159) + (0x84 >> 2)
    seg = _search(pcm, (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF))
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((pcm >> (seg + 1)) & 0xF)) ^ mask


def _lin2alaw(pcm):
    pcm >>= 3
    if pcm >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        pcm = -pcm - 1
    seg = _search(pcm, (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF))
    if seg >= 8:
        return 0x7F ^ mask
    aval = seg << 4
    aval |= ((pcm >> 1) if seg < 2 else (pcm >> seg)) & 0xF
    return aval ^ mask


def encode(codec, samples):
    f = _lin2alaw if codec == "PCMA" else _lin2ulaw
    return bytes(f(max(-32768, min(32767, int(s)))) for s in samples)


def tone_samples(freq, n0, count, amplitude=8000.0, rate=8000):
    import math
    w = 2 * math.pi * freq / rate
    return [amplitude * math.sin(w * (n0 + i)) for i in range(count)]


# ---------------------------------------------------------------------------------------------
# Spool files (docs/formats/spool.md), read independently of the product's reader.

def _crc32c_table():
    poly = 0x82F63B78
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t.append(c)
    return t


_CRC32C = _crc32c_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    t = _CRC32C
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def read_call_spool(path, verify_crc=True):
    """A version-2 call spool `<call-dir>/media.spool`: {stream id: [(kind, flags, arrival_ns,
    payload)]} (every slot declared with that id joined, declarations left out) up to the first
    short or bad record (bad CRC, nonzero reserved field, undeclared slot); plus the number of
    bytes ignored after it."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 16 or data[:8] != b"CVSPOOL\0":
        raise ValueError(f"{path}: bad spool header")
    version, hsize = struct.unpack_from("<HH", data, 8)
    if version != 2:
        raise ValueError(f"{path}: version {version}")
    pos = hsize
    slots = []  # slot → stream id
    out = {}
    while pos + 20 <= len(data):
        length, kind, flags, slot, reserved, arrival, crc = struct.unpack_from("<HBBHHQI", data, pos)
        if pos + 20 + length > len(data):
            break
        payload = data[pos + 20:pos + 20 + length]
        if verify_crc and crc32c(payload, crc32c(data[pos:pos + 16])) != crc:
            break
        if reserved != 0:
            break
        if kind == 4:
            if slot != len(slots):
                break
            slots.append(payload.decode("utf-8", "replace"))
            out.setdefault(slots[-1], [])
        elif slot >= len(slots):
            break
        else:
            out[slots[slot]].append((kind, flags, arrival, payload))
        pos += 20 + length
    return out, len(data) - pos


def read_spool(path, verify_crc=True):
    """A version-1 stream spool `<stream-id>.rtp` (read only since version 2):
    [(kind, flags, arrival_ns, payload)] up to the first short or bad record; plus the number of
    bytes ignored after it."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 16 or data[:8] != b"CVSPOOL\0":
        raise ValueError(f"{path}: bad spool header")
    version, hsize = struct.unpack_from("<HH", data, 8)
    if version != 1:
        raise ValueError(f"{path}: version {version}")
    pos = hsize
    out = []
    while pos + 16 <= len(data):
        length, kind, flags, arrival, crc = struct.unpack_from("<HBBQI", data, pos)
        if pos + 16 + length > len(data):
            break
        payload = data[pos + 16:pos + 16 + length]
        if verify_crc and crc32c(payload, crc32c(data[pos:pos + 12])) != crc:
            break
        out.append((kind, flags, arrival, payload))
        pos += 16 + length
    return out, len(data) - pos


# ---------------------------------------------------------------------------------------------
# Recordings.

def manifests(recordings_dir):
    """[(path, manifest dict)] of every *.json under the recordings dir."""
    out = []
    for root, _, files in os.walk(recordings_dir):
        for f in files:
            if f.endswith(".json"):
                p = os.path.join(root, f)
                try:
                    with open(p) as fh:
                        out.append((p, json.load(fh)))
                except (OSError, ValueError):
                    pass
    return out


def wait_manifest(recordings_dir, sip_call_id, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for p, m in manifests(recordings_dir):
            if m.get("sip_call_id") == sip_call_id:
                return p, m
        time.sleep(0.1)
    return None, None


def read_wav(path):
    """(rate, [channel sample arrays])."""
    with wave.open(path, "rb") as w:
        rate, nch, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        frames = w.readframes(w.getnframes())
    assert width == 2
    a = array.array("h")
    a.frombytes(frames)
    return rate, [a[c::nch] for c in range(nch)]


def goertzel_power(samples, freq, rate):
    import math
    k = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s0 = x + k * s1 - s2
        s2, s1 = s1, s0
    return (s1 * s1 + s2 * s2 - k * s1 * s2) / max(1, len(samples)) ** 2


def rms(samples):
    if not samples:
        return 0.0
    return (sum(x * x for x in samples) / len(samples)) ** 0.5


def first_above(samples, threshold, start, end):
    for i in range(max(0, start), min(len(samples), end)):
        if abs(samples[i]) >= threshold:
            return i
    return None


def silent_run(samples, center, threshold):
    """[lo, hi) of the run of |x| < threshold around `center`."""
    if abs(samples[center]) >= threshold:
        return center, center
    lo = center
    while lo > 0 and abs(samples[lo - 1]) < threshold:
        lo -= 1
    hi = center
    while hi < len(samples) and abs(samples[hi]) < threshold:
        hi += 1
    return lo, hi


def parse_rfc3339_ns(s):
    """'2026-11-25T08:00:00.012Z' → ns since the epoch."""
    import calendar
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z$", s)
    y, mo, d, h, mi, sec = (int(m.group(i)) for i in range(1, 7))
    frac = (m.group(7) or "0").ljust(9, "0")[:9]
    return calendar.timegm((y, mo, d, h, mi, sec)) * 1_000_000_000 + int(frac)


def sleep_until(t_ns):
    while True:
        d = (t_ns - time.time_ns()) / 1e9
        if d <= 0:
            return
        time.sleep(d)
