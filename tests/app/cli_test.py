#!/usr/bin/env python3
"""System test of the `callvault` binary: CLI, check-config, and a real `serve`.

serve runs on 127.0.0.1 with port 0 listeners (ports read from the `server.ready` log line);
a UDP socket sends OPTIONS (expects 200) and an SDP-only INVITE (expects 488 + Warning:
not SIPREC); SIGHUP with a changed, then an invalid config; SIGTERM drains and exits 0.
Every wait is bounded.

Usage: cli_test.py --bin build/<preset>/src/app/callvault --source-dir .
"""
import argparse
import os
import queue
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

FAILURES = []


def check(cond, what, detail=""):
    if cond:
        print(f"ok   {what}")
    else:
        print(f"FAIL {what}" + (f"\n     {detail}" if detail else ""))
        FAILURES.append(what)


def run(binary, *args, timeout=20):
    p = subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def test_cli(binary, source_dir, tmp):
    rc, out, _ = run(binary, "version")
    check(rc == 0 and re.match(r"callvault \d+\.\d+\.\d+ \(.+\)\n$", out), "version", out)

    rc, out, _ = run(binary, "--help")
    check(rc == 0 and all(c in out for c in ("serve", "check-config", "version",
                                              "config-reference")), "--help lists commands", out)
    for cmd in ("serve", "check-config", "version", "config-reference"):
        rc, out, _ = run(binary, cmd, "--help")
        check(rc == 0 and "Usage:" in out, f"{cmd} --help", out)
    rc, _, err = run(binary)
    check(rc == 2, "no command: exit 2", err)
    rc, _, err = run(binary, "serve", "--bogus")
    check(rc == 2, "unknown option: exit 2", err)

    if source_dir:
        rc, out, _ = run(binary, "config-reference")
        with open(os.path.join(source_dir, "docs", "configuration.md")) as f:
            check(rc == 0 and out == f.read(), "config-reference == docs/configuration.md")

    good = os.path.join(tmp, "good.toml")
    with open(good, "w") as f:
        f.write('[node]\nid = "rec-1"\n\n[sip]\nlisten = ["udp:127.0.0.1:5060"]\n'
                'min_se_s = 120\n')
    rc, out, err = run(binary, "check-config", good)
    check(rc == 0 and out == "OK\n", "check-config good file: OK, exit 0", out + err)

    bad = os.path.join(tmp, "bad.toml")
    with open(bad, "w") as f:
        f.write('[sip]\nworkers = 2\n  min_se_s = 30\nmin_se = 90\n')
    rc, out, err = run(binary, "check-config", bad)
    check(rc == 1, "check-config bad file: exit 1", f"rc={rc}")
    check(f"{bad}:3:3: sip.min_se_s: must be >= 90 (RFC 4028), got 30" in err,
          "check-config names file:line:col: key", err)
    check(f"{bad}:4:1: sip.min_se: unknown key (did you mean sip.min_se_s?)" in err,
          "check-config reports an unknown key", err)
    check(out == "", "check-config bad file prints nothing on stdout", out)

    tls = os.path.join(tmp, "tls.toml")
    with open(tls, "w") as f:
        f.write('[sip]\nlisten = ["tls:127.0.0.1:5061"]\n')
    rc, _, err = run(binary, "check-config", tls)
    check(rc == 1 and "sip.listen: listener \"tls:127.0.0.1:5061\" needs sip.tls_certificate"
          in err, "check-config: TLS listener without certificate", err)

    rc, _, err = run(binary, "check-config", os.path.join(tmp, "missing.toml"))
    check(rc == 1 and "missing.toml" in err, "check-config missing file: exit 1", err)

    rc, _, err = run(binary, "serve", "-c", bad)
    check(rc == 1 and "sip.min_se_s: must be >= 90" in err, "serve with a bad config: exit 1",
          err)
    rc, _, err = run(binary, "serve", "--log-level", "loud")
    check(rc == 1 and "--log-level: log.level: must be one of" in err,
          "serve --log-level is validated", err)


