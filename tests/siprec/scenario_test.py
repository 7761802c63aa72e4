#!/usr/bin/env python3
"""Acceptance test: every sipp scenario of ../shared/siprec-samples/ against `callvault serve`.

Usage: scenario_test.py --bin PATH/callvault [--samples DIR] [--only SUBSTRING ...] [--keep]

Every SIPREC scenario runs against one `callvault serve` (loopback, temp data dir, config written
to the temp dir) with real RTP, and must yield exactly one recording whose channels carry the
audio that was sent:
  * sipp succeeds (exit 0), except where the scenario's expected outcome says otherwise;
  * exactly one manifest with the call's sip_call_id, `state` as expected, the audio file
    exists and its size and SHA-256 match the manifest;
  * duration: the file's length minus the lead-in (first sample sent - audio.started) is within
    1 % of the RTP actually sent (first sample to last packet before the BYE + 20 ms), measured
    on the wire by a packet capture on `lo` (wire.py), not by the recorder's own counters; the
    first sample's time is the first packet's without its queueing delay (stream_start);
  * per channel: energy where a stream that received RTP is written, silence elsewhere; the tone
    sent on that stream (1 kHz from sipp's rtp_stream, 2 kHz from the second stream this test
    sends itself) dominates that channel and the other tone is at least 20 dB down;
    pcap-driven scenarios (speech, G.722, G.729, RFC 2833) get energy checks only, and the
    DTMF one must list the digits of the capture in streams[].dtmf;
  * metadata: one snapshot per metadata body sent (INVITE, re-INVITE, UPDATE, BYE);
  * pauses: a stream offered a=inactive shows a `paused` interval.
The Cisco CUBE network-based (NBR) scenarios are recorded like SIPREC ones, their participants
taken from the X-Cisco-Recording-Participant headers. The Cisco UCM built-in-bridge (BiB) pair
(master = far end, slave = near end, two dialogs with the same x-refci) must yield ONE
recording with the near end's tone on channel 0 and the far end's on channel 1; the slave plays
a 2 kHz file to tell them apart.

The samples are used in place. Where Debian's sipp 3.6.1 needs it, a scenario runs from its own
temp dir with a temp copy of the XML carrying minimal substitutions (printed), generated audio
files and symlinks to the sample folder's pcaps and csv files. Scenarios run concurrently (one
sipp per scenario, each on its own ports); calls stay attributable by Call-ID (`-cid_str`).

Prints one line per scenario and `N passed, N failed`; exit 1 on any failure. When the samples
folder is absent: prints SKIPPED and exits 0 (or --skip-code). The temp dir (server log, sipp
logs, recordings) is kept on failure or with --keep.
"""
import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import media_check  # noqa: E402
import wire  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SAMPLES = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "siprec-samples"))
RTP_WIDTH = 1000     # the recorder's RTP port range, found free below the ephemeral range
RTP_TIMEOUT_S = 20   # > the longest RTP silence of a scenario that ends with BYE (DTMF: 17.2 s)
SIPP_TONE = 1000     # Hz, in the A-law file sipp's rtp_stream plays
OWN_TONE = 2000      # Hz, the second stream this test sends itself
TONE_SECONDS = 75    # length of the generated A-law file (> the longest once-played scenario)
PTIME = 0.02

# Substitutions applied to a temp copy of a scenario XML: (short name, old, new, why).
SUB_PCAP_G711 = ("pcap path", "/tmp/pcap/g711a.pcap", "/usr/share/sip-tester/g711a.pcap",
                 "drachtio's pcap path; Debian's sip-tester ships the same capture")
SUB_CALLID_XX = ("Call-ID -XX", "[call_id]-XX", "[call_id]",
                 "sipp 3.6.1 matches responses by its own Call-ID; '-XX' made every response "
                 "unexpected")
SUB_NBR_PCMA = [("offer PCMA", "RTP/AVP 0 101 19", "RTP/AVP 8 101 19",
                 "MiaRec's CUBE NBR scenario streams A-law (rtp_stream PT 8) but offers only PCMU "
                 "(PT 0): offer what it sends"),
                ("rtpmap 8", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "same")]
SUB_SLAVE_2K = ("slave 2 kHz", "audio_alaw.wav", "audio_alaw_2k.wav",
                "master and slave play the same file upstream; the near end (slave) plays a 2 kHz "
                "tone so that the two channels can be told apart")
SUB_SLAVE_LONGER = ("slave +0.5 s", '<pause milliseconds="10000"/>', '<pause milliseconds="10500"/>',
                    "the slave starts 200 ms before the master, so its 'call done' command "
                    "reached the master before the master's BYE, which sipp 3.6.1 fails as an "
                    "unexpected command: the near end talks 0.5 s longer")
SUB_BYE_CSEQ = ("BYE CSeq", "CSeq: 610644699 BYE", "CSeq: 660944699 BYE",
                "upstream typo: the BYE's CSeq is below the last request's (660944698); RFC 3261 "
                "12.2.2 makes the recorder answer 500 'CSeq out of order', so sipp never ends "
                "the call")


class Scenario:
    def __init__(self, xml, *, kind="siprec", subs=(), links=(), args=(), s0_tone=SIPP_TONE,
                 second_stream=None, own_streams=(), own_seconds=0.0, same_channel=(),
                 state="completed",
                 sipp_ok=True, dtmf=None, warning=None, slave=None, slave_subs=(),
                 participants=(), note=""):
        self.xml = xml
        self.name = xml[:-4]
        self.kind = kind                  # "siprec" | "refused"
        self.subs = list(subs)
        self.links = list(links)          # sample files symlinked into the run dir
        self.args = list(args)            # extra sipp arguments
        self.s0_tone = s0_tone            # tone sipp sends on m-line 0 (None: speech pcap)
        self.second_stream = second_stream  # None | "follow_sdp" | "until_bye"
        self.own_streams = list(own_streams)  # [(m-line, tone)] sent by the test (no sipp RTP)
        self.own_seconds = own_seconds
        self.same_channel = set(same_channel)  # m-lines the metadata gives one participant
        self.state = state
        self.sipp_ok = sipp_ok
        self.dtmf = dtmf
        self.warning = warning
        self.slave = slave                # 3pcc slave scenario (CUCM BiB)
        self.slave_subs = list(slave_subs)  # substitutions in a temp copy of the slave XML
        self.participants = list(participants)  # [(aor, channel or None)] the manifest must list
        self.note = note


