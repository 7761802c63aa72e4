"""A callvault cluster in network namespaces, for tests/cluster/system_test.py (and later modes).

    cluster = Cluster(binary, work, nodes="abc")        # 3 nodes, a bridge, certificates
    cluster.start()                                     # `callvault serve` in each namespace
    sipp = cluster.sipp("a", calls=100, rate=10, call_ms=2000)
    cluster.node("b").all_calls(); cluster.node("a").metrics()
    cluster.partition("c"); cluster.heal("c"); cluster.node("a").kill9(); cluster.node("a").start()
    cluster.node("b").request("DELETE", "/api/v1/calls/…"); node.request("GET", "/api/v1/me",
                                                                        auth=("alice", "pw"))
    cluster.on_close(fn)                                # extra clean-up (dnsmasq, PostgreSQL, tmpfs)
    cluster.close()                                     # processes, namespaces (always: finally)

Topology: namespaces cv-<pid>-<node> and cv-<pid>-br; the bridge br0 lives in cv-<pid>-br, one
veth pair per node (eth0 inside the node's namespace), addresses 10.77.<n>.<1,2,3…>/24, lo up
everywhere; br0 itself has 10.77.<n>.254 (`net.host_addr`): the test's own host in the bridge
namespace, where the failover modes run an SRC and DNS clients (`in_netns`). Each node runs
`ip netns exec <ns> callvault serve` with its own data dir under the work dir, SIP on
<addr>:5060/udp, the peer endpoint on <addr>:5443 (mutual TLS, certificates from a throw-away CA
made here with the openssl CLI), HTTP on 127.0.0.1:8080 inside its namespace (public /metrics;
`node.http_host = "0.0.0.0"` serves it on the node's address too). The CLI (`node.cli`) runs in
the node's namespace as well. sipp runs in the namespace of the node it calls. Nothing leaves
namespaces this file created: the test reaches HTTP from worker threads that setns(2) into a
node's namespace. A partition is iptables DROP of everything but lo in one namespace.

Children get PR_SET_PDEATHSIG = SIGKILL (spawn them from the main thread only): if the test
itself is killed, its servers and sipps die with it; stale namespaces of dead test processes
(cv-<pid>-*) are removed at the next start.

Failover fixtures: `Dnsmasq` (Debian dnsmasq-base) answers SRV/A records and a hosts file it
re-reads on SIGHUP, on 127.0.0.1:53 inside a namespace; `Postgres` is a private PostgreSQL for one
node's catalog, in that node's namespace (like tests/catalog/system_test.py's, run as `postgres`).
"""
import base64
import concurrent.futures
import ctypes
import hashlib
import json
import os
import pwd
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "rtp"))
import siprec_src as S  # noqa: E402  (Checks, manifests)

SCENARIO = os.path.join(HERE, "..", "catalog", "siprec_uac.xml")
SIP_PORT, HTTP_PORT, PEER_PORT = 5060, 8080, 5443
RTP_MIN, RTP_MAX = 20000, 23999

