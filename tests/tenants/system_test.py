#!/usr/bin/env python3
"""Tenants for recorded calls (issue 17 §1): `callvault serve` with `[[tenants.rule]]`, SIPREC
calls from the Python SRC (tests/rtp/siprec_src.py) bound to different loopback addresses,
checked through the manifests, the REST API (an admin and a tenant-scoped viewer), /metrics and
the server's log.

Usage: system_test.py --bin PATH/callvault [--keep]

Rules: 1. `tenant = "{value}"` from `X-Tenant`; 2. src 127.0.0.2 → alpha; 3. src 127.0.0.3/32 →
beta. Tenants alpha, beta and gamma exist (PUT /api/v1/tenants/...), `tenants.default` is unset.
  * 5 concurrent calls of 3 s with RTP on both streams: from .2 (alpha), from .3 (beta), from .2
    with `X-Tenant: gamma` (gamma: the header rule comes first), from .3 with `X-Tenant: nosuch`
    (unknown: recorded without a tenant, a warning in the manifest, a `siprec.tenant_fallback`
    log line), from .1 (no rule: no tenant). While they record, GET /api/v1/live shows each
    call's tenant. Afterwards: each manifest's and catalog entry's tenant, the `{tenant}` file
    name directory, `callvault_calls_ended_total{state,tenant}` and the decision counters.
  * A viewer of tenant alpha lists only alpha's call; the others' detail, audio and waveform
    answer 404; its own audio 200.
  * kill -9 in the middle of a call from .3: after the restart the partial recording (state
    `partial`) has tenant beta in its manifest and in the catalog.
  * SIGHUP with `tenants.unknown = "refuse"`: an INVITE with `X-Tenant: nosuch` gets 403 with a
    Warning naming the tenant; a call from .2 is still recorded under alpha (the reload applies
    to new calls).
  * `callvault check-config` on a file with a bad CIDR and a bad pattern: exit 1, one line each
    with file:line:col.

Prints `N passed, N failed`; exit 1 on a failure. The work dir is kept on failure or --keep.
"""
import argparse
import base64
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "rtp"))
import siprec_src as S  # noqa: E402