SCENARIOS = [
    Scenario("drachtio-uac-siprec-pcap-reinvite-inactive.xml", subs=[SUB_PCAP_G711],
             s0_tone=None, second_stream="until_bye",
             note="sipp keeps playing the pcap on m-line 0 through the a=inactive re-INVITE; the "
                  "2nd stream does the same"),
    Scenario("drachtio-uac-siprec-pcap2.xml", subs=[SUB_PCAP_G711, SUB_CALLID_XX], s0_tone=None,
             second_stream="follow_sdp"),
    Scenario("miarec-avaya-sbce-inbound-update-metadata.xml"),
    Scenario("miarec-avaya-sbce-inbound-cancelled.xml"),
    Scenario("miarec-broadworks-redirect.xml"),
    Scenario("miarec-broadworks-3way-call-update.xml"),
    Scenario("miarec-broadworks-pause-resume-inactive.xml"),
    Scenario("miarec-broadworks-acd-callcenter.xml"),
    Scenario("miarec-cisco-webex-calling-inbound.xml"),
    Scenario("miarec-cisco-webex-calling-blind-xfer.xml"),
    Scenario("miarec-cisco-webex-calling-conference-updates.xml", subs=[SUB_BYE_CSEQ]),
    Scenario("miarec-metaswitch-cfs-basic-inbound-mixed.xml"),
    Scenario("miarec-metaswitch-cfs-hold-reinvite.xml"),
    Scenario("miarec-metaswitch-cfs-3way-call.xml"),
    Scenario("miarec-metaswitch-cfs-attended-xfer.xml"),
    Scenario("miarec-metaswitch-cfs-nseries-conf.xml"),
    Scenario("miarec-metaswitch-cfs-dtmf-2833.xml", links=["09a_2833_dtmf.pcap"], s0_tone=None,
             dtmf="123456789**0#"),
    Scenario("miarec-metaswitch-cfs-g722.xml", links=["10a_g722.pcap"], s0_tone=None),
    Scenario("miarec-metaswitch-cfs-g729.xml", links=["12a_g729.pcap"], s0_tone=None),
    Scenario("miarec-oracle-sbc-outbound-apkt.xml", links=["tenant-users.csv", "callee.csv"],
             args=["-inf", "tenant-users.csv", "-inf", "callee.csv"]),
    # Replays a trace with hard-coded c=/ports and sends no RTP itself: the test streams the two
    # sendonly m-lines (0 and 2) for 4 s, and sipp's BYE waits 40 s (-d), so the recorder ends
    # the call on RTP inactivity (timed_out) and sipp fails on the recorder's BYE. The metadata
    # gives both sendonly streams (labels 268749245/268749247) to participant sip:Genesys, so
    # they share a channel; the inactive ones belong to the record URI.
    Scenario("vorpal-genesys-gvp-siprec-uac.xml", args=["-d", "40000"], s0_tone=None,
             own_streams=[(0, SIPP_TONE), (2, OWN_TONE)], own_seconds=4.0, same_channel=[0, 2],
             state="timed_out", sipp_ok=False,
             note="the recorder ends the call on RTP inactivity; sipp fails on its BYE"),
    # CUBE NBR: one m-line (MiaRec's simplification), the media-index 1 party has no stream.
    Scenario("miarec-cisco-cube-nbr-x-cisco-recording-participant.xml", subs=SUB_NBR_PCMA,
             participants=[("sip:2164485925@ccf.org", 0), ("sip:20053@10.144.106.41", None)]),
    Scenario("miarec-cisco-cube-nbr-transferred-reinvite.xml", subs=SUB_NBR_PCMA,
             participants=[("sip:2164485925@ccf.org", 0), ("sip:10012@10.144.106.41", None),
                           ("sip:20053@10.144.106.41", None)]),
    Scenario("miarec-cisco-ucm-bib-farend-master.xml", kind="bib",
             slave="miarec-cisco-ucm-bib-nearend-slave1.xml", slave_subs=[SUB_SLAVE_2K, SUB_SLAVE_LONGER],
             participants=[("4062", 0), ("8172710497", 1)]),
]


def log(*a):
    print(*a, flush=True)


def parse_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def free_block(width, start, end, step):
    """The first [p, p + width) in [start, end) whose UDP ports all bind on 127.0.0.1 now.
    Below the ephemeral range (32768+) nothing else picks them at random meanwhile."""
    for base in range(start, end - width + 1, step):
        socks = []
        try:
            for port in range(base, base + width):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no %d free UDP ports in %d-%d" % (width, start, end))


def metadata_bodies(xml_text):
    """How many recording-metadata bodies the scenario sends in INVITE/UPDATE/BYE requests."""
    n = 0
    for block in re.findall(r"<send[^>]*>\s*<!\[CDATA\[(.*?)\]\]>", xml_text, re.S):
        method = block.strip().split(" ", 1)[0]
        if method in ("INVITE", "UPDATE", "BYE"):
            n += len(re.findall(r"Content-Type:\s*application/rs-metadata", block, re.I))
    return n


# ---------------------------------------------------------------------------------------------
# The server.