_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNET = 0x40000000
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def run(cmd, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: rc={r.returncode} {r.stdout}{r.stderr}")
    return r


def wait_until(fn, timeout, interval=0.25):
    """Calls fn() until it returns something true or `timeout` s pass; returns the last value."""
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() >= deadline:
            return v
        time.sleep(interval)


def stop_process(proc, timeout):
    """SIGTERM, then SIGKILL after `timeout` s; nothing for None or a process already gone."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --- namespaces -------------------------------------------------------------------------------
def _enter_netns(ns):
    fd = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
    try:
        if _libc.setns(fd, _CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"setns({ns}): {os.strerror(e)}")
    finally:
        os.close(fd)


def in_netns(ns, fn, *args, timeout=None):
    """fn(*args) on a fresh thread inside namespace `ns` (sockets it makes stay there); its result
    or exception. Threads that thread starts are in `ns` too."""
    out = {}

    def body():
        try:
            _enter_netns(ns)
            out["v"] = fn(*args)
        except BaseException as e:  # noqa: B902 — handed to the caller
            out["e"] = e
    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise TimeoutError(f"{getattr(fn, '__name__', fn)} in {ns}: still running after {timeout} s")
    if "e" in out:
        raise out["e"]
    return out.get("v")


def remove_stale_namespaces():
    """cv-<pid>-* namespaces of test processes that no longer exist (killed by a timeout)."""
    for line in run(["ip", "netns", "list"]).stdout.splitlines():
        m = re.match(r"(cv-(\d+)-[a-z0-9]+)\b", line)
        if m and not os.path.exists(f"/proc/{m.group(2)}"):
            run(["ip", "netns", "del", m.group(1)], check=False)


class Network:
    """A bridge namespace and one namespace per node, each with eth0 on the bridge."""

    def __init__(self, names):
        self.tag = f"cv-{os.getpid()}"
        self.subnet = f"10.77.{random.randrange(1, 255)}"
        self.bridge_ns = f"{self.tag}-br"
        self.ns = {n: f"{self.tag}-{n}" for n in names}
        self.addr = {n: f"{self.subnet}.{i + 1}" for i, n in enumerate(names)}
        self.host_addr = f"{self.subnet}.254"  # br0 in the bridge namespace: the test's own host
        self.created = []

    def create(self):
        remove_stale_namespaces()
        for ns in [self.bridge_ns] + list(self.ns.values()):
            run(["ip", "netns", "add", ns])
            self.created.append(ns)
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "-n", self.bridge_ns, "link", "add", "br0", "type", "bridge"])
        run(["ip", "-n", self.bridge_ns, "link", "set", "br0", "up"])
        run(["ip", "-n", self.bridge_ns, "addr", "add", f"{self.host_addr}/24", "dev", "br0"])
        for n, ns in self.ns.items():
            host_end = f"cv{os.getpid()}{n}"[:15]
            run(["ip", "link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns", ns])
            run(["ip", "link", "set", host_end, "netns", self.bridge_ns])
            run(["ip", "-n", self.bridge_ns, "link", "set", host_end, "master", "br0", "up"])
            run(["ip", "-n", ns, "addr", "add", f"{self.addr[n]}/24", "dev", "eth0"])
            run(["ip", "-n", ns, "link", "set", "eth0", "up"])

    def destroy(self):
        for ns in reversed(self.created):
            run(["ip", "netns", "del", ns], check=False)
        self.created = []

    def exec_prefix(self, n):
        return ["ip", "netns", "exec", self.ns[n]]

    def partition(self, n):
        """Everything but lo dropped in n's namespace (both directions)."""
        for chain, flag in (("INPUT", "-i"), ("OUTPUT", "-o")):
            run(self.exec_prefix(n) + ["iptables", "-I", chain, "1", "!", flag, "lo", "-j", "DROP"])

    def heal(self, n):
        for chain, flag in (("INPUT", "-i"), ("OUTPUT", "-o")):
            while run(self.exec_prefix(n) + ["iptables", "-D", chain, "!", flag, "lo", "-j", "DROP"],
                      check=False).returncode == 0:
                pass


# --- certificates -----------------------------------------------------------------------------
def make_certs(d, addrs):
    """A throw-away CA and, per node, an EC P-256 key + certificate (CN and DNS SAN = node id, IP
    SAN = its address, serverAuth + clientAuth). Returns {node: (crt, key)} and the CA path."""
    os.makedirs(d, exist_ok=True)
    ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run(["openssl", "req", "-x509"] + ec + ["-keyout", ca_key, "-out", ca_crt, "-days", "2",
                                             "-subj", "/CN=callvault-test-ca"])
    out = {}
    for n, addr in addrs.items():
        key, csr, crt, ext = (os.path.join(d, f"{n}.{x}") for x in ("key", "csr", "crt", "ext"))
        with open(ext, "w") as f:
            f.write(f"subjectAltName=DNS:{n},IP:{addr}\nextendedKeyUsage=serverAuth,clientAuth\n")
        run(["openssl", "req"] + ec + ["-keyout", key, "-out", csr, "-subj", f"/CN={n}"])
        run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
             "-out", crt, "-days", "2", "-extfile", ext])
        os.chmod(key, 0o600)
        out[n] = (crt, key)
    return out, ca_crt


# --- metrics ----------------------------------------------------------------------------------
_METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")


class Metrics:
    """A /metrics scrape: value(name, **labels) sums the series whose labels include those."""

    def __init__(self, text):
        self.series = []
        for line in (text or "").splitlines():
            m = _METRIC_LINE.match(line)
            if not m:
                continue
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
            try:
                self.series.append((m.group(1), labels, float(m.group(3))))
            except ValueError:
                pass

    def value(self, name, **labels):
        """Sum over matching series; None when no series matches (the metric is missing)."""
        found = [v for n, l, v in self.series
                 if n == name and all(l.get(k) == str(w) for k, w in labels.items())]
        return sum(found) if found else None

    def get(self, name, default=0.0, **labels):
        v = self.value(name, **labels)
        return default if v is None else v


