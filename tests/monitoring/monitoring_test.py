#!/usr/bin/env python3
"""The monitoring kit (contrib/prometheus, contrib/grafana) against the real thing.

Usage:
  monitoring_test.py rules  [--promtool promtool]
  monitoring_test.py scrape --bin PATH/callvault [--prometheus prometheus] [--keep]

rules: `promtool check rules`, `promtool test rules` and `promtool check config` (the example
  scrape job) pass; every alert has a unit test
  (contrib/prometheus/callvault.rules.test.yml, a test named after it with a firing and a silent
  case) and a runbook: a `### <Alert>` heading in docs/operations.md that its `runbook`
  annotation links to.

scrape: `callvault serve` on loopback with every optional part configured (a SIP TLS listener,
  a cluster peer, S3 relocation at once; the peer and S3 do not exist, so the upload fails) and /metrics behind a bearer
  token (http.public_metrics = false). One sipp SIPREC call (tests/catalog/siprec_uac.xml).
  A real Prometheus server started here (127.0.0.1 only, its own data dir) scrapes it with
  `authorization: credentials_file` and must see up == 1 and the call in
  callvault_media_streams_opened_total, callvault_calls_ended_total and
  callvault_media_rtp_packets_total. Then every metric name in the alert rules and the Grafana
  dashboard (which must be valid JSON with a query on every panel) must exist in that
  /metrics text, and the rules load into that Prometheus without errors.

Prints `N passed, N failed`; exit 1 on a failure. The work dir is kept on failure or --keep.
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
RULES = os.path.join(ROOT, "contrib", "prometheus", "callvault.rules.yml")
RULE_TESTS = os.path.join(ROOT, "contrib", "prometheus", "callvault.rules.test.yml")
EXAMPLE_CONFIG = os.path.join(ROOT, "contrib", "prometheus", "prometheus.example.yml")
DASHBOARD = os.path.join(ROOT, "contrib", "grafana", "callvault-dashboard.json")
OPERATIONS = os.path.join(ROOT, "docs", "operations.md")
SCENARIO = os.path.join(ROOT, "tests", "catalog", "siprec_uac.xml")

# PromQL words that look like metric names but are not (functions, keywords, label names).
METRIC_RE = re.compile(r"\bcallvault_[a-z0-9_]+\b")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"  ok   {what}", flush=True)
        else:
            self.failed += 1
            print(f"  FAIL {what}" + (f": {detail}" if detail else ""), flush=True)
        return ok


def alert_names(rules_text):
    return re.findall(r"^\s*- alert:\s*(\S+)", rules_text, re.M)


def rule_exprs(rules_text):
    """Every expr of the rules file (block scalars and one-liners)."""
    exprs = []
    lines = rules_text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)expr:\s*(.*)$", lines[i])
        if not m:
            i += 1
            continue
        indent, rest = len(m.group(1)), m.group(2)
        if rest.strip() in ("|", ">", "|-", ">-"):
            block = []
            i += 1
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                block.append(lines[i])
                i += 1
            exprs.append("\n".join(block))
        else:
            exprs.append(rest)
            i += 1
    return exprs


def dashboard_exprs(dash):
    exprs = []
    for panel in dash.get("panels", []):
        for t in panel.get("targets", []):
            exprs.append(t.get("expr", ""))
    for var in dash.get("templating", {}).get("list", []):
        q = var.get("query")
        if isinstance(q, dict):
            exprs.append(q.get("query", ""))
    return exprs


def metric_names(exprs):
    names = set()
    for e in exprs:
        names.update(METRIC_RE.findall(e))
    return names


def exposed_families(metrics_text):
    """Family names of a Prometheus text exposition (# TYPE lines)."""
    return set(re.findall(r"^# TYPE (\S+) \S+", metrics_text, re.M))


def family_of(name, families):
    if name in families:
        return name
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in families:
            return name[: -len(suffix)]
    return None


# --- rules ---------------------------------------------------------------------------------
def run_rules(args, c):
    promtool = shutil.which(args.promtool)
    if not c.check(promtool is not None, "promtool is installed (scripts/install-deps.sh: prometheus)"):
        return
    r = subprocess.run([promtool, "check", "rules", RULES], capture_output=True, text=True)
    c.check(r.returncode == 0, "promtool check rules", (r.stdout + r.stderr).strip())
    r = subprocess.run([promtool, "test", "rules", os.path.basename(RULE_TESTS)],
                       capture_output=True, text=True, cwd=os.path.dirname(RULE_TESTS))
    c.check(r.returncode == 0, "promtool test rules", (r.stdout + r.stderr).strip()[-3000:])
    # The example scrape config, with the installed paths pointed at the tree.
    example = open(EXAMPLE_CONFIG).read()
    token = os.path.join(args.work, "callvault.token")
    with open(token, "w") as f:
        f.write("cvt_example\n")
    example = example.replace("/usr/share/callvault/monitoring/callvault.rules.yml", RULES)
    example = example.replace("/etc/prometheus/callvault.token", token)
    config = os.path.join(args.work, "prometheus.yml")
    with open(config, "w") as f:
        f.write(example)
    r = subprocess.run([promtool, "check", "config", config], capture_output=True, text=True)
    c.check(r.returncode == 0, "promtool check config contrib/prometheus/prometheus.example.yml",
            (r.stdout + r.stderr).strip())
    rules_text = open(RULES).read()
    tests_text = open(RULE_TESTS).read()
    ops = open(OPERATIONS).read()
    headings = set(re.findall(r"^### (\S+)\s*$", ops, re.M))
    alerts = alert_names(rules_text)
    c.check(len(alerts) == len(set(alerts)), f"{len(alerts)} alerts, no name twice")
    for alert in alerts:
        has_test = re.search(rf"^\s*- name:\s*{alert}\s*$", tests_text, re.M) is not None
        evals = re.findall(rf"alertname:\s*{alert}\s*$", tests_text, re.M)
        c.check(has_test and len(evals) >= 1, f"{alert}: has a promtool unit test")
        c.check(alert in headings, f"{alert}: has a runbook (### {alert} in docs/operations.md)")
        c.check(f"docs/operations.md#{alert.lower()}" in rules_text,
                f"{alert}: its runbook annotation links to docs/operations.md#{alert.lower()}")


# --- scrape --------------------------------------------------------------------------------
def free_tcp_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_udp_pair_range(width):
    """An even port range [lo, lo + width) on 127.0.0.1 that is free for UDP right now."""
    for lo in range(42000, 60000, width):
        socks = []
        try:
            for p in range(lo, lo + width):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return lo
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free UDP port range")


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(d):
    """A cluster CA, this node's certificate (CN = node id) and a SIP TLS certificate."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=monitoring-test-ca", "-days", "30", cwd=d)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "node.key", "-out", "node.csr", "-subj", "/CN=mon-a", cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:mon-a,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "node.pem", "-days", "20", "-extfile", "ext.cnf", cwd=d)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "sip.key", "-out", "sip.pem", "-subj", "/CN=127.0.0.1", "-days", "10", cwd=d)


def config_text(work, http_port, cluster_port, rtp_lo):
    d = work
    return f"""# tests/monitoring: every optional part configured, so every metric family is exposed.
[node]
id = "mon-a"
data_dir = "{d}/data"

[sip]
listen = ["udp:127.0.0.1:0", "tls:127.0.0.1:0"]
workers = 2
tls_certificate = "{d}/certs/sip.pem"
tls_private_key = "{d}/certs/sip.key"

[server]
drain_timeout_s = 2

[http]
port = {http_port}
public_metrics = false

[media]
ipv4_address = "127.0.0.1"
port_min = {rtp_lo}
port_max = {rtp_lo + 39}
rtp_timeout_s = 10

[storage]
backend = "s3"
relocate_after_s = 0

[s3]
endpoint = "http://127.0.0.1:9"
bucket = "monitoring-test"
access_key_id = "test"
secret_access_key_file = "{d}/s3.secret"
timeout_s = 2

[cluster]
listen = "127.0.0.1:{cluster_port}"
cert_file = "{d}/certs/node.pem"
key_file = "{d}/certs/node.key"
ca_file = "{d}/certs/ca.pem"

[[cluster.peers]]
id = "mon-b"
url = "https://127.0.0.1:9"
shared_bucket = true
"""


def http_get(url, token=None, timeout=10):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read().decode()


def prom_query(port, q):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    _, body = http_get(url)
    return json.loads(body)["data"]["result"]


def wait_for(pred, timeout, step=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def run_scrape(args, c, work):
    certs = os.path.join(work, "certs")
    os.makedirs(certs)
    make_certificates(certs)
    with open(os.path.join(work, "s3.secret"), "w") as f:
        f.write("not-a-real-secret\n")
    http_port, cluster_port, prom_port = free_tcp_port(), free_tcp_port(), free_tcp_port()
    rtp_lo = free_udp_pair_range(40)
    config = os.path.join(work, "callvault.toml")
    with open(config, "w") as f:
        f.write(config_text(work, http_port, cluster_port, rtp_lo))
    binary = os.path.abspath(args.bin)
    r = subprocess.run([binary, "check-config", config], capture_output=True, text=True)
    if not c.check(r.returncode == 0, "the test config is valid", (r.stdout + r.stderr).strip()):
        return

    # A metrics-only user: the admin role carries metrics:read.
    subprocess.run([binary, "user", "add", "--name", "prometheus", "--role", "admin", "-c", config],
                   input="prometheus-password\n", capture_output=True, text=True, check=True)
    token = subprocess.run([binary, "token", "create", "--user", "prometheus", "-c", config],
                           capture_output=True, text=True, check=True).stdout.strip()
    token_file = os.path.join(work, "prometheus.token")
    with open(token_file, "w") as f:
        f.write(token + "\n")
    os.chmod(token_file, 0o600)

    log = open(os.path.join(work, "server.log"), "w+")
    server = subprocess.Popen([binary, "serve", "-c", config], stdout=log, stderr=subprocess.STDOUT, cwd=work)
    prom = None
    try:
        def sip_port():
            log.flush()
            m = re.search(r"event=sip\.listening transport=UDP addr=127\.0\.0\.1:(\d+)",
                          open(log.name, errors="replace").read())
            return int(m.group(1)) if m else None
        port = wait_for(sip_port, 20)
        if not c.check(port is not None and server.poll() is None, "callvault serve started",
                       open(log.name, errors="replace").read()[-2000:]):
            return
        try:
            status, _ = http_get(f"http://127.0.0.1:{http_port}/metrics")
        except urllib.error.HTTPError as e:
            status = e.code
        c.check(status == 401, f"/metrics without a token: {status} (401 expected)")

        # One SIPREC call, 2 s of RTP.
        sipp_dir = os.path.join(work, "sipp")
        os.makedirs(sipp_dir)
        subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-e", "a-law", "-t", "raw",
                        os.path.join(sipp_dir, "cv_tone.alaw"), "synth", "5", "sine", "1000", "vol", "0.3"],
                       check=True)
        sipp_media = free_udp_pair_range(8)
        r = subprocess.run(["sipp", "-sf", SCENARIO, "-m", "1", "-d", "2000", "-i", "127.0.0.1", "-p", "0",
                            "-mi", "127.0.0.1", "-mp", str(sipp_media), "-trace_logs", "-log_file",
                            os.path.join(sipp_dir, "calls.log"), "-timeout", "60", "-timeout_error",
                            "-nostdin", f"127.0.0.1:{port}"],
                           cwd=sipp_dir, capture_output=True, text=True, timeout=90)
        calls_log = open(os.path.join(sipp_dir, "calls.log"), errors="replace").read() \
            if os.path.exists(os.path.join(sipp_dir, "calls.log")) else ""
        c.check(r.returncode == 0 and "ended " in calls_log, "sipp: one SIPREC call answered and ended",
                (r.stdout + r.stderr)[-1500:])

        # The call is counted once it is finalized.
        # The upload to the S3 endpoint that does not exist fails: the error family appears.
        def ended():
            _, text = http_get(f"http://127.0.0.1:{http_port}/metrics", token)
            done = re.search(r'^callvault_calls_ended_total\{[^}]*\} [1-9]', text, re.M)
            failed = re.search(r'^callvault_storage_upload_errors_total\{', text, re.M)
            return text if done and failed else None
        text = wait_for(ended, 40)
        if not c.check(text is not None, "/metrics with the token counts the finished call and its failed upload"):
            _, text = http_get(f"http://127.0.0.1:{http_port}/metrics", token)

        # A real Prometheus, loopback only, scraping with a bearer token file.
        prom_dir = os.path.join(work, "prometheus")
        os.makedirs(prom_dir)
        shutil.copy(RULES, prom_dir)
        with open(os.path.join(prom_dir, "prometheus.yml"), "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - callvault.rules.yml
scrape_configs:
  - job_name: callvault
    authorization:
      type: Bearer
      credentials_file: {token_file}
    static_configs:
      - targets: ["127.0.0.1:{http_port}"]
""")
        prom_log = open(os.path.join(prom_dir, "prometheus.log"), "w")
        prom = subprocess.Popen([args.prometheus, f"--config.file={prom_dir}/prometheus.yml",
                                 f"--storage.tsdb.path={prom_dir}/data",
                                 f"--web.listen-address=127.0.0.1:{prom_port}"],
                                stdout=prom_log, stderr=subprocess.STDOUT, cwd=prom_dir)

        def prom_value(q):
            try:
                res = prom_query(prom_port, q)
            except Exception:  # not up yet
                return None
            return float(res[0]["value"][1]) if res else None

        up_query = 'up{job="callvault"}'
        up = wait_for(lambda: prom_value(up_query) == 1.0, 40, 0.5)
        c.check(up, "Prometheus scrapes callvault with the token file: up == 1",
                f"up = {prom_value(up_query)}")
        streams = wait_for(lambda: prom_value('sum(callvault_media_streams_opened_total{job="callvault"})'), 20, 0.5)
        c.check(streams is not None and streams >= 2,
                f"Prometheus sees the call's streams: callvault_media_streams_opened_total = {streams}")
        ended_q = prom_value('sum(callvault_calls_ended_total{job="callvault"})')
        c.check(ended_q is not None and ended_q >= 1,
                f"Prometheus sees the finished call: callvault_calls_ended_total = {ended_q}")
        packets = prom_value('sum(callvault_media_rtp_packets_total{job="callvault"})')
        c.check(packets is not None and packets > 50,
                f"Prometheus sees the call's RTP: callvault_media_rtp_packets_total = {packets}")
        try:
            _, body = http_get(f"http://127.0.0.1:{prom_port}/api/v1/rules")
            groups = json.loads(body)["data"]["groups"]
            health = [(r["name"], r.get("health"), r.get("lastError", "")) for g in groups for r in g["rules"]]
            time.sleep(2)
            _, body = http_get(f"http://127.0.0.1:{prom_port}/api/v1/rules")
            groups = json.loads(body)["data"]["groups"]
            bad = [(r["name"], r.get("lastError")) for g in groups for r in g["rules"] if r.get("health") == "err"]
            c.check(len(health) > 0 and not bad, f"Prometheus loaded {len(health)} rules, none failing", str(bad))
        except Exception as e:
            c.check(False, "Prometheus /api/v1/rules", str(e))

        # Every metric the kit uses exists in this scrape.
        families = exposed_families(text)
        rules_used = metric_names(rule_exprs(open(RULES).read()))
        try:
            dash = json.load(open(DASHBOARD))
            c.check(True, "the Grafana dashboard is valid JSON")
        except ValueError as e:
            c.check(False, "the Grafana dashboard is valid JSON", str(e))
            dash = {}
        panels = [p for p in dash.get("panels", []) if p.get("type") != "row"]
        c.check(panels and all(p.get("targets") and all(t.get("expr") for t in p["targets"]) for p in panels),
                f"every dashboard panel ({len(panels)}) has a query")
        dash_used = metric_names(dashboard_exprs(dash))
        c.check(len(rules_used) >= 15 and len(dash_used) >= 30,
                f"{len(rules_used)} metric names in the rules, {len(dash_used)} in the dashboard")
        for name in sorted(rules_used | dash_used):
            where = "+".join(w for w, s in (("rules", rules_used), ("dashboard", dash_used)) if name in s)
            c.check(family_of(name, families) is not None, f"{name} ({where}) is on /metrics")
        # Label values the rules select on.
        c.check('callvault_outbox_lag_seconds{queue="relocation"}' in text, 'queue="relocation" exists')
        c.check('callvault_outbox_lag_seconds{queue="peer.mon-b"}' in text, 'queue="peer.<id>" exists')
    finally:
        if prom is not None:
            prom.terminate()
            try:
                prom.wait(15)
            except subprocess.TimeoutExpired:
                prom.kill()
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["rules", "scrape"])
    ap.add_argument("--bin")
    ap.add_argument("--promtool", default="promtool")
    ap.add_argument("--prometheus", default="prometheus")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    c = Checks()
    work = tempfile.mkdtemp(prefix="cv-monitoring-")
    try:
        args.work = work
        if args.mode == "rules":
            run_rules(args, c)
        else:
            for tool in ("sipp", "sox", "openssl", args.prometheus):
                if shutil.which(tool) is None:
                    c.check(False, f"{tool} is installed (scripts/install-deps.sh)")
            if not c.failed:
                run_scrape(args, c, work)
    except Exception as e:  # a crash of the test is a failure, with the work dir kept
        c.check(False, "test ran to the end", repr(e))
    print(f"{c.passed} passed, {c.failed} failed", flush=True)
    if c.failed or args.keep:
        print(f"kept {work}", flush=True)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