class Server:
    def __init__(self, binary, work, rtp_lo, rtp_hi):
        self.work = work
        self.data = os.path.join(work, "data")
        self.config = os.path.join(work, "callvault.toml")
        with open(self.config, "w") as f:
            f.write(f"""# written by tests/siprec/scenario_test.py
[node]
id = "scenario-test"
data_dir = "{self.data}"

[sip]
listen = ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"]
workers = 2

[http]
port = 0

[media]
ipv4_address = "127.0.0.1"
port_min = {rtp_lo}
port_max = {rtp_hi}
rtp_timeout_s = {RTP_TIMEOUT_S}

[server]
drain_timeout_s = 2
""")
        self.log_path = os.path.join(work, "server.log")
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen([binary, "serve", "-c", self.config],
                                     stdout=self.log_file, stderr=subprocess.STDOUT)
        self.udp_port = None
        deadline = time.time() + 15
        while time.time() < deadline and self.udp_port is None:
            if self.proc.poll() is not None:
                raise RuntimeError("callvault serve exited: " + self.log_text()[-2000:])
            m = re.search(r"event=sip\.listening transport=UDP addr=127\.0\.0\.1:(\d+)",
                          self.log_text())
            if m and "event=server.ready" in self.log_text():
                self.udp_port = int(m.group(1))
            time.sleep(0.05)
        if self.udp_port is None:
            self.stop()
            raise RuntimeError("callvault serve did not log its UDP port")

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def manifests(self):
        out = []
        root = os.path.join(self.data, "recordings")
        for d, _, files in os.walk(root):
            for name in files:
                if name.endswith(".json"):
                    path = os.path.join(d, name)
                    try:
                        with open(path) as f:
                            out.append((path, json.load(f)))
                    except (OSError, ValueError):
                        pass  # being written (temp → rename makes this unlikely)
        return out

    def stop(self):
        if self.log_file.closed:
            return self.proc.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
        return self.proc.returncode


# ---------------------------------------------------------------------------------------------
# One scenario run: prepare the run dir, run sipp (and the test's own RTP), collect the result.

