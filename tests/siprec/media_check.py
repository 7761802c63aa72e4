"""Audio helpers for tests/siprec/scenario_test.py: G.711 encoding, WAV reading, RMS, tone
detection (Goertzel and a coarse DFT scan) and pcap summaries. Pure Python (Debian python3,
no numpy): every function works on plain lists of ints and is bounded by its inputs.
"""
import math
import struct
import wave


# ---------------------------------------------------------------------------------------------
# G.711 (ITU-T G.711 segment encoding of 16-bit linear PCM).

def _segment(value, table):
    for i, end in enumerate(table):
        if value <= end:
            return i
    return len(table)


_SEG_END_A = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)
_SEG_END_U = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)


def linear_to_alaw(pcm):
    """One 16-bit sample to an A-law byte."""
    pcm >>= 3
    if pcm >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        pcm = -pcm - 1
    seg = _segment(pcm, _SEG_END_A)
    if seg >= 8:
        return 0x7F ^ mask
    aval = seg << 4
    aval |= (pcm >> 1) & 0x0F if seg < 2 else (pcm >> seg) & 0x0F
    return aval ^ mask


def linear_to_ulaw(pcm):
    """One 16-bit sample to a mu-law byte."""
    pcm >>= 2
    if pcm < 0:
        pcm = -pcm
        mask = 0x7F
    else:
        mask = 0xFF
    pcm = min(pcm, 8159) + 0x21  # clip, add bias (33 in the 14-bit domain)
    seg = _segment(pcm, _SEG_END_U)
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((pcm >> (seg + 1)) & 0x0F)) ^ mask


def tone(freq, seconds, rate=8000, amplitude=0.5, phase_samples=0):
    """A sine tone as 16-bit samples."""
    n = int(round(seconds * rate))
    w = 2 * math.pi * freq / rate
    a = amplitude * 32767
    return [int(round(a * math.sin(w * (i + phase_samples)))) for i in range(n)]


# ---------------------------------------------------------------------------------------------
# WAV and signal measurements.

def read_wav(path):
    """(rate, [left], [right]) of a 16-bit stereo (or mono) WAV file."""
    with wave.open(path, "rb") as w:
        ch, width, rate, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
        if width != 2:
            raise ValueError("%s: %d-byte samples, expected 16-bit" % (path, width))
        data = w.readframes(n)
    samples = struct.unpack("<%dh" % (len(data) // 2), data)
    if ch == 1:
        return rate, list(samples), list(samples)
    return rate, list(samples[0::ch]), list(samples[1::ch])


def rms(x, start=0, end=None):
    end = len(x) if end is None else min(end, len(x))
    if end <= start:
        return 0.0
    return math.sqrt(sum(v * v for v in x[start:end]) / (end - start))


def active_span(x, rate, threshold=300, frame_ms=10):
    """(first, last) sample index of the frames whose RMS exceeds threshold, or None."""
    frame = rate * frame_ms // 1000
    first = last = None
    for i in range(0, len(x) - frame + 1, frame):
        if rms(x, i, i + frame) > threshold:
            if first is None:
                first = i
            last = i + frame
    if first is None:
        return None
    # Refine both ends to the sample.
    while first > 0 and abs(x[first - 1]) > threshold / 4:
        first -= 1
    while last < len(x) and abs(x[last]) > threshold / 4:
        last += 1
    return first, last


def goertzel_power(x, start, n, freq, rate):
    """Normalised power of `freq` in x[start:start+n] (Goertzel)."""
    k = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for v in x[start:start + n]:
        s1, s2 = v + k * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - k * s1 * s2) / (n * n)


def dominant_frequency(x, start, n, rate, lo=100, hi=3900, step=25):
    """The strongest frequency of a coarse DFT scan (step Hz) over x[start:start+n]."""
    hi = min(hi, rate // 2 - step)
    best, best_p = None, -1.0
    f = lo
    while f <= hi:
        p = goertzel_power(x, start, n, f, rate)
        if p > best_p:
            best, best_p = f, p
        f += step
    return best


def tone_report(x, rate, span, expected, windows=5, window_ms=100, also=()):
    """Checks that `expected` Hz dominates `windows` windows (with energy) spread over
    span=(first, last), that the other test tone (1 kHz <-> 2 kHz) stays 20 dB below it unless
    it is listed in `also` (streams mixed into this channel on purpose), and that every tone of
    `also` is present. Returns (ok, text)."""
    first, last = span
    n = rate * window_ms // 1000
    starts = [s for s in range(first, last - n + 1, n) if rms(x, s, s + n) > 1000]
    if not starts:
        return False, "no %d ms window with a tone" % window_ms
    picked = [starts[(len(starts) - 1) * k // max(1, windows - 1)] for k in range(windows)]
    found = []
    ok = True
    allowed = {expected} | set(also)
    for s in picked:
        f = dominant_frequency(x, s, n, rate)
        found.append(f)
        if f is None or min(abs(f - a) for a in allowed) > 25:
            ok = False
    text = "tone %s Hz (expected %d" % ("/".join(str(f) for f in sorted(set(found))), expected)
    other = 2000 if expected == 1000 else 1000
    ratios = []
    for s in picked:
        p_exp = goertzel_power(x, s, n, expected, rate)
        ratios.append(10 * math.log10(max(goertzel_power(x, s, n, other, rate), 1e-9) /
                                      max(p_exp, 1e-9)))
    if other in also:
        if min(ratios) < -20:
            ok = False
        text += ", mixed with %d Hz at %.0f dB)" % (other, min(ratios))
    else:
        if max(ratios) > -20:
            ok = False
        text += ", %d Hz at %.0f dB)" % (other, max(ratios))
    return ok, text


# ---------------------------------------------------------------------------------------------
# pcap summaries (the RTP-only captures of the sample folder).

def pcap_rtp_summary(path):
    """{packets, duration_s, payload_types} of the UDP/RTP packets of a classic pcap file."""
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nanos = magic in (0xA1B23C4D, 0x4D3CB2A1)
    link = struct.unpack(endian + "I", data[20:24])[0]
    l2 = {1: 14, 113: 16, 0: 4}.get(link, 14)
    off, n, t0, t1, pts = 24, 0, None, None, {}
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        pkt = data[off:off + incl]
        off += incl
        ip = pkt[l2:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        rtp = ip[(ip[0] & 15) * 4 + 8:]
        if len(rtp) < 12:
            continue
        t = sec + frac / (1e9 if nanos else 1e6)
        t0 = t if t0 is None else t0
        t1 = t
        n += 1
        pt = rtp[1] & 0x7F
        pts[pt] = pts.get(pt, 0) + 1
    return {"packets": n, "duration_s": (t1 - t0) if n else 0.0, "payload_types": pts}
