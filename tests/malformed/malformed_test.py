#!/usr/bin/env python3
"""Malformed-message corpus against a running SIP server built on callvault's stack.

Usage: malformed_test.py --server 'CMD ARGS...'   ({tmp} is replaced by a fresh temp dir; the
command must listen on 127.0.0.1 UDP and
TCP port 0 and log `event=sip.listening transport=T addr=127.0.0.1:PORT`), e.g.
  malformed_test.py --server 'build/release/tests/sip_test_uas --listen udp:127.0.0.1:0 --listen tcp:127.0.0.1:0'

Each case is sent on its own socket; the answer must be the one documented in
docs/sip-errors.md (a status code and a Warning naming the problem, no answer at all, or a
closed TCP connection). After every case an OPTIONS must still get 200, and the server must
still be running at the end. Prints one line per case and `N passed, N failed`.
"""
import argparse
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

CRLF = "\r\n"


def request(method="OPTIONS", cseq_method=None, call_id="mal-{n}", extra="", body="",
            content_length=None, via="SIP/2.0/{T} 127.0.0.1:5999;branch=z9hG4bK-{n}",
            to="<sip:srs@127.0.0.1>", frm="<sip:src@127.0.0.1>;tag=t{n}", uri="sip:srs@127.0.0.1",
            version="SIP/2.0", drop=()):
    """A request as a list of lines, with the given header values; None drops a header."""
    lines = [f"{method} {uri} {version}"]
    hdrs = [("Via", via), ("From", frm), ("To", to), ("Call-ID", call_id),
            ("CSeq", f"1 {cseq_method or method}"), ("Max-Forwards", "70"),
            ("Contact", "<sip:src@127.0.0.1:5999>")]
    for name, value in hdrs:
        if name not in drop and value is not None:
            lines.append(f"{name}: {value}")
    if extra:
        lines.extend(extra.split("\n"))
    if content_length is None:
        content_length = str(len(body.encode()))
    if content_length != "none":
        lines.append(f"Content-Length: {content_length}")
    return CRLF.join(lines) + CRLF + CRLF + body


SDP = ("v=0\r\no=src 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 6000 RTP/AVP 0\r\na=sendonly\r\n")
SDP_TYPE = "Content-Type: application/sdp"
# RFC 4475 3.1.1.2's shape in our own words: a method made of every token character, and a To
# display name escaping NUL, BEL and DEL with quoted-pairs (RFC 3261 25.1).
ODD_METHOD = "!odd-Method0123456789_*+`.%really'~"
ESCAPED_CONTROLS_TO = '"nul:\\\x00 bel:\\\x07 del:\\\x7f" <sip:srs@127.0.0.1>'