class Run:
    def __init__(self, sc, index, samples, work, server, sniffer, audio_file, audio_file_2k):
        self.sc = sc
        self.index = index
        self.samples = samples
        self.dir = os.path.join(work, "%02d-%s" % (index, sc.name))
        self.server = server
        self.sniffer = sniffer
        self.audio_file = audio_file
        self.audio_file_2k = audio_file_2k
        self.slave_xml_path = None
        self.call_id = None  # known once sipp runs: cvscenNN-1-<pid>@127.0.0.1 (-cid_str)
        self.pcap = None     # summary of the capture the scenario plays, if any
        self.adaptations = []  # (short name, what was changed and why)
        self.rc = None
        self.elapsed = 0.0
        self.senders = []
        self.sipp_done = threading.Event()
        self.xml_text = ""

    def prepare(self):
        os.makedirs(self.dir)
        src = os.path.join(self.samples, self.sc.xml)
        with open(src, encoding="iso-8859-1") as f:
            self.xml_text = text = f.read()
        for short, old, new, why in self.sc.subs:
            count = text.count(old)
            if count == 0:
                raise RuntimeError("substitution %r not found in %s" % (old, self.sc.xml))
            text = text.replace(old, new)
            self.adaptations.append((short, "XML copy: %r -> %r (x%d): %s" %
                                     (old, new, count, why)))
        if self.sc.subs:
            self.xml_path = os.path.join(self.dir, self.sc.xml)
            with open(self.xml_path, "w", encoding="iso-8859-1") as f:
                f.write(text)
        else:
            self.xml_path = src  # in place
        # Audio files named by rtp_stream: the generated 1 kHz A-law file, under each name used.
        for name in sorted(set(re.findall(r'rtp_stream="([^",]+\.wav)', text))):
            os.symlink(self.audio_file, os.path.join(self.dir, name))
            self.adaptations.append(("A-law file", "%s = generated raw A-law %d Hz tone, %d s "
                                     "(the sample's file is not in the folder)" %
                                     (name, SIPP_TONE, TONE_SECONDS)))
        if self.sc.slave:
            with open(os.path.join(self.samples, self.sc.slave), encoding="iso-8859-1") as f:
                slave = f.read()
            for short, old, new, why in self.sc.slave_subs:
                if old not in slave:
                    raise RuntimeError("substitution %r not found in %s" % (old, self.sc.slave))
                self.adaptations.append((short, "slave XML copy: %r -> %r (x%d): %s" %
                                         (old, new, slave.count(old), why)))
                slave = slave.replace(old, new)
            self.slave_xml_path = os.path.join(self.samples, self.sc.slave)  # in place
            if self.sc.slave_subs:
                self.slave_xml_path = os.path.join(self.dir, self.sc.slave)
                with open(self.slave_xml_path, "w", encoding="iso-8859-1") as f:
                    f.write(slave)
            for name in sorted(set(re.findall(r'rtp_stream="([^",]+\.wav)', slave))):
                if not os.path.exists(os.path.join(self.dir, name)):
                    os.symlink(self.audio_file_2k if name.endswith("_2k.wav") else self.audio_file,
                               os.path.join(self.dir, name))
        for name in self.sc.links:
            os.symlink(os.path.join(self.samples, name), os.path.join(self.dir, name))
        if self.sc.links:
            self.adaptations.append(("links", "run dir symlinks to the samples (sipp resolves "
                                     "them relative to its working dir): " +
                                     ", ".join(self.sc.links)))
        if self.sc.second_stream:
            self.adaptations.append(("s1 %d Hz" % OWN_TONE,
                                     "m-line 1 streamed by the test (%d Hz, %s): sipp streams "
                                     "only the first m-line" % (OWN_TONE, self.sc.second_stream)))
        for mline, hz in self.sc.own_streams:
            self.adaptations.append(("s%d %d Hz" % (mline, hz),
                                     "m-line %d streamed by the test (%d Hz, %.0f s): the "
                                     "scenario sends no RTP" % (mline, hz, self.sc.own_seconds)))
        if self.sc.args:
            self.adaptations.append((" ".join(self.sc.args), "sipp arguments " +
                                     " ".join(self.sc.args)))
        if self.sc.note:
            self.adaptations.append(("", "note: " + self.sc.note))
        m = re.search(r'play_pcap_audio="([^"]+)"', text)
        if m:
            path = os.path.join(self.dir, m.group(1))  # absolute paths stay absolute
            self.pcap = media_check.pcap_rtp_summary(path)
            self.adaptations.append(("", "plays %s: %d RTP packets, %.3f s, payload types %s" % (
                m.group(1), self.pcap["packets"], self.pcap["duration_s"],
                self.pcap["payload_types"])))

    def sipp_cmd(self, xml_path, local_port, media_port, tag, extra=()):
        return ["sipp", "127.0.0.1:%d" % self.server.udp_port, "-sf", xml_path, "-m", "1",
                "-i", "127.0.0.1", "-p", str(local_port), "-mp", str(media_port), "-t", "u1",
                "-nostdin", "-timeout", "150", "-timeout_error",
                "-cid_str", "cvscen%02d%s-%%u-%%p@%%s" % (self.index, tag),
                "-trace_err", "-error_file", os.path.join(self.dir, "sipp%s_errors.log" % tag),
                "-trace_msg", "-message_file", os.path.join(self.dir, "sipp%s_messages.log" % tag),
                "-trace_screen", "-screen_file", os.path.join(self.dir, "sipp%s_screen.log" % tag),
                ] + list(extra) + self.sc.args

    def run(self):
        try:
            self._run()
        except Exception as e:  # reported as this scenario's sipp result
            self.rc = "error: %r" % e
            self.sipp_done.set()

    def _run(self):
        start = time.time()
        # SIP port, slave SIP port +1, media ports (echo, rtp_stream, pcap) from +10.
        local_port = free_block(64, 22000 + self.index * 200, 32700, 64)
        media_port = local_port + 10
        procs = []
        out = open(os.path.join(self.dir, "sipp.out"), "w")
        if self.sc.slave:
            cfg = os.path.join(self.samples, "miarec-1slave.cfg")
            slave_xml = self.slave_xml_path
            procs.append(subprocess.Popen(
                self.sipp_cmd(slave_xml, local_port + 1, media_port + 26, "slave",
                              ["-slave_cfg", cfg, "-slave", "slave1"]),
                cwd=self.dir, stdout=out, stderr=out))
            time.sleep(1.0)
            procs.insert(0, subprocess.Popen(
                self.sipp_cmd(self.xml_path, local_port, media_port, "",
                              ["-slave_cfg", cfg, "-master", "master"]),
                cwd=self.dir, stdout=out, stderr=out))
        else:
            procs.append(subprocess.Popen(self.sipp_cmd(self.xml_path, local_port, media_port, ""),
                                          cwd=self.dir, stdout=out, stderr=out))
        # sipp's Call-ID is cvscenNN-<call number>-<pid>@127.0.0.1
        self.call_id = "cvscen%02d-1-%d@127.0.0.1" % (self.index, procs[0].pid)
        self.start_senders()
        rcs = []
        for p in procs:
            try:
                rcs.append(p.wait(timeout=max(5, 200 - (time.time() - start))))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                rcs.append("killed")
        self.rc = rcs[0] if len(rcs) == 1 else tuple(rcs)
        self.sipp_done.set()
        for s in self.senders:
            s.join(timeout=10)
        out.close()
        self.elapsed = time.time() - start

    # The test's own RTP streams (m-lines sipp does not stream).
    def start_senders(self):
        streams = []
        if self.sc.second_stream:
            streams.append((1, OWN_TONE, self.sc.second_stream, 300.0))
        for mline, hz in self.sc.own_streams:
            streams.append((mline, hz, "fixed", self.sc.own_seconds))
        if not streams:
            return
        threading.Thread(target=self._senders, args=(streams,), daemon=True).start()

    def _senders(self, streams):
        deadline = time.time() + 30
        answers = []
        while time.time() < deadline and not self.sipp_done.is_set():
            answers = self.sniffer.answers(self.call_id)
            if answers:
                break
            time.sleep(0.01)
        if not answers:
            return
        t_answer = answers[0][0]
        offer = self.sniffer.offers(self.call_id)
        for mline, hz, mode, seconds in streams:
            if mline >= len(answers[0][1]) or answers[0][1][mline][0] == 0:
                continue
            pts = offer[0][2][mline][2] if offer and mline < len(offer[0][2]) else [8]
            pt = next((p for p in pts if p in (0, 8)), 8)

            def port(mline=mline):
                a = self.sniffer.answers(self.call_id)
                return a[-1][1][mline][0] if mline < len(a[-1][1]) else a[0][1][mline][0]

            def ended():
                return self.sipp_done.is_set() or self.sniffer.bye_time(self.call_id) is not None

            if mode == "follow_sdp":
                def active(mline=mline):
                    o = self.sniffer.offers(self.call_id)
                    return mline < len(o[-1][2]) and o[-1][2][mline][1] != "inactive"
            elif mode == "fixed":
                def active(seconds=seconds):
                    return time.time() < t_answer + seconds
            else:
                def active():
                    return True
            s = wire.RtpSender(port, pt, hz, active, ended, seconds + 1 if mode == "fixed"
                               else seconds)
            s.start()
            self.senders.append(s)


# ---------------------------------------------------------------------------------------------
# Checks.

