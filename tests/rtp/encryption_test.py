#!/usr/bin/env python3
"""Encryption at rest end to end (issue 14, acceptance 8): `callvault serve` with
[encryption] tenants = ["*"], one SIPREC call over loopback, then through the CLI and the API.

Usage: encryption_test.py --bin build/<preset>/src/app/callvault [--keep]

Checks:
  * `callvault encryption init-master-key` writes a 0600 key and refuses to overwrite it;
  * `serve` refuses to start with the key at mode 0644 or inside the data directory, naming the
    file and why;
  * the call's audio is stored as `<name>.wav.cvenc` starting with the CVENC magic, its manifest
    is version 2 with `audio.encryption`, `audio.bytes`/`sha256` of the stored bytes;
  * GET …/audio returns the plaintext WAV (plaintext_bytes long), Range returns its slices, and
    no 64-byte window of that plaintext occurs in the stored file;
  * a flipped stored byte → 500 audio_corrupt, callvault_decrypt_failures_total rises;
  * `callvault tenant-key destroy --tenant "" --yes` → exit 0, the call answers 410
    key_destroyed while the server keeps running, the audit log has tenant_key.destroy (actor
    cli); a call recorded afterwards gets a new key and plays.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import siprec_src as S  # noqa: E402

MAGIC = b"CVENC\r\n\x1a"


def http(port, path, token, headers=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                 headers={"Authorization": f"Bearer {token}", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def record_call(srv, name, seconds=3):
    """One call, two G.711 streams of tones; returns the SIP Call-ID."""
    uac = S.Uac(srv.sip_port)
    dlg = uac.new_dialog(f"{name}-{time.time_ns():x}@127.0.0.1")
    media = [dict(port=31000, pt=8, codec="PCMA", label="1"),
             dict(port=31002, pt=0, codec="PCMU", label="2")]
    r = uac.invite([(dlg, media)]).get(dlg.call_id)
    if r is None or r.code != 200:
        return None
    addr, mlines = S.parse_answer_ports(r.body)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    payloads = []
    for i, (m, freq) in enumerate(zip(media, (600, 1000))):
        payloads.append([S.encode(m["codec"], S.tone_samples(freq, 160 * k, 160))
                         for k in range(seconds * 50)])
    t0 = time.time()
    for k in range(seconds * 50):
        for i, (m, (port, _)) in enumerate(zip(media, mlines)):
            sock.sendto(S.rtp_packet(m["pt"], 100 + k, 1000 + 160 * k, 0x1000 + i, payloads[i][k]),
                        (addr, port))
        time.sleep(max(0, t0 + (k + 1) * 0.02 - time.time()))
    time.sleep(0.1)
    uac.bye([dlg])
    return dlg.call_id


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    binary = os.path.abspath(args.bin)
    c = S.Checks()
    work = S.make_workdir("cv_encryption_test_")
    data = os.path.join(work, "data")
    key = os.path.join(work, "master.key")
    lo, hi = S.free_port_range(40)

    def cli(*a, stdin=None):
        p = subprocess.run([binary, *a], input=stdin, capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout, p.stderr

    rc, out, err = cli("encryption", "init-master-key", key)
    c.check(rc == 0 and oct(os.stat(key).st_mode & 0o777) == "0o600", "init-master-key: mode 0600",
            out + err)
    before = open(key, "rb").read()
    rc, out, err = cli("encryption", "init-master-key", key)
    c.check(rc == 1 and "already exists" in err and open(key, "rb").read() == before,
            "init-master-key refuses to overwrite", err)

    def config(key_file):
        return S.base_config(data, lo, hi, extra=f"""
