#!/usr/bin/env python3
"""System test of the `callvault` binary: CLI, check-config, and a real `serve`.

serve runs on 127.0.0.1 with port 0 listeners (ports read from the `server.ready` log line);
a UDP socket sends OPTIONS (expects 200) and an SDP-only INVITE (expects 488 + Warning:
not SIPREC); SIGHUP with a changed, then an invalid config; SIGTERM drains and exits 0.
`audit verify` against a SQLite catalog and a real PostgreSQL server on loopback (initdb +
pg_ctl, as the `postgres` user when run as root): an untouched log exits 0, a row edited or a
middle row deleted by hand exits 1 naming it; the chain is also recomputed here from
docs/formats/catalog-schema.md §Audit chains alone (a third party's check).
Every wait is bounded.

Usage: cli_test.py --bin build/<preset>/src/app/callvault --source-dir .
"""
import argparse
import hashlib
import os
import pwd
import shutil
import sqlite3
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


# --- audit verify ---------------------------------------------------------------------------
class Postgres:
    """A private PostgreSQL server on a free loopback port (as tests/catalog/system_test.py)."""

    def __init__(self, work):
        self.dir = os.path.join(work, "pg")
        os.makedirs(self.dir)
        root = "/usr/lib/postgresql"
        versions = sorted((d for d in os.listdir(root) if d.isdigit()), key=int) \
            if os.path.isdir(root) else []
        if not versions:
            raise RuntimeError("PostgreSQL is not installed (scripts/install-deps.sh installs "
                               "`postgresql`)")
        self.bin = os.path.join(root, versions[-1], "bin")
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            os.chmod(work, 0o755)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)

    def run(self, *cmd, check=True):
        cmd = list(cmd)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: {r.stdout}{r.stderr}")
        return r

    def start(self):
        data = os.path.join(self.dir, "data")
        self.run(os.path.join(self.bin, "initdb"), "-D", data, "-U", "callvault", "--auth=trust",
                 "-E", "UTF8", "--no-sync")
        self.run(os.path.join(self.bin, "pg_ctl"), "-D", data, "-w", "-t", "30", "-l",
                 os.path.join(self.dir, "log"), "-o",
                 f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
                 "start")
        self.run(os.path.join(self.bin, "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                 "-U", "callvault", "callvault")

    def stop(self):
        self.run(os.path.join(self.bin, "pg_ctl"), "-D", os.path.join(self.dir, "data"), "-w",
                 "-m", "fast", "stop", check=False)

    def sql(self, statement):
        r = self.run(os.path.join(self.bin, "psql"), "-h", "127.0.0.1", "-p", str(self.port),
                     "-U", "callvault", "-d", "callvault", "-At", "-v", "ON_ERROR_STOP=1", "-c",
                     statement)
        return r.stdout.strip()

    def url(self):
        return f"postgresql://callvault@127.0.0.1:{self.port}/callvault"


def third_party_check(rows):
    """The chain recomputed from the format document alone; returns the first bad (origin, seq)
    or None. `rows`: (origin, origin_seq, uid, at_ms, actor, action, target, tenant, detail,
    remote, prev_hash, hash) with text as bytes, ordered by origin, origin_seq."""
    def field(v):
        b = v if isinstance(v, bytes) else str(v).encode()
        return str(len(b)).encode() + b":" + b + b"\n"
    origin, prev, seq = None, None, 0
    for row in rows:
        if row[0] != origin:
            origin, prev, seq = row[0], b"0" * 64, 0
        seq += 1
        canon = b"callvault-audit-v1\n" + b"".join(field(v) for v in row[:10])
        if row[1] != seq or row[10] != prev or \
                hashlib.sha256(prev + canon).hexdigest().encode() != row[11]:
            return (origin, seq)
        prev = row[11]
    return None


def make_entries(binary, args, what):
    """Six audit entries through the CLI: three users (one of tenant acme), three tokens."""
    for name, tenant in (("alice", ""), ("bob", "acme"), ("carol", "")):
        extra = ["--tenant", tenant] if tenant else []
        p = subprocess.run([binary, "user", "add", "--name", name, "--role", "supervisor",
                            *extra, *args], input="password-123\n", capture_output=True,
                           text=True, timeout=30)
        check(p.returncode == 0, f"{what}: user add {name}", p.stderr)
    for name in ("alice", "bob", "carol"):
        rc, _, err = run(binary, "token", "create", "--user", name, *args, timeout=30)
        check(rc == 0, f"{what}: token create for {name}", err)


def check_verify(binary, args, what, tamper, restore, delete, count):
    """The acceptance of `audit verify` on one backend. `tamper(id)`, `restore(id)`,
    `delete(id)` change the database by hand; `count()` is the number of audit rows."""
    rc, out, err = run(binary, "audit", "verify", *args, timeout=60)
    check(rc == 0 and "audit log intact: 6 entries in 1 chain" in out,
          f"{what}: audit verify on an untouched log: exit 0", f"rc={rc}\n{out}{err}")
    m = re.search(r"head seq (\d+) ([0-9a-f]{64})", out)
    head = f"rec-audit:{m.group(1)}:{m.group(2)}" if m else ""
    rc, out, err = run(binary, "audit", "verify", "--anchor", head, *args, timeout=60)
    check(rc == 0, f"{what}: the head as an anchor matches", f"rc={rc}\n{out}{err}")

    tamper(3)
    rc, out, err = run(binary, "audit", "verify", *args, timeout=60)
    check(rc == 1 and re.search(r"changed: id=3 uid=\S+ origin=rec-audit seq=3\b", err),
          f"{what}: a row edited by hand: exit 1 naming it", f"rc={rc}\n{out}{err}")
    restore(3)
    rc, out, err = run(binary, "audit", "verify", *args, timeout=60)
    check(rc == 0, f"{what}: the edit undone: exit 0 again", f"rc={rc}\n{out}{err}")

    delete(4)
    rc, out, err = run(binary, "audit", "verify", *args, timeout=60)
    check(rc == 1 and "removed: seq 4 of origin rec-audit is missing" in err and "id=5 " in err,
          f"{what}: a middle row deleted: exit 1 naming the gap", f"rc={rc}\n{out}{err}")
    rc, out, err = run(binary, "audit", "verify", "--anchor", head, *args, timeout=60)
    check(rc == 1, f"{what}: still broken with the anchor", f"rc={rc}\n{out}{err}")
    check(count() == 5, f"{what}: verify wrote nothing (read-only)", f"{count()} rows")
    rc, _, err = run(binary, "audit", "verify", "--anchor", "nonsense", *args, timeout=60)
    check(rc == 2 and "--anchor" in err, f"{what}: a bad anchor: exit 2", f"rc={rc}\n{err}")


def test_audit_verify_sqlite(binary, tmp):
    data = os.path.join(tmp, "audit-sqlite")
    config = os.path.join(tmp, "audit-sqlite.toml")
    with open(config, "w") as f:
        f.write('[node]\nid = "rec-audit"\n')
    args = ["-c", config, "--data-dir", data]
    rc, _, err = run(binary, "audit", "verify", *args)
    check(rc == 2 and "no SQLite catalog" in err, "sqlite: no catalog yet: exit 2", err)
    make_entries(binary, args, "sqlite")
    db_path = os.path.join(data, "catalog.db")

    def rows():
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        db.text_factory = bytes
        out = db.execute("SELECT origin, origin_seq, uid, at_ms, actor, action, target, tenant, "
                         "detail, remote, prev_hash, hash FROM audit_log "
                         "ORDER BY origin, origin_seq").fetchall()
        db.close()
        return out
    all_rows = rows()
    check(len(all_rows) == 6 and third_party_check(all_rows) is None,
          "sqlite: the chain recomputed from the format document matches",
          f"{len(all_rows)} rows, first bad: {third_party_check(all_rows)}")
    tenants = [r[7] for r in all_rows]
    check(tenants == [b"", b"acme", b"", b"", b"acme", b""], "sqlite: CLI entries carry tenants",
          str(tenants))

    def sql(statement):
        db = sqlite3.connect(db_path)
        db.execute(statement)
        db.commit()
        db.close()
    original = {}

    def tamper(row_id):
        db = sqlite3.connect(db_path)
        original[row_id] = db.execute("SELECT detail FROM audit_log WHERE id = ?",
                                      (row_id,)).fetchone()[0]
        db.close()
        sql(f"UPDATE audit_log SET detail = '{{\"role\":\"admin\"}}' WHERE id = {row_id}")
    check_verify(binary, args, "sqlite", tamper,
                 lambda i: sql(f"UPDATE audit_log SET detail = '{original[i]}' WHERE id = {i}"),
                 lambda i: sql(f"DELETE FROM audit_log WHERE id = {i}"),
                 lambda: len(rows()))
    check(third_party_check(rows()) == (b"rec-audit", 4),
          "sqlite: the third party's check finds the deleted row too", str(third_party_check(rows())))


def test_audit_verify_postgresql(binary):
    # Its own directory: the server runs as `postgres`, which must reach it (the test's
    # temporary directory is private).
    work = tempfile.mkdtemp(prefix="cv_cli_test_pg_")
    pg = Postgres(work)
    try:
        pg.start()
        config = os.path.join(work, "audit.toml")
        with open(config, "w") as f:
            f.write(f'[node]\nid = "rec-audit"\n[catalog]\nurl = "{pg.url()}"\n')
        args = ["-c", config, "--data-dir", os.path.join(work, "data")]
        make_entries(binary, args, "postgresql")
        check_verify(binary, args, "postgresql",
                     lambda i: pg.sql(f"UPDATE audit_log SET actor = 'mallory' WHERE id = {i}"),
                     lambda i: pg.sql(f"UPDATE audit_log SET actor = 'cli' WHERE id = {i}"),
                     lambda i: pg.sql(f"DELETE FROM audit_log WHERE id = {i}"),
                     lambda: int(pg.sql("SELECT COUNT(*) FROM audit_log")))
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        check(False, "postgresql: server for audit verify", str(e))
    finally:
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--source-dir", default="")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cv_cli_test_") as tmp:
        test_cli(args.bin, args.source_dir, tmp)
        test_audit_verify_sqlite(args.bin, tmp)
        test_audit_verify_postgresql(args.bin)
        test_serve(args.bin, tmp)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed: {', '.join(FAILURES)}")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