def check_refused(run, server, manifests):
    problems = []
    sc = run.sc
    details = []
    call_ids = [run.call_id]
    if sc.slave:
        call_ids.append("new_" + run.call_id)
    rcs = run.rc if isinstance(run.rc, tuple) else (run.rc,)
    if any(rc == 0 for rc in rcs):
        problems.append("sipp succeeded (rc %s): expected a refusal" % (run.rc,))
    for cid in call_ids:
        msgs = run.sniffer.sip_for(cid)
        finals = [m for m in msgs if m.is_response and m.status >= 200 and m.cseq_method == "INVITE"]
        if not finals:
            problems.append("%s: no final response to the INVITE on the wire" % cid)
            continue
        f = finals[0]
        warn = f.headers.get("warning", "")
        details.append("%d %s" % (f.status, warn))
        if f.status != 488:
            problems.append("%s: answered %d, expected 488" % (cid, f.status))
        if sc.warning.lower() not in warn.lower():
            problems.append("%s: Warning %r lacks %r" % (cid, warn, sc.warning))
        if any(m.get("sip_call_id") == cid for _, m in manifests):
            problems.append("%s: a recording was made" % cid)
    # sipp's own error trace names the unexpected 488 too.
    errs = ""
    for tag in ("", "slave"):
        p = os.path.join(run.dir, "sipp%s_errors.log" % tag)
        if os.path.exists(p):
            errs += open(p, errors="replace").read()
    if "488" not in errs:
        problems.append("sipp error log does not mention the 488")
    return problems, "sipp rc %s; %s; no recording" % (run.rc, " | ".join(details))


def stream_packets(run, ans, t_end):
    """{m-line index: [RtpPacket]} sent to the recorder's answered ports before t_end."""
    t0 = ans[0][0] - 0.5
    out = {}
    for k in range(max(len(a[1]) for a in ans)):
        ports = {a[1][k][0] for a in ans if k < len(a[1]) and a[1][k][0]}
        pk = []
        for p in ports:
            pk.extend(run.sniffer.packets_to(p, t0, t_end))
        pk.sort(key=lambda p: p.t)
        out[k] = pk
    return out


def stream_start(pk, clock=8000):
    """Wall-clock time of a stream's first sample: min over its first 2 s of (arrival - RTP
    time since the first packet), i.e. the first packet's time without its queueing delay. The
    first packets of a sender often leave late and in a burst; the recorder places audio the
    same way (docs/formats/manifest.md, the timeline)."""
    first = pk[0]
    best = first.t
    for p in pk:
        if p.t > first.t + 2:
            break
        dts = (p.ts - first.ts) & 0xFFFFFFFF
        if dts < 0x80000000:
            best = min(best, p.t - dts / clock)
    return best


def dump_wire(run, ans, bye, per_stream):
    """wire.json in the run dir: what the sniffer saw of this call (for diagnosis)."""
    out = {"call_id": run.call_id, "bye": bye,
           "sip": [[m.t, m.start, m.headers.get("cseq", "")] for m in run.sniffer.sip_for(run.call_id)],
           "answers": ans, "offers": run.sniffer.offers(run.call_id), "streams": {}}
    for k, pk in per_stream.items():
        out["streams"][k] = {
            "packets": len(pk), "ports": sorted({p.dst_port for p in pk}),
            "first": pk[0].t if pk else None, "last": pk[-1].t if pk else None,
            "pts": sorted({p.pt for p in pk}), "ssrcs": sorted({"%08x" % p.ssrc for p in pk}),
            "gaps": [[a.t, b.t - a.t] for a, b in zip(pk, pk[1:]) if b.t - a.t > 0.2]}
    with open(os.path.join(run.dir, "wire.json"), "w") as f:
        json.dump(out, f, indent=1)


def load_audio(m, sc, server, problems):
    """(rate, [left, right], file ms) of a manifest's audio after checking the state, the file's
    SHA-256, size and length against the manifest; None when the file is missing."""
    if m.get("state") != sc.state:
        problems.append("state %s (end_reason %s), expected %s" %
                        (m.get("state"), m.get("end_reason"), sc.state))
    audio = m.get("audio", {})
    wav_path = os.path.join(server.data, "recordings", audio.get("file", "?"))
    if not os.path.exists(wav_path):
        problems.append("audio file %s missing" % audio.get("file"))
        return None
    raw = open(wav_path, "rb").read()
    if hashlib.sha256(raw).hexdigest() != audio.get("sha256"):
        problems.append("sha256 of %s does not match the manifest" % audio.get("file"))
    if len(raw) != audio.get("bytes"):
        problems.append("size %d != manifest bytes %s" % (len(raw), audio.get("bytes")))
    rate, left, right = media_check.read_wav(wav_path)
    file_ms = len(left) * 1000.0 / rate
    if abs(file_ms - audio.get("duration_ms", -1)) > 1:
        problems.append("file is %.0f ms, manifest says %s" % (file_ms, audio.get("duration_ms")))
    return rate, [left, right], file_ms


def check_participants(m, sc, problems):
    """Each expected (aor, channel) is a participant of the manifest on that channel."""
    got = [(p.get("aor"), p.get("channel")) for p in m.get("participants", [])]
    for aor, channel in sc.participants:
        if (aor, channel) not in got:
            problems.append("participant %s on channel %s expected; manifest lists %s" %
                            (aor, channel, got))