[encryption]
master_key_file = "{key_file}"
tenants = ["*"]
""")

    # Refused master keys: the server does not start and says why.
    loose = os.path.join(work, "loose.key")
    shutil.copy(key, loose)
    os.chmod(loose, 0o644)
    os.makedirs(data, exist_ok=True)
    inside = os.path.join(data, "inside.key")
    shutil.copy(key, inside)
    os.chmod(inside, 0o600)
    for bad, says in ((loose, "mode 0644"), (inside, "inside the data directory")):
        srv = S.Server(binary, work, config(bad), name="refused")
        started = srv.start(timeout=10)
        code = srv.proc.wait(10) if not started else srv.stop()
        log = srv.read_log()
        c.check(not started and code == 1 and bad in log and says in log and "stage=encryption" in log,
                f"serve refuses a master key {says}",
                next((l for l in log.splitlines() if "start_failed" in l), log[-300:]))
    os.remove(inside)

    srv = S.Server(binary, work, config(key))
    try:
        if not c.check(srv.start(), "server started with encryption", srv.log_path):
            return c.summary()
        m = re.search(r"event=http\.listening addr=127\.0\.0\.1:(\d+)", srv.read_log())
        hport = int(m.group(1))
        rc, _, err = cli("user", "add", "--name", "admin", "--role", "admin", "-c", srv.config,
                         stdin="a long password\n")
        rc2, token, err2 = cli("token", "create", "--user", "admin", "-c", srv.config)
        token = token.strip()
        c.check(rc == 0 and rc2 == 0 and token, "admin user and token", err + err2)

        call = record_call(srv, "enc")
        mpath, man = S.wait_manifest(os.path.join(data, "recordings"), call, timeout=30)
        if not c.check(man is not None, "manifest written", str(call)):
            return c.summary()
        audio_path = os.path.join(data, "recordings", man["audio"]["file"])
        stored = open(audio_path, "rb").read()
        enc = man["audio"].get("encryption") or {}
        c.check(man["version"] == 2 and man["audio"]["file"].endswith(".wav.cvenc"),
                "manifest version 2, file .wav.cvenc", man["audio"]["file"])
        c.check(stored.startswith(MAGIC) and len(stored) == man["audio"]["bytes"] and
                hashlib.sha256(stored).hexdigest() == man["audio"]["sha256"],
                "stored file is ciphertext; bytes/sha256 are of the stored bytes")
        c.check(enc.get("tenant") == "(no tenant)" and enc.get("key_id") and enc.get("plaintext_bytes"),
                "audio.encryption names tenant, key and plaintext size", json.dumps(enc))

        url = f"/api/v1/calls/{man['call_id']}/audio"
        deadline = time.time() + 20
        status = 0
        while time.time() < deadline:
            status, body, hdrs = http(hport, url, token)
            if status == 200:
                break
            time.sleep(0.2)
        c.check(status == 200 and body.startswith(b"RIFF") and len(body) == enc.get("plaintext_bytes"),
                "GET audio: 200, the plaintext WAV", f"{status} {len(body)} bytes")
        wav = body
        windows = {wav[i:i + 64] for i in range(0, len(wav) - 63)}
        leaked = sum(1 for i in range(0, len(stored) - 63) if stored[i:i + 64] in windows)
        c.check(leaked == 0, "no 64-byte window of the plaintext in the stored file",
                f"{leaked} windows; plaintext {len(wav)} B, stored {len(stored)} B")
        for a, b in ((0, 43), (65530, 65545), (1000, 70000), (len(wav) - 100, len(wav) - 1)):
            status, body, hdrs = http(hport, url, token, {"Range": f"bytes={a}-{b}"})
            c.check(status == 206 and body == wav[a:b + 1], f"Range bytes={a}-{b} is the plaintext slice",
                    f"{status} {len(body)}")

        # Tampering: one flipped byte in chunk 0.
        hdr = 21 + stored[20] + 1 + stored[21 + stored[20]] + 64
        bad = bytearray(stored)
        bad[hdr + 100] ^= 0x01
        open(audio_path, "wb").write(bytes(bad))
        status, body, _ = http(hport, url, token)
        c.check(status == 500 and b"audio_corrupt" in body, "flipped byte -> 500 audio_corrupt",
                f"{status} {body[:200]}")
        _, metrics, _ = http(hport, "/metrics", token)
        mm = re.search(rb"callvault_decrypt_failures_total (\d+)", metrics)
        c.check(mm is not None and int(mm.group(1)) >= 1, "callvault_decrypt_failures_total rose",
                mm.group(0).decode() if mm else "missing")
        open(audio_path, "wb").write(stored)
        status, _, _ = http(hport, url, token, {"Range": "bytes=0-9"})
        c.check(status == 206, "restored file plays again", str(status))

        # Crypto-shredding with the server running.
        rc, out, err = cli("tenant-key", "destroy", "--tenant", "", "--yes", "-c", srv.config)
        c.check(rc == 0 and enc.get("key_id", "?") in out, "tenant-key destroy: exit 0, names the key",
                out + err)
        status, body, _ = http(hport, url, token)
        c.check(status == 410 and b"key_destroyed" in body, "after destroy: 410 key_destroyed",
                f"{status} {body[:200]}")
        status, body, _ = http(hport, "/api/v1/audit?limit=100", token)
        audit = json.loads(body) if status == 200 else {}
        entries = [e for e in audit.get("entries", audit.get("items", [])) if e.get("action") == "tenant_key.destroy"]
        c.check(len(entries) == 1 and entries[0].get("actor") == "cli" and
                entries[0].get("target") == "(no tenant)" and
                enc.get("key_id") in json.dumps(entries[0].get("detail")),
                "audit log: tenant_key.destroy by cli with the key id", body[:400].decode(errors="replace"))
        rc, out, err = cli("tenant-key", "list", "-c", srv.config)
        c.check(rc == 0 and "destroyed" in out, "tenant-key list shows the destroyed key", out)

        # A call recorded after the destruction: a new key, and it plays.
        call2 = record_call(srv, "after")
        _, man2 = S.wait_manifest(os.path.join(data, "recordings"), call2, timeout=30)
        key2 = ((man2 or {}).get("audio", {}).get("encryption") or {}).get("key_id")
        c.check(key2 and key2 != enc.get("key_id"), "the next call is encrypted under a new key",
                f"{key2}")
        url2 = f"/api/v1/calls/{(man2 or {}).get('call_id')}/audio"
        deadline = time.time() + 20
        while time.time() < deadline:
            status, body, _ = http(hport, url2, token)
            if status == 200:
                break
            time.sleep(0.2)
        c.check(status == 200 and body.startswith(b"RIFF"), "the new call plays", str(status))
        status, _, _ = http(hport, url, token)
        c.check(status == 410, "the shredded call stays 410", str(status))
        c.check(srv.alive(), "server still running")
    finally:
        srv.stop()
    rc = c.summary()
    S.cleanup_workdir(work, rc != 0 or args.keep)
    return rc


if __name__ == "__main__":
    sys.exit(main())
