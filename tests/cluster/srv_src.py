"""A test SRC that finds its recorders by DNS SRV and keeps them honest with SIP OPTIONS, for
tests/cluster/system_test.py srv-failover (docs/deployment.md §SIP failover).

    src = SrvSrc("_sip._udp.rec.cv.test", ("127.0.0.1", 53), "10.77.9.254", enter=fn)
    src.start()                     # SRV + A records resolved, OPTIONS to every target each second
    recs = src.run_calls(200)       # 200 SIPREC calls, 8 at a time; one record per call
    src.start_load(5); …; recs = src.stop_load()    # 5 calls/s in the background
    src.options("a.rec.cv.test")    # one OPTIONS now: the Response, or None (no answer)
    src.stop()

Choice of a target per call (RFC 2782): among the targets whose last OPTIONS got a 200, the lowest
priority; within it, the zero weights first, running sums of the weights, a uniform random
number in [0, sum], the first target whose running sum reaches it. When no target answers, every
target is a candidate. An INVITE answered with anything but 2xx, or unanswered for
`no_answer_s` (no provisional, no final), marks that target down until its next OPTIONS 200,
and the call tries the next candidate (the attempts are kept in the call's record).

A call: INVITE (multipart SDP with two PCMA m-lines + RFC 7865 metadata, as tests/rtp/siprec_src.py
sends) → 200 → ACK → `rtp_ms` of RTP on both streams → BYE → 200. Each record is a dict:
{"t0", "attempts": [(target, code or None, t)], "target" (the one that answered 2xx, or None),
"t_answered", "bye" (the BYE's final code or None), "sip_call_id"}.

Threads: every thread of this SRC first calls `enter()` (setns into the test host's namespace),
so its sockets and DNS queries live there. dnspython: Debian's python3-dnspython
(scripts/install-deps.sh); under another interpreter (pyenv) /usr/lib/python3/dist-packages is
appended to sys.path for it.
"""
import os
import queue
import random
import re
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "rtp"))
import siprec_src as S  # noqa: E402  (SDP, metadata, Response, RTP, G.711)

CRLF = "\r\n"


def import_dns():
    """dnspython's resolver module; None when python3-dnspython is not installed."""
    try:
        import dns.resolver
    except ImportError:
        debian = "/usr/lib/python3/dist-packages"
        if debian in sys.path or not os.path.isdir(os.path.join(debian, "dns")):
            return None
        sys.path.append(debian)
        try:
            import dns.resolver
        except ImportError:
            return None
    return dns.resolver


def resolver(server):
    """A dnspython resolver asking only `server` = (ip, port), no retries beyond 2 s."""
    r = import_dns().Resolver(configure=False)
    r.nameservers = [server[0]]
    r.port = server[1]
    r.lifetime = 2.0
    r.timeout = 1.0
    return r


def lookup_a(server, name):
    """The A addresses of `name` (sorted), [] for NXDOMAIN/no answer."""
    dr = import_dns()
    try:
        return sorted(rr.address for rr in resolver(server).resolve(name, "A"))
    except (dr.NXDOMAIN, dr.NoAnswer, dr.NoNameservers, dr.LifetimeTimeout):
        return []


class Target:
    def __init__(self, host, addr, port, priority, weight):
        self.host, self.addr, self.port = host, addr, port
        self.priority, self.weight = priority, weight
        self.up = False
        self.last_options = None  # (t, code or None, Warning)
        self.history = []         # [(t, code or None)] of the pinger

    def __repr__(self):
        return f"{self.host}({self.addr}:{self.port} prio {self.priority} weight {self.weight})"


def rfc2782_pick(targets, rng):
    """One target of the lowest priority among `targets`, chosen by weight (RFC 2782)."""
    if not targets:
        return None
    prio = min(t.priority for t in targets)
    group = [t for t in targets if t.priority == prio]
    group.sort(key=lambda t: t.weight != 0)  # zero weights first, else the order of the answer
    total = sum(t.weight for t in group)
    pick = rng.randint(0, total)
    running = 0
    for t in group:
        running += t.weight
        if running >= pick:
            return t
    return group[-1]