def check_bib(run, server, manifests):
    """CUCM BiB: the slave's leg (near end) and the master's (far end) are one recording, near
    end on channel 0 with the slave's 2 kHz, far end on channel 1 with the master's 1 kHz."""
    sc = run.sc
    problems, facts = [], []
    rcs = run.rc if isinstance(run.rc, tuple) else (run.rc,)
    if any(rc != 0 for rc in rcs):
        problems.append("sipp exit codes %s" % (run.rc,))
    legs = [("new_" + run.call_id, 0, OWN_TONE, "near end"), (run.call_id, 1, SIPP_TONE, "far end")]
    mine = [m for _, m in manifests if m.get("sip_call_id") in (legs[0][0], legs[1][0])]
    if len(mine) != 1:
        problems.append("%d recordings for the two legs (expected exactly 1)" % len(mine))
        return problems, "sipp rc %s" % (run.rc,)
    m = mine[0]
    loaded = load_audio(m, sc, server, problems)
    if loaded is None:
        return problems, "state %s" % m.get("state")
    rate, chans, file_ms = loaded
    check_participants(m, sc, problems)
    for w in m.get("warnings", []):
        if "BiB" in w:
            problems.append("warning: %s" % w)
    streams = {s.get("index"): s for s in m.get("streams", [])}
    started = parse_time(m["audio"]["started"])
    for cid, k, hz, name in legs:
        ans = run.sniffer.answers(cid)  # our 200 carries the offer: its port is the leg's
        if not ans or not ans[0][1]:
            problems.append("%s: no 200 OK with our SDP offer on the wire" % name)
            continue
        t_end = run.sniffer.media_end_time(cid) or time.time()
        pk = run.sniffer.packets_to(ans[0][1][0][0], ans[0][0] - 0.5, t_end)
        st = streams.get(k)
        if not pk or st is None:
            problems.append("%s: %d RTP packets sent, stream s%d %s" %
                            (name, len(pk), k, "missing" if st is None else "present"))
            continue
        if st.get("packets", 0) < len(pk) * 0.98:
            problems.append("%s: manifest counts %d packets, %d were sent" %
                            (name, st.get("packets", 0), len(pk)))
        if st.get("channel") != k:
            problems.append("%s: stream s%d on channel %s, expected %d" %
                            (name, k, st.get("channel"), k))
            continue
        span = media_check.active_span(chans[k], rate, threshold=100)
        if span is None:
            problems.append("%s: channel %d is silent" % (name, k))
            continue
        ok, ttext = media_check.tone_report(chans[k], rate, span, hz)
        if not ok:
            problems.append("%s: channel %d: %s" % (name, k, ttext))
        want = (pk[-1].t + PTIME - stream_start(pk)) * 1000
        got = (span[1] - span[0]) * 1000.0 / rate
        if abs(got - want) > 0.01 * want + PTIME * 1000:
            problems.append("%s: tone lasts %.0f ms on channel %d, %.0f ms were sent" %
                            (name, got, k, want))
        lead = (stream_start(pk) - started) * 1000 - span[0] * 1000.0 / rate
        if abs(lead) > 40:
            problems.append("%s: its audio starts %.0f ms off its first packet" % (name, lead))
        facts.append("ch%d=%s %s" % (k, name, ttext))
    facts.insert(0, "%s %.2fs, one recording" % (m.get("state"), file_ms / 1000))
    return problems, "; ".join(facts)