# (name, transport, payload template, expectation). Expectations:
#   ("code", N, "warning text")  a final response N whose Warning contains the text
#   ("code", N, "warning text", {"Header": "text"})  ... and those headers contain the texts
#   ("drop",)                    no response at all (logged by the server)
#   ("close",)                   TCP only: the server closes the connection
CASES = [
    ("missing Call-ID", "UDP", request(drop=("Call-ID",)), ("drop",)),
    ("duplicate Call-ID", "UDP", request(extra="Call-ID: other-{n}"), ("code", 400, "more than one Call-ID")),
    ("empty Call-ID", "UDP", request(call_id=""), ("drop",)),
    ("Call-ID with spaces", "UDP", request(call_id="a b {n}"), ("drop",)),
    ("CSeq method mismatch", "UDP", request(cseq_method="BYE"), ("code", 400, "does not match")),
    ("CSeq not a number", "UDP", request(extra="", cseq_method="OPTIONS").replace("CSeq: 1", "CSeq: x"), ("code", 400, "bad CSeq")),
    ("CSeq above 2^31-1", "UDP", request().replace("CSeq: 1 ", "CSeq: 2147483648 "), ("code", 400, "bad CSeq")),
    ("CSeq without method", "UDP", request().replace("CSeq: 1 OPTIONS", "CSeq: 1"), ("code", 400, "bad CSeq")),
    ("duplicate CSeq", "UDP", request(extra="CSeq: 2 OPTIONS"), ("code", 400, "more than one CSeq")),
    ("missing CSeq", "UDP", request(drop=("CSeq",)), ("drop",)),
    ("missing Via", "UDP", request(drop=("Via",)), ("drop",)),
    ("missing From", "UDP", request(drop=("From",)), ("drop",)),
    ("missing To", "UDP", request(drop=("To",)), ("drop",)),
    ("Content-Length larger than body", "UDP", request(body="v=0\r\n", content_length="500"), ("code", 400, "larger than the body")),
    ("Content-Length smaller than body (UDP: extra ignored, RFC 3261 18.3)", "UDP", request(body="v=0\r\nextra", content_length="3"), ("code", 200, "")),
    ("Content-Length not a number", "UDP", request(content_length="abc"), ("code", 400, "bad Content-Length")),
    ("Content-Length negative", "UDP", request(content_length="-1"), ("code", 400, "bad Content-Length")),
    ("two Content-Length that disagree", "UDP", request(extra="Content-Length: 7"), ("code", 400, "disagree")),
    ("Content-Length over the body limit", "UDP", request(content_length="10000000"), ("code", 513, "exceeds")),
    ("binary junk", "UDP", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03junk", ("drop",)),
    ("only line breaks", "UDP", "\r\n\r\n", ("drop",)),
    ("start line only", "UDP", "OPTIONS sip:srs@127.0.0.1 SIP/2.0\r\n\r\n", ("drop",)),
    ("header without colon", "UDP", request(extra="ThisHeaderHasNoColon"), ("code", 400, "without ':'")),
    ("header name with a space", "UDP", request(extra="Bad Name: v"), ("code", 400, "bad header name")),
    ("NUL byte in a header", "UDP", request(extra="X-Nul: a\x00b"), ("code", 400, "NUL")),
    ("continuation before first header", "UDP", request().replace("\r\nVia:", "\r\n folded\r\nVia:", 1), ("code", 400, "continuation")),
    ("headers not terminated", "UDP", request()[:-4] + "\r\n", ("code", 400, "not terminated")),
    ("60 KB header", "UDP", request(extra="X-Big: " + "a" * 60000), ("code", 513, "headers exceed")),
    ("40 KB Via (answer would exceed our own limits)", "UDP", request(via="SIP/2.0/{T} 127.0.0.1:5999;branch=z9hG4bK-{n};x=" + "v" * 40000), ("drop",)),
    ("header flood (300 headers)", "UDP", request(extra="\n".join(f"X-H{i}: v" for i in range(300))), ("code", 513, "more than")),
    ("bad Via version", "UDP", request(via="SIP/3.0/{T} 127.0.0.1:5999;branch=z9hG4bK-{n}"), ("code", 400, "bad Via")),
    ("Via without sent-by", "UDP", request(via="SIP/2.0/{T}"), ("code", 400, "bad Via")),
    ("Via port out of range", "UDP", request(via="SIP/2.0/{T} 127.0.0.1:99999;branch=z9hG4bK-{n}"), ("code", 400, "bad Via")),
    ("Via with empty branch", "UDP", request(via="SIP/2.0/{T} 127.0.0.1:5999;branch="), ("code", 400, "bad Via")),
    ("From with unterminated <", "UDP", request(frm="<sip:src@127.0.0.1;tag=1"), ("code", 400, "bad From")),
    ("To without scheme", "UDP", request(to="<srs-at-host>"), ("code", 400, "bad To")),
    ("Max-Forwards 300", "UDP", request().replace("Max-Forwards: 70", "Max-Forwards: 300"), ("code", 400, "bad Max-Forwards")),
    ("SIP/3.0 request", "UDP", request(version="SIP/3.0"), ("code", 505, "version")),
    ("Request-URI without scheme", "UDP", request(uri="srs-at-host"), ("code", 400, "no scheme")),
    ("unknown method", "UDP", request(method="FOOBAR"), ("code", 501, "not implemented")),
    ("REGISTER to a recorder", "UDP", request(method="REGISTER"), ("code", 405, "not allowed")),
    ("BYE outside a dialog", "UDP", request(method="BYE", to="<sip:srs@127.0.0.1>;tag=nope"), ("code", 481, "no such dialog")),
    ("UPDATE outside a dialog", "UDP", request(method="UPDATE", to="<sip:srs@127.0.0.1>;tag=nope"), ("code", 481, "no such dialog")),
    ("CANCEL without INVITE", "UDP", request(method="CANCEL"), ("code", 481, "no transaction")),
    ("ACK without INVITE", "UDP", request(method="ACK"), ("drop",)),
    ("INVITE requiring an unknown extension", "UDP", request(method="INVITE", extra="Require: 100rel, foo"), ("code", 420, "unsupported extension")),
    ("INVITE with Session-Expires below Min-SE", "UDP", request(method="INVITE", extra="Supported: timer\nSession-Expires: 30"), ("code", 422, "Min-SE")),
    ("INVITE with a bad Session-Expires", "UDP", request(method="INVITE", extra="Session-Expires: soon"), ("code", 400, "Session-Expires")),
    # Conformance (issue 17): RFC 3261 8.2.2 header inspection, 25.1 grammar, 21.4.7 Accept.
    ("OPTIONS requiring unknown extensions", "UDP", request(extra="Require: nothingSupportedHere, siprec\nRequire: nothingHere2"), ("code", 420, "unsupported extension", {"Unsupported": "nothingSupportedHere, nothingHere2"})),
    ("OPTIONS requiring timer and siprec (supported)", "UDP", request(extra="Require: timer, siprec"), ("code", 200, "")),
    ("BYE outside a dialog requiring an unknown extension (420 before 481)", "UDP", request(method="BYE", to="<sip:srs@127.0.0.1>;tag=nope", extra="Require: foo"), ("code", 420, "unsupported extension", {"Unsupported": "foo"})),
    ("Request-URI with an unknown scheme", "UDP", request(uri="nobodyKnowsThisScheme:totallyopaquecontent"), ("code", 416, "scheme")),
    ("Request-URI with a known but atypical scheme", "UDP", request(uri="soap.beep://127.0.0.1:3002"), ("code", 416, "scheme")),
    ("INVITE to a urn: Request-URI", "UDP", request(method="INVITE", uri="urn:service:sos", extra=SDP_TYPE, body=SDP), ("code", 416, "scheme")),
    ("tel: Request-URI (accepted)", "UDP", request(uri="tel:+1-555-0100"), ("code", 200, "")),
    ("unusual method, quoted-pairs escaping NUL/BEL/DEL in To", "UDP", request(method=ODD_METHOD, to=ESCAPED_CONTROLS_TO, via="SIP/2.0/{T} 127.0.0.1:5999;branch=z9hG4bK-.!%77*_+`'~{n}"), ("code", 501, "not implemented")),
    ("NUL inside a quoted display name, not escaped", "UDP", request(drop=("Contact",), extra='Contact: "a\x00b" <sip:src@127.0.0.1:5999>'), ("code", 400, "NUL byte in header Contact")),
    ("escaped NUL outside quotes", "UDP", request(drop=("Contact",), extra='Contact: a\\\x00 <sip:src@127.0.0.1:5999>'), ("code", 400, "NUL byte in header Contact")),
    ("bare NUL in To (no To left to answer with)", "UDP", request(to='"a\x00b" <sip:srs@127.0.0.1>'), ("drop",)),
    ("INVITE with an empty Via parameter (;;)", "UDP", request(method="INVITE", via="SIP/2.0/{T} 127.0.0.1:5999;branch=z9hG4bK-{n};;rport", extra=SDP_TYPE, body=SDP), ("code", 400, "bad Via: empty parameter")),
    ("INVITE with an empty Via list item (,,)", "UDP", request(method="INVITE", via="SIP/2.0/{T} 127.0.0.1:5999;branch=z9hG4bK-{n},,SIP/2.0/UDP 192.0.2.15;branch=z9hG4bK-x", extra=SDP_TYPE, body=SDP), ("code", 400, "bad Via: empty list item")),
    ("INVITE with separators only in a second Via", "UDP", request(method="INVITE", extra="Via: SIP/2.0/UDP 192.0.2.15;;,;,,\n" + SDP_TYPE, body=SDP), ("code", 400, "bad Via: empty parameter")),
    ("INVITE with empty Contact parameters", "UDP", request(method="INVITE", drop=("Contact",), extra='Contact: "Joe" <sip:src@127.0.0.1:5999>;;;;\n' + SDP_TYPE, body=SDP), ("code", 400, "bad Contact: empty parameter")),
    ("INVITE with an empty From parameter", "UDP", request(method="INVITE", frm="sip:src@127.0.0.1;;tag=t{n}", extra=SDP_TYPE, body=SDP), ("code", 400, "bad From: empty parameter")),
    ("INVITE whose Accept excludes SDP", "UDP", request(method="INVITE", extra="Accept: text/nobodyKnowsThis\n" + SDP_TYPE, body=SDP), ("code", 406, "Accept allows none")),
    ("INVITE whose Accept gives SDP q=0", "UDP", request(method="INVITE", extra="Accept: application/sdp;q=0\n" + SDP_TYPE, body=SDP), ("code", 406, "Accept allows none")),
    ("unsolicited response", "UDP", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-{n}\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: r-{n}\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n", ("drop",)),
    ("status line with a bad code", "UDP", "SIP/2.0 9999 Huh\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK-{n}\r\n\r\n", ("drop",)),
    ("LF-only line ends (tolerated)", "UDP", request().replace("\r\n", "\n"), ("code", 200, "")),
    ("compact forms and no space after colon (tolerated)", "UDP", request().replace("Call-ID: ", "i:").replace("Via: ", "v:  "), ("code", 200, "")),
    # Stream transports: framing errors close the connection (there is no message boundary to
    # answer after); a complete but invalid message is answered like on UDP.
    ("TCP: no Content-Length", "TCP", request(content_length="none"), ("close",)),
    ("TCP: 70 KB header", "TCP", request(extra="X-Big: " + "a" * 70000), ("close",)),
    ("TCP: Content-Length over the body limit", "TCP", request(content_length="10000000"), ("close",)),
    ("TCP: binary junk with an empty line", "TCP", "\x00\x01\x02junk\r\n\r\nmore junk", ("close",)),
    ("TCP: CSeq method mismatch", "TCP", request(cseq_method="BYE"), ("code", 400, "does not match")),
    ("TCP: truncated stream then close", "TCP", request(body="v=0\r\n" * 10)[:-20], ("truncated",)),
]


def start_server(cmd, work):
    log = open(os.path.join(work, "server.log"), "w+")
    proc = subprocess.Popen(shlex.split(cmd), stdout=log, stderr=subprocess.STDOUT)
    ports = {}
    deadline = time.time() + 15
    while time.time() < deadline and len(ports) < 2:
        log.seek(0)
        for m in re.finditer(r"transport=(\w+) addr=127\.0\.0\.1:(\d+)", log.read()):
            ports[m.group(1).upper()] = int(m.group(2))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    return proc, log, ports


def recv_final(sock, timeout):
    """Reads datagrams/stream data until a final response or timeout; returns text or None."""
    sock.settimeout(timeout)
    buf = b""
    end = time.time() + timeout
    while time.time() < end:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            return None
        except ConnectionResetError:
            return "CLOSED"
        if not data:
            return "CLOSED" if not buf else buf.decode("latin-1")
        buf += data
        for msg in re.split(r"(?=SIP/2\.0 \d{3} )", buf.decode("latin-1")):
            m = re.match(r"SIP/2\.0 (\d{3})", msg)
            if m and int(m.group(1)) >= 200 and "\r\n\r\n" in msg:
                return msg
    return None


def options_ok(ports, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    msg = request(call_id=f"alive-{n}").replace("{n}", f"alive{n}").replace("{T}", "UDP")
    s.sendto(msg.encode(), ("127.0.0.1", ports["UDP"]))
    r = recv_final(s, 3)
    s.close()
    return r is not None and r.startswith("SIP/2.0 200")


def run_case(i, case, ports):
    name, transport, payload, expect = case
    data = payload.replace("{n}", str(i)).replace("{T}", transport).encode("latin-1")
    if transport == "UDP":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(data, ("127.0.0.1", ports["UDP"]))
    else:
        s = socket.create_connection(("127.0.0.1", ports["TCP"]), timeout=3)
        s.sendall(data)
        if expect[0] == "truncated":
            s.close()
            return True, "sent a truncated message and closed"
    wait = 1.0 if expect[0] == "drop" else 3.0
    r = recv_final(s, wait)
    s.close()
    if expect[0] == "drop":
        return r is None, "no answer" if r is None else "answered: " + r.split("\r\n")[0]
    if expect[0] == "close":
        return r == "CLOSED", "closed" if r == "CLOSED" else f"got {r!r:.80}"
    if r is None or r == "CLOSED":
        return False, f"no answer ({r})"
    code = int(r[8:11])
    warning = re.search(r"^Warning: (.*)$", r, re.M | re.I)
    wtext = warning.group(1).strip() if warning else ""
    ok = code == expect[1] and (expect[1] < 300 or (expect[2].lower() in wtext.lower() and wtext.startswith("399 ")))
    for hname, htext in (expect[3] if len(expect) > 3 else {}).items():
        h = re.search(rf"^{hname}: (.*)$", r, re.M | re.I)
        ok = ok and h is not None and htext in h.group(1)
        wtext += f" [{hname}: {h.group(1).strip() if h else '(missing)'}]"
    return ok, f"{code} {wtext}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="cv-malformed-")
    proc, log, ports = start_server(args.server.replace("{tmp}", work), work)
    if "UDP" not in ports or "TCP" not in ports:
        log.seek(0)
        print("server did not start:\n" + log.read()[-3000:])
        proc.kill()
        return 1
    passed = failed = 0
    for i, case in enumerate(CASES):
        ok, what = run_case(i, case, ports)
        alive = options_ok(ports, i)
        ok = ok and alive
        print(f"{'PASS' if ok else 'FAIL'} {case[0]}: {what}{'' if alive else ' (OPTIONS not answered afterwards!)'}")
        passed += ok
        failed += not ok
    still_running = proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    if not still_running:
        print("FAIL server exited during the run")
        failed += 1
    print(f"cases: {len(CASES)}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