class SrvSrc:
    def __init__(self, srv_name, dns_server, local_addr, enter=None, ping_s=1.0, no_answer_s=1.0,
                 rtp_ms=200, seed=None):
        self.srv_name = srv_name
        self.dns_server = dns_server
        self.local = local_addr
        self.enter = enter or (lambda: None)
        self.ping_s = ping_s
        self.no_answer_s = no_answer_s
        self.rtp_ms = rtp_ms
        self.rng = random.Random(seed)
        self.targets = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = []
        self.records = []
        self._n = 0
        self._load = None

    # --- threads in the namespace ------------------------------------------------------------
    def _thread(self, fn, *args):
        def body():
            self.enter()
            fn(*args)
        t = threading.Thread(target=body, daemon=True)
        t.start()
        self.threads.append(t)
        return t

    def _in_ns(self, fn, *args):
        out = {}

        def body():
            try:
                out["v"] = fn(*args)
            except BaseException as e:  # noqa: B902 — handed to the caller
                out["e"] = e
        self._thread(body).join()
        if "e" in out:
            raise out["e"]
        return out.get("v")

    # --- DNS and OPTIONS ----------------------------------------------------------------------
    def resolve(self):
        """SRV then A records: the targets, in the SRV answer's order."""
        def q():
            r = resolver(self.dns_server)
            out = []
            for rr in r.resolve(self.srv_name, "SRV"):
                host = str(rr.target).rstrip(".")
                addr = r.resolve(host, "A")[0].address
                out.append(Target(host, addr, rr.port, rr.priority, rr.weight))
            return out
        return self._in_ns(q)

    def start(self):
        self.targets = self.resolve()
        if not self.targets:
            raise RuntimeError(f"{self.srv_name}: no SRV records")
        for t in self.targets:
            self._thread(self._pinger, t)
        # The first round of OPTIONS decides where the first call goes.
        deadline = time.time() + 3
        while time.time() < deadline and any(t.last_options is None for t in self.targets):
            time.sleep(0.05)

    def target(self, host):
        return next(t for t in self.targets if t.host == host)

    def _pinger(self, t):
        sock = self._socket()
        while not self.stopping.is_set():
            t0 = time.time()
            r = self._options(sock, t, timeout=min(0.9, self.ping_s))
            code = r.code if r else None
            with self.lock:
                t.up = code == 200
                t.last_options = (time.time(), code, r.header("Warning") if r else None)
                t.history.append((time.time(), code))
            self.stopping.wait(max(0.0, self.ping_s - (time.time() - t0)))
        sock.close()

    def options(self, host, timeout=0.5):
        """One OPTIONS to `host` now (from a thread in the namespace): Response or None."""
        return self._in_ns(self.options_to, self.target(host), timeout)

    def options_to(self, t, timeout=0.5):
        """One OPTIONS to Target t from the calling thread (in the namespace already)."""
        sock = self._socket()
        try:
            return self._options(sock, t, timeout)
        finally:
            sock.close()

    def _options(self, sock, t, timeout):
        cid = f"opt-{random.getrandbits(64):016x}@{self.local}"
        msg = self._request(sock, "OPTIONS", t, cid, f"o{random.getrandbits(32):x}", None, 1,
                            extra=("Accept: application/sdp",))
        return self._transact(sock, t, msg, cid, 1, "OPTIONS", timeout)

    # --- SIP plumbing -------------------------------------------------------------------------
    def _socket(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((self.local, 0))
        return s

    def _request(self, sock, method, t, call_id, from_tag, to_tag, cseq, body="", content_type=None,
                 extra=(), branch=None):
        port = sock.getsockname()[1]
        branch = branch or "z9hG4bK-" + format(random.getrandbits(48), "x")
        to = f"<sip:srs@{t.addr}>" + (f";tag={to_tag}" if to_tag else "")
        h = [f"{method} sip:srs@{t.addr}:{t.port} SIP/2.0",
             f"Via: SIP/2.0/UDP {self.local}:{port};branch={branch};rport",
             "Max-Forwards: 70",
             f"From: <sip:src@{self.local}>;tag={from_tag}",
             f"To: {to}",
             f"Call-ID: {call_id}",
             f"CSeq: {cseq} {method}",
             f"Contact: <sip:src@{self.local}:{port}>;+sip.src",
             "User-Agent: callvault-cluster-srv-src"]
        h.extend(extra)
        if content_type:
            h.append(f"Content-Type: {content_type}")
        h.append(f"Content-Length: {len(body.encode())}")
        return CRLF.join(h) + CRLF + CRLF + body

    def _send(self, sock, t, text):
        try:
            sock.sendto(text.encode(), (t.addr, t.port))
        except OSError:
            pass  # unreachable (partition): as good as lost

    def _recv(self, sock, t, timeout):
        sock.settimeout(max(0.001, timeout))
        try:
            data, src = sock.recvfrom(65536)
        except (socket.timeout, OSError):
            return None
        text = data.decode("latin-1")
        if not text.startswith("SIP/2.0 "):
            self._answer_request(sock, src, text)
            return None
        try:
            return S.Response(text)
        except (ValueError, IndexError, AttributeError):
            return None

    def _answer_request(self, sock, src, text):
        """A request from a recorder (a BYE after its RTP timeout…): 200, ACKs ignored."""
        head = text.split("\r\n\r\n")[0].split("\r\n")
        if head[0].startswith("ACK "):
            return
        keep = [line for line in head[1:]
                if line.split(":")[0].strip().lower() in ("via", "from", "to", "call-id", "cseq")]
        resp = "SIP/2.0 200 OK" + CRLF + CRLF.join(keep) + CRLF + "Content-Length: 0" + CRLF + CRLF
        sock.sendto(resp.encode(), src)

    def _transact(self, sock, t, msg, call_id, cseq, method, no_answer_s, final_s=5.0, on_2xx=None):
        """Sends `msg` (retransmitted at T1 = 0.5 s doubling until a provisional): the final
        Response, or None when nothing answered within `no_answer_s` or no final within
        `final_s`. A 2xx retransmitted later is handed to on_2xx again (the ACK)."""
        self._send(sock, t, msg)
        t_start = time.time()
        t_next, interval, provisional = t_start + 0.5, 0.5, False
        while True:
            now = time.time()
            limit = t_start + (final_s if provisional else no_answer_s)
            if now >= limit:
                return None
            if not provisional and now >= t_next:
                self._send(sock, t, msg)
                interval = min(interval * 2, 4.0)
                t_next = now + interval
            r = self._recv(sock, t, min(limit, t_next if not provisional else limit) - now)
            if r is None or r.call_id() != call_id:
                continue
            try:
                n, m = r.cseq()
            except (AttributeError, ValueError):
                continue
            if n != cseq or m != method:
                continue
            if r.code < 200:
                provisional = True
                continue
            if on_2xx and 200 <= r.code < 300:
                on_2xx(r)
            return r

    # --- calls --------------------------------------------------------------------------------
    def _candidates(self, exclude):
        with self.lock:
            up = [t for t in self.targets if t.up and t.host not in exclude]
            if not up and not any(t.up for t in self.targets):
                up = [t for t in self.targets if t.host not in exclude]
            return up

    def call(self, sock, rtp):
        """One call with failover over the SRV targets: its record."""
        with self.lock:
            self._n += 1
            n = self._n
        rec = {"n": n, "t0": time.time(), "attempts": [], "target": None, "t_answered": None, "bye": None,
               "sip_call_id": None}
        tried = set()
        while True:
            t = rfc2782_pick(self._candidates(tried), self.rng)
            if t is None:
                break
            tried.add(t.host)
            cid = f"srv-{n}-{random.getrandbits(48):012x}@{self.local}"
            code = self._one_call(sock, rtp, t, cid, rec)
            rec["attempts"].append((t.host, code, time.time()))
            if code is not None and 200 <= code < 300:
                break
            with self.lock:
                t.up = False  # until its next OPTIONS 200
        with self.lock:
            self.records.append(rec)
        return rec

    def _one_call(self, sock, rtp, t, cid, rec):
        from_tag = f"src{random.getrandbits(30)}"
        offer = S.offer_sdp([{"port": rtp.getsockname()[1], "pt": 8, "codec": "PCMA", "label": "1"},
                             {"port": rtp.getsockname()[1] + 2, "pt": 8, "codec": "PCMA", "label": "2"}])
        offer = offer.replace("127.0.0.1", self.local)
        body = ("--cvb1\r\nContent-Type: application/sdp\r\n\r\n" + offer +
                "\r\n--cvb1\r\nContent-Type: application/rs-metadata+xml\r\n"
                "Content-Disposition: recording-session\r\n\r\n" +
                S.METADATA.format(sess="c2Vzcw==", callid=cid) + "\r\n--cvb1--\r\n")
        branch = "z9hG4bK-" + format(random.getrandbits(48), "x")
        invite = self._request(sock, "INVITE", t, cid, from_tag, None, 1, body=body,
                               content_type="multipart/mixed;boundary=cvb1", branch=branch,
                               extra=("Require: siprec",
                                      "Accept: application/sdp, application/rs-metadata+xml"))
        acked = {}

        def ack(r):
            acked["to"] = r.to_tag()
            self._send(sock, t, self._request(sock, "ACK", t, cid, from_tag, r.to_tag(), 1))
        r = self._transact(sock, t, invite, cid, 1, "INVITE", self.no_answer_s, 5.0, on_2xx=ack)
        if r is None:
            return None
        if r.code >= 300:
            self._send(sock, t, self._request(sock, "ACK", t, cid, from_tag, r.to_tag(), 1, branch=branch))
            return r.code
        rec["target"], rec["t_answered"], rec["sip_call_id"] = t.host, time.time(), cid
        addr, ports = S.parse_answer_ports(r.body)
        self._rtp(rtp, addr or t.addr, [p for p, _ in ports if p])
        bye = self._request(sock, "BYE", t, cid, from_tag, acked.get("to"), 2)
        rb = self._transact(sock, t, bye, cid, 2, "BYE", 2.0, 2.0)
        rec["bye"] = rb.code if rb else None
        return r.code

    def _rtp(self, sock, addr, ports):
        if not ports or self.rtp_ms <= 0:
            return
        ssrcs = [random.getrandbits(32) for _ in ports]
        payload = S.encode("PCMA", S.tone_samples(1000, 0, 160))
        for i in range(self.rtp_ms // 20):
            for port, ssrc in zip(ports, ssrcs):
                try:
                    sock.sendto(S.rtp_packet(8, i, i * 160, ssrc, payload, marker=i == 0), (addr, port))
                except OSError:
                    pass
            time.sleep(0.02)

    def _worker(self, jobs):
        sock, rtp = self._socket(), self._socket()
        try:
            while True:
                job = jobs.get()
                if job is None:
                    return
                job(self.call(sock, rtp))
        finally:
            sock.close()
            rtp.close()

    def run_calls(self, count, parallel=8):
        """`count` calls, `parallel` at a time; their records in the order they started."""
        jobs, done = queue.Queue(), []
        lock = threading.Lock()

        def finished(rec):
            with lock:
                done.append(rec)
        workers = [self._thread(self._worker, jobs) for _ in range(parallel)]
        for _ in range(count):
            jobs.put(finished)
        for _ in workers:
            jobs.put(None)
        for w in workers:
            w.join()
        return sorted(done, key=lambda r: r["n"])

    def start_load(self, rate, parallel=6):
        """Calls at `rate` per second in the background (a start is skipped while every worker is
        busy) until stop_load()."""
        jobs, done, stop = queue.Queue(), [], threading.Event()
        lock = threading.Lock()

        def finished(rec):
            with lock:
                done.append(rec)

        def pace():
            nxt = time.time()
            while not stop.is_set():
                if jobs.qsize() < parallel:
                    jobs.put(finished)
                nxt += 1.0 / rate
                stop.wait(max(0.0, nxt - time.time()))
        workers = [self._thread(self._worker, jobs) for _ in range(parallel)]
        self._load = (jobs, done, stop, workers, self._thread(pace))

    def load_records(self):
        return sorted(list(self._load[1]), key=lambda r: r["n"]) if self._load else []

    def stop_load(self):
        jobs, done, stop, workers, pacer = self._load
        stop.set()
        pacer.join()
        while not jobs.empty():
            try:
                jobs.get_nowait()
            except queue.Empty:
                break
        for _ in workers:
            jobs.put(None)
        for w in workers:
            w.join(30)
        self._load = None
        return sorted(done, key=lambda r: r["n"])

    def stop(self):
        if self._load:
            self.stop_load()
        self.stopping.set()
        for t in self.threads:
            t.join(5)


def options_once(local_addr, addr, port=5060, timeout=0.5):
    """One OPTIONS from local_addr to addr:port, from the calling thread: Response or None."""
    return SrvSrc("", None, local_addr).options_to(Target(addr, addr, port, 0, 0), timeout)


def split(records):
    """{target: calls answered there} of a list of call records (None: not answered)."""
    out = {}
    for r in records:
        out[r["target"]] = out.get(r["target"], 0) + 1
    return out


def first_tries(records):
    """{target: calls whose first INVITE went there}."""
    out = {}
    for r in records:
        if r["attempts"]:
            out[r["attempts"][0][0]] = out.get(r["attempts"][0][0], 0) + 1
    return out


def short(host):
    """The node of a target name ("b.rec.cv.test" → "b")."""
    return re.split(r"\.", host or "-")[0]