def check_siprec(run, server, manifests):
    sc = run.sc
    problems = []
    facts = []
    # sipp outcome.
    if sc.sipp_ok and run.rc != 0:
        problems.append("sipp exit code %s" % (run.rc,))
    if not sc.sipp_ok and run.rc == 0:
        problems.append("sipp succeeded, expected it to fail (%s)" % sc.note)
    mine = [(p, m) for p, m in manifests if m.get("sip_call_id") == run.call_id]
    if len(mine) != 1:
        problems.append("%d recordings for Call-ID %s (expected exactly 1)" %
                        (len(mine), run.call_id))
        return problems, "sipp rc %s" % (run.rc,)
    path, m = mine[0]
    loaded = load_audio(m, sc, server, problems)
    if loaded is None:
        return problems, "state %s" % m.get("state")
    audio = m.get("audio", {})
    rate, chans, file_ms = loaded
    check_participants(m, sc, problems)

    # What went over the wire.
    ans = run.sniffer.answers(run.call_id)
    bye = run.sniffer.media_end_time(run.call_id) or time.time()
    if not ans:
        problems.append("no 200 OK with SDP seen on the wire")
        return problems, "state %s" % m.get("state")
    per_stream = stream_packets(run, ans, bye)
    sent = {k: v for k, v in per_stream.items() if v}
    dump_wire(run, ans, bye, per_stream)
    if not sent:
        problems.append("no RTP went to the recorder")
        return problems, "state %s" % m.get("state")
    first_t = min(stream_start(v) for v in sent.values())
    last_t = max(v[-1].t for v in sent.values())
    sent_ms = (last_t + PTIME - first_t) * 1000
    started = parse_time(audio["started"])
    lead_ms = (first_t - started) * 1000
    rec_ms = file_ms - lead_ms
    tol = 0.01 * sent_ms + 2
    dur_ok = abs(rec_ms - sent_ms) <= tol
    if not dur_ok:
        problems.append("duration %.0f ms (file %.0f - lead-in %.0f) vs %.0f ms of RTP sent: "
                        "off by %.1f %%" % (rec_ms, file_ms, lead_ms, sent_ms,
                                            100 * (rec_ms - sent_ms) / sent_ms))
    if run.pcap:
        # Cross-check of the capture: sipp plays the pcap until it ends or the call does.
        pcap_ms = run.pcap["duration_s"] * 1000 + PTIME * 1000
        if (bye - first_t) * 1000 > pcap_ms + 200:
            if abs(sent_ms - pcap_ms) > 0.01 * pcap_ms:
                problems.append("the wire shows %.0f ms of RTP, the pcap lasts %.0f ms" %
                                (sent_ms, pcap_ms))
        elif sent_ms > pcap_ms * 1.01:
            problems.append("the wire shows %.0f ms of RTP, more than the pcap's %.0f ms" %
                            (sent_ms, pcap_ms))
    facts.append("%s %.2fs (sent %.2fs, %+.2f%%)" % (m.get("state"), rec_ms / 1000,
                                                    sent_ms / 1000,
                                                    100 * (rec_ms - sent_ms) / sent_ms))

    # Streams → channels, and what each channel must carry.
    tones = {0: sc.s0_tone}
    if sc.second_stream:
        tones[1] = OWN_TONE
    for mline, hz in sc.own_streams:
        tones[mline] = hz
    mstreams = {s.get("index"): s for s in m.get("streams", [])}
    on_channel = {0: [], 1: []}
    muted_channels = set()
    for k, pk in sent.items():
        st = mstreams.get(k)
        if st is None:
            problems.append("m-line %d received %d RTP packets but has no stream in the "
                            "manifest" % (k, len(pk)))
            continue
        if st.get("packets", 0) < len(pk) * 0.98:
            problems.append("stream %s: manifest counts %d packets, %d were sent" %
                            (st.get("id"), st.get("packets", 0), len(pk)))
        if st.get("channel") is None:
            problems.append("stream %s received RTP but is not in the file" % st.get("id"))
            continue
        # What arrives while a stream is paused (a=inactive) is recorded as silence (the SRC
        # asked not to record; sipp keeps streaming through the drachtio re-INVITE).
        pauses = [(started + q["at_ms"] / 1000.0, started + (q["at_ms"] + q["duration_ms"]) / 1000.0)
                  for q in st.get("paused", [])]
        live = [q for q in pk if not any(a <= q.t < b for a, b in pauses)]
        chans_of_stream = [0, 1] if st.get("mixed") else [st["channel"]]
        for q in st.get("paused", []):
            a = int(q["at_ms"] * rate / 1000)
            b = int((q["at_ms"] + q["duration_ms"]) * rate / 1000)
            for c in chans_of_stream:
                if b - a > rate // 10 and media_check.rms(chans[c], a + rate // 50, b) > 30:
                    problems.append("stream %s paused at %.1fs for %.1fs but channel %d is not "
                                    "silent then" % (st.get("id"), q["at_ms"] / 1000,
                                                     q["duration_ms"] / 1000, c))
        if len(live) < max(5, 0.05 * len(pk)):
            muted_channels.update(chans_of_stream)
            continue  # (almost) all of it during a pause: no energy expected from it
        for c in chans_of_stream:
            on_channel[c].append((k, tones.get(k), pk))
    ch_facts = []
    for c in (0, 1):
        x = chans[c]
        if not on_channel[c]:
            level = media_check.rms(x)
            if level > 30 and c not in muted_channels:
                problems.append("channel %d: no stream mapped to it but RMS %.0f" % (c, level))
            ch_facts.append("ch%d silent" % c)
            continue
        names = "+".join("s%d" % k for k, _, _ in on_channel[c])
        ctones = {t for _, t, _ in on_channel[c]}
        mixed_on_purpose = {k for k, _, _ in on_channel[c]} <= sc.same_channel
        span = media_check.active_span(x, rate, threshold=100)
        if span is None:
            problems.append("channel %d (%s): no energy although RTP was received" % (c, names))
            ch_facts.append("ch%d=%s SILENT" % (c, names))
            continue
        level = media_check.rms(x, span[0], span[1])
        text = "ch%d=%s rms %.0f" % (c, names, level)
        if len(ctones) > 1 and not mixed_on_purpose:
            problems.append("channel %d carries streams with different tones (%s: %s)" %
                            (c, names, sorted(str(t) for t in ctones)))
        elif None not in ctones:
            hz = min(ctones)
            ok, ttext = media_check.tone_report(x, rate, span, hz, also=ctones - {hz})
            text += " " + ttext
            if not ok:
                problems.append("channel %d: %s" % (c, ttext))
            # The tone spans what was sent on its stream(s).
            pk = sorted((p for _, _, pl in on_channel[c] for p in pl), key=lambda p: p.t)
            begin = min(stream_start(pl) for _, _, pl in on_channel[c])
            want = (pk[-1].t + PTIME - begin) * 1000
            got = (span[1] - span[0]) * 1000.0 / rate
            if abs(got - want) > 0.01 * want + PTIME * 1000:
                problems.append("channel %d: tone lasts %.0f ms, %.0f ms were sent" %
                                (c, got, want))
        ch_facts.append(text)
    facts.append("; ".join(ch_facts))

    # Metadata snapshots, pauses, DTMF.
    want_md = metadata_bodies(run.xml_text)
    got_md = m.get("metadata", [])
    if len(got_md) != want_md:
        problems.append("%d metadata snapshots (%s), %d bodies sent" % (
            len(got_md), ",".join(s.get("source", "?") for s in got_md), want_md))
    facts.append("metadata %d" % len(got_md))
    offers = run.sniffer.offers(run.call_id)
    for k in mstreams:
        inactive = [o for o in offers if k < len(o[2]) and o[2][k][1] == "inactive"]
        paused = mstreams[k].get("paused", [])
        if inactive and not paused:
            problems.append("stream s%d was offered a=inactive but lists no pause" % k)
        if not inactive and paused and per_stream.get(k):
            problems.append("stream s%d was never offered a=inactive and received %d RTP "
                            "packets, but lists pauses %s" % (k, len(per_stream[k]), paused))
        if paused:
            facts.append("s%d paused %s" % (k, ",".join("%.1fs@%.1fs" % (
                p["duration_ms"] / 1000, p["at_ms"] / 1000) for p in paused)))
    if sc.dtmf is not None:
        digits = "".join(e.get("digit", "?") for s in m.get("streams", [])
                         for e in s.get("dtmf", []))
        if digits != sc.dtmf:
            problems.append("DTMF %r, expected %r" % (digits, sc.dtmf))
        facts.append("dtmf %s" % digits)
    for s in m.get("streams", []):
        if s.get("unknown_payload"):
            problems.append("stream %s: %d packets with a payload type outside its map" %
                            (s.get("id"), s["unknown_payload"]))
    return problems, "; ".join(facts)