class Server:
    """`callvault serve` with its log lines collected from stderr."""

    def __init__(self, binary, config, data_dir):
        self.lines = queue.Queue()
        self.all = []
        self.proc = subprocess.Popen([binary, "serve", "-c", config, "--data-dir", data_dir],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.all.append(line.rstrip("\n"))
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if re.search(pattern, line):
                return line
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def sip_request(method, port, local_port, call_id, branch, body=""):
    lines = [
        f"{method} sip:recorder@127.0.0.1:{port} SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch={branch};rport",
        "Max-Forwards: 70",
        "From: <sip:src@127.0.0.1>;tag=src1",
        "To: <sip:recorder@127.0.0.1>",
        f"Call-ID: {call_id}",
        f"CSeq: 1 {method}",
        f"Contact: <sip:src@127.0.0.1:{local_port}>",
    ]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def exchange(sock, port, data, final=True, timeout=5):
    """Sends `data` (resending like a UAC) until a final (or any) response; returns its text."""
    deadline = time.monotonic() + timeout
    resend = 0.0
    while time.monotonic() < deadline:
        if time.monotonic() >= resend:
            sock.sendto(data, ("127.0.0.1", port))
            resend = time.monotonic() + 0.5
        sock.settimeout(0.1)
        try:
            reply = sock.recv(65535).decode(errors="replace")
        except socket.timeout:
            continue
        code = int(reply.split(" ", 2)[1]) if reply.startswith("SIP/2.0 ") else 0
        if not final or code >= 200:
            return reply
    return ""


def header(msg, name):
    m = re.search(rf"^{name}:\s*(.*?)\r?$", msg, re.M | re.I)
    return m.group(1) if m else None


def test_serve(binary, tmp):
    config = os.path.join(tmp, "serve.toml")
    base = ('[sip]\nlisten = ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"]\nworkers = 2\n'
            '[server]\ndrain_timeout_s = 3\n[http]\nport = 0\n')
    with open(config, "w") as f:
        f.write(base)
    data_dir = os.path.join(tmp, "data", "node")
    server = Server(binary, config, data_dir)
    try:
        ready = server.wait_for(r"event=server\.ready")
        check(ready is not None, "serve logs event=server.ready", "\n".join(server.all))
        if ready is None:
            return
        m = re.search(r"listeners=(\S+)", ready)
        listeners = dict(l.split(":", 1) for l in m.group(1).split(",")) if m else {}
        check("udp" in listeners and "tcp" in listeners and not listeners["udp"].endswith(":0"),
              "ready line shows the bound ports", ready)
        check(os.path.isdir(data_dir), "data dir created")
        check(any("event=server.fd_limit nofile=" in l for l in server.all), "fd limit logged")
        port = int(listeners["udp"].rsplit(":", 1)[1])

        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        lport = sock.getsockname()[1]

        def options(tag):
            return exchange(sock, port, sip_request(
                "OPTIONS", port, lport, f"opt-{tag}-{random.random()}@t",
                f"z9hG4bK-o{tag}{random.randint(0, 1 << 30)}"))

        reply = options("1")
        check(reply.startswith("SIP/2.0 200"), "OPTIONS -> 200", reply)

        branch = f"z9hG4bK-i{random.randint(0, 1 << 30)}"
        call_id = f"inv-{random.random()}@t"
        sdp = ("v=0\r\no=src 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               "m=audio 40000 RTP/AVP 0\r\na=sendonly\r\n")
        reply = exchange(sock, port, sip_request("INVITE", port, lport, call_id, branch, sdp))
        warning = header(reply, "Warning") or ""
        # An SDP-only INVITE is not a SIPREC session: refused with the reason (the SIPREC path
        # itself is tested end to end by tests/siprec/).
        check(reply.startswith("SIP/2.0 488") and "not a SIPREC session" in warning,
              "SDP-only INVITE -> 488 with Warning", reply)
        if reply.startswith("SIP/2.0 488"):  # ACK the final response (RFC 3261 §17.1.1.3)
            to = header(reply, "To")
            ack = sip_request("ACK", port, lport, call_id, branch).replace(
                b"To: <sip:recorder@127.0.0.1>", f"To: {to}".encode())
            sock.sendto(ack, ("127.0.0.1", port))

        # SIGHUP: a reloadable and a restart-only change.
        with open(config, "w") as f:
            f.write(base.replace("workers = 2", "workers = 3") + '[log]\nlevel = "debug"\n')
        server.proc.send_signal(signal.SIGHUP)
        line = server.wait_for(r"event=config\.reloaded")
        check(line is not None and "applied=log.level" in line,
              "SIGHUP applies the new log level", line or "\n".join(server.all[-5:]))
        line = server.wait_for(r"event=config\.restart_needed")
        check(line is not None and "keys=sip.workers" in line,
              "SIGHUP says which keys need a restart", line or "\n".join(server.all[-5:]))

        # SIGHUP with an invalid file: logged, the running config stays.
        with open(config, "w") as f:
            f.write(base + "[sip\n")
        server.proc.send_signal(signal.SIGHUP)
        line = server.wait_for(r"event=config\.reload_failed")
        check(line is not None and "kept_running_config" in line and "serve.toml:" in line,
              "SIGHUP with a bad file keeps running", line or "\n".join(server.all[-5:]))
        reply = options("2")
        check(reply.startswith("SIP/2.0 200"), "OPTIONS after a failed reload -> 200", reply)

        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        try:
            rc = server.proc.wait(timeout=3 + 10)
        except subprocess.TimeoutExpired:
            rc = None
        took = time.monotonic() - started
        check(rc == 0, "SIGTERM: exit 0", f"rc={rc}")
        check(took < 3 + 5, f"SIGTERM: stopped within the drain timeout ({took:.1f}s)")
        time.sleep(0.2)  # let the reader thread collect the last lines
        log = "\n".join(server.all)
        for event in ("server.drain_started", "server.drain_done", "server.stopped"):
            check(f"event={event}" in log, f"drain logs event={event}", log[-2000:])
    finally:
        server.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--source-dir", default="")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cv_cli_test_") as tmp:
        test_cli(args.bin, args.source_dir, tmp)
        test_serve(args.bin, tmp)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed: {', '.join(FAILURES)}")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