def _load_catalog_helpers():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "catalog_system_test", os.path.join(HERE, "..", "catalog", "system_test.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


T = _load_catalog_helpers()

RULES = """
[recording]
name_template = "{tenant}/{date}/{call_id}"

[tenants]
unknown = "%s"

[[tenants.rule]]
tenant = "{value}"
header = "X-Tenant"

[[tenants.rule]]
tenant = "alpha"
src = "127.0.0.2"

[[tenants.rule]]
tenant = "beta"
src = ["10.9.0.0/16", "127.0.0.3/32"]
"""


def http(base, method, path, auth, body=None, timeout=15):
    """(status, headers, body bytes). auth: ("bearer", token) or ("basic", user, password)."""
    h = {}
    if auth[0] == "bearer":
        h["Authorization"] = "Bearer " + auth[1]
    else:
        h["Authorization"] = "Basic " + base64.b64encode(f"{auth[1]}:{auth[2]}".encode()).decode()
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    req = urllib.request.Request(base + path, data=data, headers=h, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()
    except (urllib.error.URLError, OSError) as e:
        return 0, {}, str(e).encode()


def jbody(b):
    try:
        return json.loads(b or b"null")
    except ValueError:
        return None


class Call:
    """One SIPREC call from `local_ip` with optional extra headers; RTP on both streams."""

    def __init__(self, sip_port, local_ip, name, extra=()):
        self.uac = S.Uac(sip_port, local_ip)
        self.local_ip, self.name, self.extra = local_ip, name, tuple(extra)
        self.dlg = self.uac.new_dialog(f"{name}-{random.randrange(1 << 30)}@{local_ip}")
        lo, _ = S.free_port_range(4)
        self.media = [{"port": lo, "pt": 8, "codec": "PCMA", "label": "1"},
                      {"port": lo + 2, "pt": 8, "codec": "PCMA", "label": "2"}]
        self.code, self.response, self.socks, self.targets = None, None, [], []

    def invite(self):
        finals = self.uac.invite([(self.dlg, self.media)], extra=self.extra)
        self.response = finals.get(self.dlg.call_id)
        self.code = self.response.code if self.response else None
        if self.code != 200:
            return False
        addr, ports = S.parse_answer_ports(self.dlg.answer)
        for j, (port, _) in enumerate(ports[:2]):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((self.local_ip, self.media[j]["port"]))
            self.socks.append(s)
            self.targets.append((s, (addr or "127.0.0.1", port), random.randrange(1 << 32)))
        return True

    def send_rtp(self, seconds, stop=None):
        payload = bytes([0xD5]) * 160
        t0 = time.time_ns()
        for k in range(int(seconds * 50)):
            if stop is not None and stop.is_set():
                return
            S.sleep_until(t0 + k * 20_000_000)
            for s, dst, ssrc in self.targets:
                try:
                    s.sendto(S.rtp_packet(8, k, k * 160, ssrc, payload, marker=(k == 0)), dst)
                except OSError:
                    pass
            if k % 25 == 0:
                self.uac.drain()

    def bye(self):
        r = self.uac.bye([self.dlg]).get(self.dlg.call_id)
        for s in self.socks:
            s.close()
        return r.code if r else None


def manifest_of(data, sip_call_id, timeout=30):
    return S.wait_manifest(os.path.join(data, "recordings"), sip_call_id, timeout)[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    c = S.Checks()
    work = S.make_workdir("cv-tenants-")
    failed = True
    srv = None
    try:
        srv = run(args, c, work)
        failed = c.failed > 0
    finally:
        if srv is not None and srv.alive():
            srv.stop()
        S.cleanup_workdir(work, failed or args.keep)
    sys.exit(c.summary())


def run(args, c, work):
    data = os.path.join(work, "data")
    lo, hi = S.free_port_range(200)

    def write_config(unknown):
        with open(os.path.join(work, "callvault.toml"), "w") as f:
            f.write(T.config_text(data, lo, hi, extra=RULES % unknown))

    srv = S.Server(args.bin, work, "")
    write_config("default")
    token = T.make_token(args.bin, srv.config)
    admin = ("bearer", token)
    if not srv.start(timeout=30):
        c.check(False, "server starts", srv.read_log()[-2000:])
        return srv
    base = f"http://127.0.0.1:{T.http_port(srv)}"
    for t in ("alpha", "beta", "gamma"):
        code, _, _ = http(base, "PUT", f"/api/v1/tenants/{t}", admin, {"display_name": t.title()})
        c.check(code == 200, f"tenant {t} created (PUT /api/v1/tenants/{t})", code)
    time.sleep(6)  # the recorder re-reads the tenant list every 5 s

    # --- five concurrent calls, one per rule outcome ---------------------------------------
    plan = [("a", "127.0.0.2", (), "alpha"), ("b", "127.0.0.3", (), "beta"),
            ("g", "127.0.0.2", ("X-Tenant: gamma",), "gamma"),
            ("u", "127.0.0.3", ("X-Tenant: nosuch",), None), ("n", "127.0.0.1", (), None)]
    calls = {name: Call(srv.sip_port, ip, name, extra) for name, ip, extra, _ in plan}
    for call in calls.values():
        call.invite()
    c.check(all(x.code == 200 for x in calls.values()), "5 calls answered 200",
            {n: x.code for n, x in calls.items()})
    stop = threading.Event()
    senders = [threading.Thread(target=x.send_rtp, args=(3.0, stop)) for x in calls.values()]
    for t in senders:
        t.start()
    time.sleep(1.0)
    code, _, body = http(base, "GET", "/api/v1/live", admin)
    live = sorted(x.get("tenant") or "" for x in (jbody(body) or {}).get("calls", []))
    want_live = sorted(want or "" for _, _, _, want in plan)
    c.check(code == 200 and live == want_live, "GET /api/v1/live shows each recording call's tenant",
            f"{code} {live} want {want_live}")
    for t in senders:
        t.join()
    byes = {n: x.bye() for n, x in calls.items()}
    c.check(all(v == 200 for v in byes.values()), "5 BYEs answered 200", byes)

    mans = {n: manifest_of(data, calls[n].dlg.call_id) for n in calls}
    got = {n: (m or {}).get("tenant", "missing") for n, m in mans.items()}
    want = {n: w for n, _, _, w in plan}
    c.check(got == want, "manifests carry the rule's tenant (header rule first, src rules, unknown "
            "→ none, no rule → none)", f"{got} want {want}")
    c.check(all((m or {}).get("state") == "completed" for m in mans.values()),
            "5 recordings completed", {n: (m or {}).get("state") for n, m in mans.items()})
    for n, w in want.items():
        f = ((mans[n] or {}).get("audio") or {}).get("file", "")
        c.check(f.startswith((w or "") + "/") if w else not f.startswith(("alpha", "beta", "gamma")),
                f"{n}: file name template {{tenant}} → {f}")
    warn = " ".join((mans["u"] or {}).get("warnings", []))
    c.check('tenant "nosuch" (rule 1' in warn and "recorded without a tenant" in warn,
            "unknown tenant from X-Tenant: the manifest's warning says it fell back", warn)
    c.check(re.search(r"event=siprec\.tenant_fallback .*reason=\"tenant \\\\?\"nosuch", srv.read_log())
            is not None or "siprec.tenant_fallback" in srv.read_log(),
            "unknown tenant: a siprec.tenant_fallback log line")
    c.check(re.search(r"event=siprec\.call_started .*tenant=alpha tenant_by=rule 2", srv.read_log())
            is not None, "siprec.call_started names the tenant and the rule")

    ids = {n: (m or {}).get("call_id") for n, m in mans.items()}

    def catalogued():
        return all((T.Api(int(base.rsplit(":", 1)[1]), token).detail(ids[n]) or {}).get("state")
                   == "completed" for n in ids)
    S_wait(catalogued, 30)
    api = T.Api(int(base.rsplit(":", 1)[1]), token)
    cat = {n: (api.detail(ids[n]) or {}).get("tenant", "missing") for n in ids}
    c.check(cat == want, "the catalog has each call's tenant", f"{cat} want {want}")

    code, _, body = http(base, "GET", "/metrics", admin)
    m = S.parse_metrics(body.decode(errors="replace"))
    for tenant, n in (("alpha", 1), ("beta", 1), ("gamma", 1), ("none", 2)):
        key = f'callvault_calls_ended_total{{state="completed",tenant="{tenant}"}}'
        c.check(m.get(key) == n, f"metric {key} = {n}", m.get(key))
    dec = {o: m.get(f'callvault_tenant_decisions_total{{outcome="{o}"}}') for o in
           ("rule", "fallback", "none")}
    c.check(dec == {"rule": 3, "fallback": 1, "none": 1}, "tenant decision counters", dec)

    # --- a tenant-scoped viewer -----------------------------------------------------------
    code, _, body = http(base, "POST", "/api/v1/users", admin,
                         {"username": "viewer-a", "password": "viewer-a-password", "role": "viewer",
                          "tenant": "alpha"})
    c.check(code in (200, 201), "viewer of tenant alpha created", f"{code} {body[:200]}")
    va = ("basic", "viewer-a", "viewer-a-password")
    code, _, body = http(base, "GET", "/api/v1/calls?limit=100", va)
    listed = sorted(x["id"] for x in (jbody(body) or {}).get("calls", []))
    c.check(code == 200 and listed == [ids["a"]], "the alpha viewer lists only alpha's call",
            f"{code} {listed}")
    code, _, _ = http(base, "GET", f"/api/v1/calls/{ids['a']}/audio", va)
    c.check(code == 200, "the alpha viewer plays alpha's call", code)
    for n in ("b", "g", "u", "n"):
        codes = [http(base, "GET", f"/api/v1/calls/{ids[n]}{p}", va)[0]
                 for p in ("", "/audio", "/waveform")]
        c.check(codes == [404, 404, 404], f"the alpha viewer gets 404 for call {n} "
                f"(tenant {want[n]}): detail, audio, waveform", codes)

    # --- kill -9 mid-call: the partial keeps its tenant ----------------------------------
    k = Call(srv.sip_port, "127.0.0.3", "k")
    c.check(k.invite(), "call from 127.0.0.3 answered before the kill", k.code)
    k.send_rtp(2.0)
    srv.kill9()
    for s in k.socks:
        s.close()
    c.check(srv.start(timeout=30), "server restarts after kill -9")
    mk = manifest_of(data, k.dlg.call_id, timeout=40) or {}
    c.check(mk.get("state") == "partial" and mk.get("tenant") == "beta",
            "the crash-recovered partial keeps tenant beta", f"{mk.get('state')} {mk.get('tenant')}")
    base = f"http://127.0.0.1:{T.http_port(srv)}"
    api = T.Api(int(base.rsplit(":", 1)[1]), token)
    S_wait(lambda: (api.detail(mk.get("call_id", "")) or {}).get("tenant") == "beta", 30)
    c.check((api.detail(mk.get("call_id", "")) or {}).get("tenant") == "beta",
            "the catalog has the partial under beta")
    code, _, body = http(base, "GET", "/api/v1/calls?limit=100", va)
    listed = sorted(x["id"] for x in (jbody(body) or {}).get("calls", []))
    c.check(listed == [ids["a"]], "the alpha viewer still lists only alpha's call", listed)

    # --- SIGHUP: unknown = refuse ----------------------------------------------------------
    time.sleep(6)  # the restarted server has read the tenant list
    write_config("refuse")
    reloads = len(re.findall(r"event=config\.reloaded", srv.read_log()))
    os.kill(srv.proc.pid, signal.SIGHUP)
    c.check(srv.wait_log(r"event=config\.reloaded", count=reloads + 1, timeout=10),
            "SIGHUP reloads the config")
    r = Call(srv.sip_port, "127.0.0.3", "r", ("X-Tenant: nosuch",))
    r.invite()
    warning = r.response.header("Warning") if r.response else ""
    c.check(r.code == 403 and "nosuch" in (warning or ""),
            "unknown = refuse: X-Tenant nosuch → 403 with a Warning naming it", f"{r.code} {warning}")
    ok = Call(srv.sip_port, "127.0.0.2", "ok")
    c.check(ok.invite(), "after the reload a call from 127.0.0.2 is still answered", ok.code)
    ok.send_rtp(1.0)
    ok.bye()
    mo = manifest_of(data, ok.dlg.call_id) or {}
    c.check(mo.get("tenant") == "alpha", "… and recorded under alpha", mo.get("tenant"))
    # A disabled tenant is refused too (the recorder re-reads the list within 5 s).
    code, _, body = http(base, "PUT", "/api/v1/tenants/gamma", admin, {"disabled": True})
    c.check(code == 200 and (jbody(body) or {}).get("disabled") is True
            and (jbody(body) or {}).get("display_name") == "Gamma",
            "PUT {disabled: true} disables gamma and keeps its display name", body[:200])
    time.sleep(6)
    d = Call(srv.sip_port, "127.0.0.2", "d", ("X-Tenant: gamma",))
    d.invite()
    warning = d.response.header("Warning") if d.response else ""
    c.check(d.code == 403 and "disabled" in (warning or ""),
            "a call for disabled tenant gamma → 403 with a Warning saying so", f"{d.code} {warning}")
    code, _, body = http(base, "GET", "/metrics", admin)
    m = S.parse_metrics(body.decode(errors="replace"))
    c.check(m.get('callvault_tenant_decisions_total{outcome="refused"}') == 2,
            "the refusals are counted", m.get('callvault_tenant_decisions_total{outcome="refused"}'))

    # --- check-config -----------------------------------------------------------------------
    bad = os.path.join(work, "bad.toml")
    with open(bad, "w") as f:
        f.write('[[tenants.rule]]\ntenant = "acme"\nsrc = ["127.0.0.2", "10.1.2.3/16"]\n\n'
                '[[tenants.rule]]\ntenant = "b"\nheader = "X-Tenant"\nvalue = ["ok", "bad\\tpattern"]\n')
    p = subprocess.run([args.bin, "check-config", bad], capture_output=True, text=True)
    out = p.stdout + p.stderr
    c.check(p.returncode == 1 and f"{bad}:3:21: tenants.rule[0].src" in out
            and f"{bad}:8:16: tenants.rule[1].value" in out,
            "check-config rejects a bad CIDR and a bad pattern with file:line:col", out)
    return srv


def S_wait(pred, timeout, step=0.25):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


if __name__ == "__main__":
    main()