def server_lines(text, sip_call_id):
    """The server log lines of one call: those naming its Call-ID or its recorder call id(s)."""
    ids = {sip_call_id, "new_" + sip_call_id}
    ids |= set(re.findall(r"call=(\S+) sip_call=(?:new_)?%s\b" % re.escape(sip_call_id), text))
    return [line for line in text.splitlines()
            if any(("=" + i + " ") in line + " " or ("=" + i + "\n") in line for i in ids)]


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the callvault binary")
    ap.add_argument("--samples", default=DEFAULT_SAMPLES)
    ap.add_argument("--only", action="append", default=[], help="run scenarios containing this")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--skip-code", type=int, default=0, help="exit code when skipped")
    args = ap.parse_args()

    if not os.path.isdir(args.samples):
        print("SKIPPED: no samples folder at %s" % args.samples)
        return args.skip_code
    for tool in ("sipp", "sox"):
        if shutil.which(tool) is None:
            print("SKIPPED: %s not installed (scripts/install-deps.sh)" % tool)
            return args.skip_code
    if os.geteuid() != 0:
        print("SKIPPED: needs root (packet capture on lo, sipp's play_pcap_audio)")
        return args.skip_code

    scenarios = [s for s in SCENARIOS if not args.only or any(o in s.xml for o in args.only)]
    missing = [s.xml for s in scenarios if not os.path.exists(os.path.join(args.samples, s.xml))]
    listed = {s.xml for s in SCENARIOS} | {s.slave for s in SCENARIOS if s.slave}
    unlisted = sorted(f for f in os.listdir(args.samples)
                      if f.endswith(".xml") and f not in listed)

    work = tempfile.mkdtemp(prefix="cv-scenario-")
    audio_file = os.path.join(work, "tone-1000hz.alaw")
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-e", "a-law", "-t", "raw", audio_file,
                    "synth", str(TONE_SECONDS), "sine", str(SIPP_TONE), "vol", "0.5"], check=True)
    audio_file_2k = os.path.join(work, "tone-2000hz.alaw")
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-e", "a-law", "-t", "raw", audio_file_2k,
                    "synth", str(TONE_SECONDS), "sine", str(OWN_TONE), "vol", "0.5"], check=True)
    log("work dir:", work)
    rtp_lo = free_block(RTP_WIDTH, 27000, 32700, RTP_WIDTH)
    rtp_hi = rtp_lo + RTP_WIDTH - 1
    server = Server(args.bin, work, rtp_lo, rtp_hi)
    try:
        return run_all(args, scenarios, missing, unlisted, work, (audio_file, audio_file_2k),
                       server, rtp_lo, rtp_hi)
    finally:
        server.stop()


def run_all(args, scenarios, missing, unlisted, work, audio_files, server, rtp_lo, rtp_hi):
    sniffer = wire.Sniffer(server.udp_port, rtp_lo, rtp_hi)
    sniffer.start()
    log("callvault serve on udp:127.0.0.1:%d, RTP %d-%d, rtp_timeout_s %d" %
        (server.udp_port, rtp_lo, rtp_hi, RTP_TIMEOUT_S))

    runs = []
    for i, sc in enumerate(scenarios):
        if sc.xml in missing:
            continue
        r = Run(sc, i, args.samples, work, server, sniffer, *audio_files)
        r.prepare()
        runs.append(r)
    # The adaptations are printed after the verdicts: CI shows the head of a failing test's
    # output, and that is where a FAIL must be.
    adaptations = ["adapt %s: %s" % (r.sc.name, text) for r in runs for _, text in r.adaptations]

    # All scenarios at once (staggered), each with its own sipp ports.
    threads = []
    t_start = time.time()
    for r in runs:
        t = threading.Thread(target=r.run)
        t.start()
        threads.append(t)
        time.sleep(0.3)
    for t in threads:
        t.join(timeout=240)
    # Recordings are finalized right after the call ends: wait for them to appear.
    want = sum(1 for r in runs if r.sc.kind in ("siprec", "bib"))
    deadline = time.time() + 20
    while time.time() < deadline:
        manifests = server.manifests()
        if len(manifests) >= want:
            break
        time.sleep(0.2)
    time.sleep(0.5)
    manifests = server.manifests()
    sniffer.stop()
    capture_drops = sniffer.drops
    rc_server = server.stop()
    server_log = server.log_text()
    log("all scenarios ran in %.0f s" % (time.time() - t_start))

    passed = failed = 0
    verdicts = []  # (ok, lines) per scenario; failures are printed first
    for r in runs:
        try:
            if r.sc.kind == "refused":
                problems, facts = check_refused(r, server, manifests)
            elif r.sc.kind == "bib":
                problems, facts = check_bib(r, server, manifests)
            else:
                problems, facts = check_siprec(r, server, manifests)
        except Exception as e:  # a check that crashes is a failure of that scenario
            problems, facts = ["check crashed: %r" % e], ""
        ok = not problems
        passed += ok
        failed += not ok
        adapt = ", ".join(short for short, _ in r.adaptations if short) or "as is"
        lines = ["%s %s [%s] %.1fs sipp rc=%s | %s" % ("PASS" if ok else "FAIL", r.sc.name, adapt,
                                                     r.elapsed, r.rc, facts)]
        lines += ["       - " + p for p in problems]
        if problems and r.call_id:
            lines += ["       | " + line for line in server_lines(server_log, r.call_id)[:12]]
        verdicts.append((ok, lines))
    general = []  # failures not of one scenario
    if capture_drops:
        general.append("FAIL the packet capture on lo dropped %d datagrams: the wire-based "
                       "expectations below are not reliable" % capture_drops)
    known = {r.call_id for r in runs if r.call_id}
    known |= {"new_" + c for c in known}
    stray = [m.get("sip_call_id") for _, m in manifests if m.get("sip_call_id") not in known]
    if stray:
        general.append("FAIL recordings not attributable to a scenario: %s" % stray)
    general += ["FAIL %s: listed here but not in %s" % (xml, args.samples) for xml in missing]
    general += ["FAIL %s: sipp scenario in the samples that this test does not know" % xml
                for xml in unlisted]
    if rc_server != 0:
        general.append("FAIL callvault serve exited with %s on SIGTERM" % rc_server)
    failed += len(general)
    for line in general:
        log(line)
    for _, lines in sorted(verdicts, key=lambda v: v[0]):  # stable: FAILs first, then PASSes
        for line in lines:
            log(line)
    for line in adaptations:
        log(line)
    log("%d passed, %d failed" % (passed, failed))
    if failed or args.keep:
        log("work dir kept: %s (server.log, per-scenario sipp logs, recordings)" % work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