# --- a node -----------------------------------------------------------------------------------
class Node:
    def __init__(self, cluster, name):
        self.cluster = cluster
        self.name = name
        self.ns = cluster.net.ns[name]
        self.addr = cluster.net.addr[name]
        self.dir = os.path.join(cluster.work, name)
        self.data = os.path.join(self.dir, "data")
        self.recordings = os.path.join(self.data, "recordings")
        self.config = os.path.join(self.dir, "callvault.toml")
        self.proc = None
        self.log_path = None
        self.starts = 0
        self.token = None
        self.peer_overrides = {}  # peer name -> {"schedule", "max_mbps", "relay", "shared_bucket"}
        self.extra_text = ""      # more TOML tables ([storage], [s3]…), appended
        # (node, manifest) -> SHA-256 hex of the call's audio as this node serves it, or None;
        # default: the file beside the manifest (a node that moved audio to S3 sets its own).
        self.sha_of = None
        self.cluster_extra = {}   # [cluster] keys
        self.http_extra = {}      # [http] keys (min_free_disk_mb…)
        self.http_host = "127.0.0.1"
        self.catalog_url = None   # None: SQLite in the data dir
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=2, initializer=_enter_netns, initargs=(self.ns,))

    # configuration
    def config_text(self):
        c = self.cluster
        peers = ""
        for p in c.names:
            if p == self.name:
                continue
            o = {"schedule": "continuous", "relay": False, "max_mbps": 0, "shared_bucket": False}
            o.update(self.peer_overrides.get(p, {}))
            peers += (f'\n[[cluster.peers]]\nid = "{p}"\nurl = "https://{c.net.addr[p]}:{PEER_PORT}"\n'
                      f'schedule = "{o["schedule"]}"\nrelay = {"true" if o["relay"] else "false"}\n'
                      f'max_mbps = {o["max_mbps"]}\n'
                      f'shared_bucket = {"true" if o["shared_bucket"] else "false"}\n')
        crt, key = c.certs[self.name]
        cl = {"min_free_disk_mb": 10, "transfers_per_peer": 2}
        cl.update(self.cluster_extra)
        cl_lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in cl.items())
        http_lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in self.http_extra.items())
        catalog = f'\n[catalog]\nurl = "{self.catalog_url}"\n' if self.catalog_url else ""
        return f"""# tests/cluster: node {self.name} in network namespace {self.ns}
[node]
id = "{self.name}"
data_dir = "{self.data}"

[sip]
listen = ["udp:{self.addr}:{SIP_PORT}"]
workers = 2

[server]
drain_timeout_s = 2

[http]
host = "{self.http_host}"
port = {HTTP_PORT}
public_metrics = true
# The tests poll logins of users that have not replicated yet: every poll is a failure.
login_max_failures = 100000
{http_lines}{catalog}
[log]
level = "info"

[media]
ipv4_address = "{self.addr}"
ipv6_address = ""
port_min = {RTP_MIN}
port_max = {RTP_MAX}
rtp_timeout_s = 20

[cluster]
listen = "{self.addr}:{PEER_PORT}"
cert_file = "{crt}"
key_file = "{key}"
ca_file = "{c.ca}"
{cl_lines}{peers}{self.extra_text}"""

    def write_config(self):
        os.makedirs(self.dir, exist_ok=True)
        with open(self.config, "w") as f:
            f.write(self.config_text())

    def cli(self, *args, stdin=None):
        """`callvault <args> -c <config>` inside the node's namespace (its database, its peers)."""
        return subprocess.run(self.cluster.net.exec_prefix(self.name) + [self.cluster.binary] + list(args) +
                              ["-c", self.config], input=stdin, capture_output=True, text=True, timeout=60)

    def make_token(self):
        r = self.cli("user", "add", "--name", "tester", "--role", "admin", stdin="tester-password\n")
        if r.returncode != 0:
            raise RuntimeError(f"{self.name}: user add: {r.stdout}{r.stderr}")
        r = self.cli("token", "create", "--user", "tester")
        if r.returncode != 0:
            raise RuntimeError(f"{self.name}: token create: {r.stdout}{r.stderr}")
        self.token = r.stdout.strip()

    # process
    def start(self, timeout=40):
        """Starts `callvault serve` in the namespace; True once SIP, HTTP and /healthz answer."""
        self.starts += 1
        self.log_path = os.path.join(self.dir, f"server-{self.starts}.log")
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.cluster.net.exec_prefix(self.name) +
                                     [self.cluster.binary, "serve", "-c", self.config],
                                     stdout=log, stderr=subprocess.STDOUT, cwd=self.dir,
                                     preexec_fn=_die_with_parent)
        log.close()
        self.started_at = time.time()
        ok = wait_until(lambda: (not self.alive()) or (
            "event=sip.listening" in self.read_log() and "event=http.listening" in self.read_log()
            and self.get("/healthz", timeout=2)[0] == 200), timeout, 0.1)
        return bool(ok) and self.alive()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_bytes(self):
        """VmRSS of the server process (`ip netns exec` execs it: same pid); None when gone."""
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                m = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
            return int(m.group(1)) * 1024 if m else None
        except (OSError, AttributeError):
            return None

    def kill9(self):
        """SIGKILL; returns the wall clock just before it."""
        t = time.time()
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        return t

    def stop(self, timeout=15):
        if not self.alive():
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def read_log(self, all_runs=False):
        paths = ([os.path.join(self.dir, f"server-{i}.log") for i in range(1, self.starts + 1)]
                 if all_runs else [self.log_path])
        out = ""
        for p in paths:
            if p and os.path.exists(p):
                with open(p, errors="replace") as f:
                    out += f.read()
        return out

    # HTTP inside the namespace
    def _http(self, path, timeout, method="GET", body=None, auth=None):
        if auth is None:
            authz = "Bearer " + (self.token or "")
        else:
            authz = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        headers = {"Authorization": authz}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(f"http://127.0.0.1:{HTTP_PORT}{path}", data=data, method=method,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
        except (urllib.error.URLError, OSError) as e:
            return 0, str(e).encode()

    def get_raw(self, path, timeout=10):
        try:
            return self._pool.submit(self._http, path, timeout).result(timeout + 5)
        except concurrent.futures.TimeoutError:
            return 0, b"timeout"

    def get(self, path, timeout=10):
        """(status, JSON or text); status 0 when nothing answered."""
        code, body = self.get_raw(path, timeout)
        return code, _json_or_text(body)

    def request(self, method, path, body=None, auth=None, timeout=10):
        """Any method with a JSON body; auth None = this node's admin token, (user, password) =
        HTTP Basic. (status, JSON or text); status 0 when nothing answered."""
        try:
            code, raw = self._pool.submit(self._http, path, timeout, method, body, auth).result(timeout + 5)
        except concurrent.futures.TimeoutError:
            code, raw = 0, b"timeout"
        return code, _json_or_text(raw)

    def metrics(self):
        code, body = self.get_raw("/metrics")
        return Metrics(body.decode(errors="replace")) if code == 200 else None

    def all_calls(self, query="", page=100):
        """Every call of /api/v1/calls following cursors; None when a page is not a 200."""
        out, cursor = [], ""
        for _ in range(10000):
            q = f"limit={page}" + (("&" + query) if query else "") + (
                "&cursor=" + urllib.parse.quote(cursor) if cursor else "")
            code, body = self.get("/api/v1/calls?" + q)
            if code != 200:
                return None
            out += body["calls"]
            cursor = body.get("next_cursor") or ""
            if not cursor:
                return out
        return None

    # disk
    def manifests(self):
        """{call_id: [(manifest path, manifest)]} of the recordings directory (.incoming excluded)."""
        out = {}
        for p, m in S.manifests(self.recordings):
            if "/.incoming/" in p or not isinstance(m, dict) or "call_id" not in m:
                continue
            out.setdefault(m["call_id"], []).append((p, m))
        return out

    def part_files(self):
        """{call_id: bytes} of the receiver's unfinished uploads (<recordings>/.incoming/*.part)."""
        d = os.path.join(self.recordings, ".incoming")
        out = {}
        if os.path.isdir(d):
            for f in os.listdir(d):
                if f.endswith(".part"):
                    try:
                        out[f[:-5]] = os.path.getsize(os.path.join(d, f))
                    except OSError:
                        pass
        return out

    def received_ids(self, all_runs=True):
        """Calls this node logged as received from a peer (event=replication.call_received)."""
        return re.findall(r"event=replication\.call_received call=(\S+)", self.read_log(all_runs))


def _json_or_text(body):
    try:
        return json.loads(body or b"null")
    except ValueError:
        return body.decode(errors="replace")


# --- sipp -------------------------------------------------------------------------------------
class Sipp:
    """sipp (tests/catalog/siprec_uac.xml: 2 PCMA m-lines, RTP on the first) in a node's namespace."""

    def __init__(self, cluster, node, tag, calls, rate, call_ms, limit, media_port, codec="PCMA"):
        self.dir = os.path.join(cluster.work, f"sipp-{node}-{tag}")
        os.makedirs(self.dir, exist_ok=True)
        shutil.copy(cluster.tone, os.path.join(self.dir, "cv_tone.alaw"))
        scenario = SCENARIO
        if codec == "G722":
            # The same scenario with G.722 (payload 9): the recording is 16 kHz stereo WAV,
            # 64 kB per second of call. Any byte stream decodes: a fixed pseudo-random one.
            with open(os.path.join(self.dir, "cv_tone.g722"), "wb") as f:
                f.write(random.Random(722).randbytes(8000 * 30))
            with open(SCENARIO) as f:
                xml = f.read()
            xml = (xml.replace("RTP/AVP 8", "RTP/AVP 9").replace("a=rtpmap:8 PCMA/8000", "a=rtpmap:9 G722/8000")
                   .replace("cv_tone.alaw,-1,8,PCMA/8000", "cv_tone.g722,-1,9,G722/8000"))
            scenario = os.path.join(self.dir, "siprec_uac_g722.xml")
            with open(scenario, "w") as f:
                f.write(xml)
        addr = cluster.net.addr[node]
        cmd = cluster.net.exec_prefix(node) + [
            "sipp", "-sf", scenario, "-m", str(calls), "-r", str(rate), "-l", str(limit),
            "-d", str(call_ms), "-i", addr, "-p", "0", "-mi", addr, "-mp", str(media_port),
            "-trace_logs", "-log_file", os.path.join(self.dir, "calls.log"),
            "-trace_err", "-error_file", os.path.join(self.dir, "errors.log"),
            "-timeout", str(max(60, call_ms // 1000 + 60)), "-timeout_error", "-nostdin",
            f"{addr}:{SIP_PORT}"]
        self.out = open(os.path.join(self.dir, "sipp.out"), "w")
        self.proc = subprocess.Popen(cmd, cwd=self.dir, stdout=self.out, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent)
        self.node = node

    def _ids(self, what):
        p = os.path.join(self.dir, "calls.log")
        if not os.path.exists(p):
            return set()
        with open(p, errors="replace") as f:
            return set(re.findall(rf"^{what} (\S+)", f.read(), re.M))

    def answered(self):
        return self._ids("answered")

    def ended(self):
        return self._ids("ended")

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


# --- failover fixtures ------------------------------------------------------------------------
class Dnsmasq:
    """dnsmasq (Debian dnsmasq-base) in namespace `ns` on 127.0.0.1:`port`, authoritative for what
    it is given and nothing else (no upstream, no /etc/hosts, no config file):
    srv = [(name, target, port, priority, weight)] (--srv-host), hosts = [(name, addr)]
    (--host-record), addn_hosts = a hosts file re-read on `hup()` (SIGHUP). Runs as root (its work
    dir is the test's, mode 0700) in the foreground, killed with the test (PDEATHSIG)."""

    def __init__(self, net, ns, work, port=53, srv=(), hosts=(), addn_hosts=None):
        self.net, self.ns, self.port = net, ns, port
        self.dir = os.path.join(work, "dnsmasq")
        os.makedirs(self.dir, exist_ok=True)
        self.log = os.path.join(self.dir, "dnsmasq.log")
        self.addn_hosts = addn_hosts
        self.cmd = ["ip", "netns", "exec", ns, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
                    "--no-resolv", "--no-hosts", "--no-poll", "--bind-interfaces",
                    "--listen-address=127.0.0.1", f"--port={port}", "--user=root", "--local-ttl=0",
                    f"--pid-file={os.path.join(self.dir, 'dnsmasq.pid')}", "--log-queries",
                    f"--log-facility={self.log}"]
        self.cmd += [f"--srv-host={n},{t},{p},{pr},{w}" for n, t, p, pr, w in srv]
        self.cmd += [f"--host-record={n},{a}" for n, a in hosts]
        if addn_hosts:
            if not os.path.exists(addn_hosts):
                open(addn_hosts, "w").close()
            self.cmd.append(f"--addn-hosts={addn_hosts}")
        self.proc = None

    def start(self, timeout=10):
        out = open(os.path.join(self.dir, "dnsmasq.out"), "w")
        self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent)
        out.close()
        ok = wait_until(lambda: self.proc.poll() is not None or (
            os.path.exists(self.log) and "started, version" in open(self.log, errors="replace").read()),
            timeout, 0.05)
        if not ok or self.proc.poll() is not None:
            raise RuntimeError(f"dnsmasq did not start: {' '.join(self.cmd)} "
                               f"(see {self.dir})")

    def write_hosts(self, lines):
        """Rewrites the addn-hosts file atomically and makes dnsmasq re-read it."""
        tmp = self.addn_hosts + ".tmp"
        with open(tmp, "w") as f:
            f.write("".join(f"{addr} {name}\n" for addr, name in lines))
        os.replace(tmp, self.addn_hosts)
        self.hup()

    def hup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGHUP)

    def stop(self):
        stop_process(self.proc, 5)


class Postgres:
    """A private PostgreSQL (Debian `postgresql`) on 127.0.0.1:5432 inside namespace `ns`, for one
    node's catalog: initdb/pg_ctl as the `postgres` user with runuser (as tests/catalog/
    system_test.py does), trust auth, database `callvault`. `stop()` is the outage, `start()` the
    return; `close()` stops it for good (Cluster.on_close)."""

    def __init__(self, net, ns, work, port=5432):
        root = "/usr/lib/postgresql"
        versions = sorted((d for d in os.listdir(root) if d.isdigit()), key=int) if os.path.isdir(root) else []
        if not versions:
            raise RuntimeError("PostgreSQL is not installed (scripts/install-deps.sh installs `postgresql`)")
        self.bin = os.path.join(root, versions[-1], "bin")
        self.ns, self.port = ns, port
        self.dir = os.path.join(work, f"pg-{ns}")
        os.makedirs(self.dir)
        pw = pwd.getpwnam("postgres")
        os.chmod(work, 0o755)  # mkdtemp's 0700 would keep the postgres user out
        os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.running = False

    def _run(self, *cmd, check=True):
        r = run(["ip", "netns", "exec", self.ns, "runuser", "-u", "postgres", "--"] + list(cmd), check=False)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: {r.stdout}{r.stderr}")
        return r

    def init(self):
        self._run(os.path.join(self.bin, "initdb"), "-D", os.path.join(self.dir, "data"), "-U", "callvault",
                  "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()
        self._run(os.path.join(self.bin, "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                  "callvault", "callvault")

    def start(self):
        self._run(os.path.join(self.bin, "pg_ctl"), "-D", os.path.join(self.dir, "data"), "-w", "-t", "30",
                  "-l", os.path.join(self.dir, "log"),
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        self.running = True

    def stop(self):
        self._run(os.path.join(self.bin, "pg_ctl"), "-D", os.path.join(self.dir, "data"), "-w", "-m", "fast",
                  "stop", check=False)
        self.running = False

    def close(self):
        if os.path.exists(os.path.join(self.dir, "data", "postmaster.pid")):
            self.stop()

    def url(self):
        return f"postgresql://callvault@127.0.0.1:{self.port}/callvault"


# --- the cluster ------------------------------------------------------------------------------
class S3Bucket:
    """tests/s3/s3_server.mjs (a SigV4-checking S3 server, Node 20 from `npm ci --prefix tests`)
    on <addr>:<port> inside namespace `ns`: one bucket several nodes share."""
    NODE = os.path.join(HERE, "..", "node_modules", "node", "bin", "node")
    SERVER = os.path.join(HERE, "..", "s3", "s3_server.mjs")
    KEY_ID, SECRET, BUCKET = "AKCLUSTER", "s3cr3t-cluster", "calls"

    def __init__(self, net, ns, addr, work, port=9000):
        self.net, self.ns, self.addr, self.port = net, ns, addr, port
        self.dir = os.path.join(work, "s3")
        self.secret_file = os.path.join(work, "s3.secret")
        self.proc = None
        self.log = open(os.path.join(work, "s3.log"), "a")

    @classmethod
    def available(cls):
        return os.path.exists(cls.NODE)

    def start(self, timeout=30):
        os.makedirs(self.dir, exist_ok=True)
        with open(self.secret_file, "w") as f:
            f.write(self.SECRET + "\n")
        os.chmod(self.secret_file, 0o600)
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, self.NODE, "--openssl-legacy-provider", self.SERVER,
             "--address", self.addr, "--port", str(self.port), "--dir", self.dir,
             "--access-key-id", self.KEY_ID, "--secret-access-key", self.SECRET,
             "--bucket", self.BUCKET],
            stdout=subprocess.PIPE, stderr=self.log, text=True, preexec_fn=_die_with_parent)
        line = self.proc.stdout.readline()  # "listening <addr>:<port>", or EOF on a failure
        if not line.startswith("listening"):
            raise RuntimeError(f"s3 server did not start: {line!r} (see {self.log.name})")
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()

    def stop(self):
        stop_process(self.proc, 10)

    def endpoint(self):
        return f"http://{self.addr}:{self.port}"

    def config(self, prefix):
        """The [storage] and [s3] tables of a node that moves its audio here at once."""
        return f"""
[storage]
backend = "s3"
relocate_after_s = 0

[s3]
endpoint = "{self.endpoint()}"
bucket = "{self.BUCKET}"
prefix = "{prefix}"
access_key_id = "{self.KEY_ID}"
secret_access_key_file = "{self.secret_file}"
timeout_s = 10
"""

    def objects(self):
        """{key: size} of every object (s3rver keeps each as <dir>/<bucket>/<key>._S3rver_object)."""
        root = os.path.join(self.dir, self.BUCKET)
        out = {}
        for d, _, files in os.walk(root):
            for f in files:
                if f.endswith("._S3rver_object"):
                    key = os.path.relpath(os.path.join(d, f), root)[:-len("._S3rver_object")]
                    out[key] = os.path.getsize(os.path.join(d, f))
        return out


class Cluster:
    def __init__(self, binary, work, names="abc"):
        self.work = work
        self.names = list(names)
        self.binary = self._private_copy(binary)
        self.net = Network(self.names)
        self.certs, self.ca = {}, None
        self.nodes = {}
        self.sipps = []
        self._media_port = {}
        self.tone = os.path.join(work, "cv_tone.alaw")
        self._cleanups = []

    def _private_copy(self, binary):
        """The binary copied into the work dir once it is complete (a rebuild under a running test
        must not change it): waits up to 3 min for a binary that runs `version`."""
        dst = os.path.join(self.work, "callvault")
        deadline = time.time() + 180
        while True:
            try:
                if time.time() - os.path.getmtime(binary) > 5:
                    shutil.copy2(binary, dst)
                    if subprocess.run([dst, "version"], capture_output=True, timeout=20).returncode == 0:
                        return dst
            except (OSError, subprocess.TimeoutExpired):
                pass
            if time.time() > deadline:
                raise RuntimeError(f"{binary}: no working binary after 3 min")
            time.sleep(5)

    def setup(self, prepare=None):
        """Namespaces, certificates, configs, a token per node (before anything starts).
        `prepare(cluster)` runs once the nodes exist, before their configs are written and the CLI
        first opens their catalogs (a tmpfs data dir, a PostgreSQL catalog, config overrides)."""
        self.net.create()
        self.certs, self.ca = make_certs(os.path.join(self.work, "pki"), self.net.addr)
        subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-e", "a-law", "-t", "raw", self.tone,
                        "synth", "30", "sine", "1000", "vol", "0.3"], check=True)
        for n in self.names:
            self.nodes[n] = Node(self, n)
        if prepare:
            prepare(self)
        for node in self.nodes.values():
            node.write_config()
            r = subprocess.run([self.binary, "check-config", node.config], capture_output=True,
                               text=True, timeout=60)
            if r.returncode != 0:
                raise RuntimeError(f"check-config {node.name}: {r.stdout}{r.stderr}")
            node.make_token()

    def node(self, n):
        return self.nodes[n]

    def start(self, names=None):
        bad = [n for n in (names or self.names) if not self.nodes[n].start()]
        if bad:
            raise RuntimeError(f"nodes {bad} did not start (see {self.work}/<node>/server-N.log)")

    def write_configs(self):
        for node in self.nodes.values():
            node.write_config()

    def partition(self, n):
        self.net.partition(n)

    def heal(self, n):
        self.net.heal(n)

    def sipp(self, node, calls, rate, call_ms, limit=None, tag=None, codec="PCMA"):
        """sipp in `node`'s namespace calling it: `calls` calls of `call_ms`, `rate` per second,
        at most `limit` at once; codec PCMA (8 kHz recording) or G722 (16 kHz)."""
        k = self._media_port.get(node, 0)
        self._media_port[node] = k + 1
        s = Sipp(self, node, tag or f"{k}", calls, rate, call_ms, limit or max(1, calls),
                 30000 + 2000 * k, codec)
        self.sipps.append(s)
        return s

    def on_close(self, fn):
        """fn() runs in close() after the servers stopped, before the namespaces go (last added
        first); its exceptions are printed, not raised."""
        self._cleanups.append(fn)

    def close(self):
        for s in self.sipps:
            s.kill()
        for node in self.nodes.values():
            node.stop(timeout=10)
        for fn in reversed(self._cleanups):
            try:
                fn()
            except Exception as e:  # clean-up goes on
                print(f"  clean-up {getattr(fn, '__name__', fn)}: {e!r}", flush=True)
        self._cleanups = []
        for node in self.nodes.values():
            node._pool.shutdown(wait=False, cancel_futures=True)
        self.net.destroy()

    # convergence
    def backlogs(self):
        """{node: {queue: backlog}} of every running node (None for a node whose /metrics fails)."""
        out = {}
        for n, node in self.nodes.items():
            m = node.metrics()
            out[n] = None if m is None else {
                l.get("queue"): v for name, l, v in m.series if name == "callvault_outbox_backlog"}
        return out

    def quiet(self):
        """Every node up and every outbox queue (catalog, peer.*) empty."""
        b = self.backlogs()
        return all(q is not None and q and all(v == 0 for v in q.values()) for q in b.values())

    def api_ids(self):
        """{node: [call id…]} from the API (all pages); None for a node that did not answer."""
        out = {}
        for n, node in self.nodes.items():
            calls = node.all_calls()
            out[n] = None if calls is None else calls
        return out

    def wait_converged(self, expected_sip_ids, timeout, extra_ok=None):
        """Waits (bounded) until every node lists the same calls, none active, every queue empty,
        and the sipp Call-IDs `expected_sip_ids` are all recorded; returns seconds waited or None."""
        t0 = time.time()

        def done():
            if not self.quiet():
                return False
            calls = self.api_ids()
            if any(c is None for c in calls.values()):
                return False
            sets = [frozenset(x["id"] for x in c) for c in calls.values()]
            if len(set(sets)) != 1 or any(x["state"] == "active" for c in calls.values() for x in c):
                return False
            if any(len(c) != len(sets[0]) for c in calls.values()):
                return False
            sips = set()
            for node in self.nodes.values():
                sips |= {m.get("sip_call_id") for lst in node.manifests().values() for _, m in lst}
            if not set(expected_sip_ids) <= sips:
                return False
            return extra_ok() if extra_ok else True

        return time.time() - t0 if wait_until(done, timeout, 1.0) else None

    def convergence_report(self, expected_sip_ids):
        """Per node: API calls (count, duplicates, by origin, states), manifests (count, duplicates,
        SHA-256 mismatches, Call-IDs). Returns (per-node dict, problems list)."""
        rep, problems = {}, []
        calls = self.api_ids()
        for n, node in self.nodes.items():
            api = calls[n] or []
            ids = [x["id"] for x in api]
            by_origin, states = {}, {}
            for x in api:
                by_origin[x["node"]] = by_origin.get(x["node"], 0) + 1
                states[x["state"]] = states.get(x["state"], 0) + 1
            mans = node.manifests()
            sha_bad, sip_of = [], {}
            for cid, lst in mans.items():
                for p, m in lst:
                    if node.sha_of:
                        ok = node.sha_of(node, m) == m["audio"]["sha256"]
                    else:
                        audio = os.path.join(node.recordings, m["audio"]["file"])
                        try:
                            ok = sha256_file(audio) == m["audio"]["sha256"]
                        except OSError:
                            ok = False
                    if not ok:
                        sha_bad.append(cid)
                    sip_of.setdefault(m.get("sip_call_id"), set()).add(cid)
            r = {"api": len(ids), "api_unique": len(set(ids)), "by_origin": by_origin, "states": states,
                 "manifests": sum(len(v) for v in mans.values()), "manifest_calls": len(mans),
                 "sha_ok": sum(len(v) for v in mans.values()) - len(sha_bad), "sha_bad": sha_bad,
                 "ids": set(ids), "manifest_ids": set(mans),
                 "sip_dups": {s: c for s, c in sip_of.items() if len(c) > 1},
                 "missing_sip": set(expected_sip_ids) - set(sip_of)}
            rep[n] = r
            if calls[n] is None:
                problems.append(f"{n}: the API did not answer")
            if len(ids) != len(set(ids)):
                problems.append(f"{n}: {len(ids) - len(set(ids))} calls listed twice by the API")
            if r["manifests"] != r["manifest_calls"]:
                problems.append(f"{n}: {r['manifests'] - r['manifest_calls']} extra manifests")
            if set(ids) != set(mans):
                problems.append(f"{n}: API ids != manifest ids ({len(set(ids) - set(mans))} only in the "
                                f"API, {len(set(mans) - set(ids))} only on disk)")
            if sha_bad:
                problems.append(f"{n}: {len(sha_bad)} audio files whose SHA-256 is not the manifest's")
            if r["sip_dups"]:
                problems.append(f"{n}: {len(r['sip_dups'])} SIP Call-IDs recorded under 2+ call ids")
            if r["missing_sip"]:
                problems.append(f"{n}: {len(r['missing_sip'])} answered calls missing")
            if states.get("active"):
                problems.append(f"{n}: {states['active']} calls still active")
        id_sets = {n: r["ids"] for n, r in rep.items()}
        if len({frozenset(s) for s in id_sets.values()}) != 1:
            union = set().union(*id_sets.values())
            problems.append("nodes differ: " + ", ".join(
                f"{n} lacks {len(union - s)}" for n, s in id_sets.items()))
        return rep, problems


def format_counts(rep):
    lines = []
    for n, r in rep.items():
        origin = " ".join(f"{k}={v}" for k, v in sorted(r["by_origin"].items()))
        lines.append(f"  node {n}: api={r['api']} (unique {r['api_unique']}; by origin {origin}; "
                     f"states {r['states']}) manifests={r['manifests']} sha256_ok={r['sha_ok']}")
    return "\n".join(lines)
