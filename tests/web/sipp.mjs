// SIPREC calls for the browser tests: sipp (Debian's sip-tester) is the SRC — one sipp process
// per call, its scenario written here from a template so that each call carries its own From
// display name, participants (RFC 7865 metadata) and extra headers — and streams a 1 kHz A-law
// tone on the first m-line (rtp_stream); this module streams the second m-line itself (a 2 kHz
// tone, or digital silence for the "silent channel" call) to the port of the recorder's answer,
// which sipp logs. Only 127.0.0.1.
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { HOST, freeUdpRange, sleep, startGroup, stopGroup, waitFor } from './harness.mjs';

// --- G.711 A-law (ITU-T G.711, Sun reference implementation) -------------------------------
function search(v, table) {
  for (let i = 0; i < table.length; i++) if (v <= table[i]) return i;
  return table.length;
}
const SEG_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

export function linearToAlaw(sample) {
  let pcm = Math.max(-32768, Math.min(32767, Math.round(sample))) >> 3;
  let mask;
  if (pcm >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  const seg = search(pcm, SEG_END);
  if (seg >= 8) return 0x7f ^ mask;
  let aval = seg << 4;
  aval |= ((seg < 2) ? (pcm >> 1) : (pcm >> seg)) & 0xf;
  return aval ^ mask;
}

// `seconds` of a sine (or of silence when hz is 0) as raw A-law at 8 kHz.
export function alawTone(hz, seconds, amplitude = 8000) {
  const n = Math.round(seconds * 8000);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    out[i] = linearToAlaw(hz ? amplitude * Math.sin(2 * Math.PI * hz * i / 8000) : 0);
  }
  return out;
}

// --- RTP ------------------------------------------------------------------------------------
// Streams A-law (PT 8, 20 ms packets) from `audio` (looped) to 127.0.0.1:port until stop().
export class RtpSender {
  constructor(port, audio) {
    this.port = port;
    this.audio = audio;
    this.sock = dgram.createSocket('udp4');
    this.seq = Math.floor(Math.random() * 65536);
    this.ts = Math.floor(Math.random() * 2 ** 31);
    this.ssrc = Math.floor(Math.random() * 2 ** 31);
    this.sent = 0;
    this.stopped = false;
  }

  start(maxMs = 600000) {
    const t0 = performance.now();
    const tick = () => {
      if (this.stopped) return;
      const elapsed = performance.now() - t0;
      if (elapsed > maxMs) return this.stop();
      while (this.sent * 20 <= elapsed) this.sendOne();
      this.timer = setTimeout(tick, Math.max(1, (this.sent * 20) - (performance.now() - t0)));
    };
    this.sock.bind(0, HOST, tick);
    return this;
  }

  sendOne() {
    const payload = Buffer.alloc(160);
    const off = (this.sent * 160) % this.audio.length;
    for (let i = 0; i < 160; i++) payload[i] = this.audio[(off + i) % this.audio.length];
    const head = Buffer.alloc(12);
    head[0] = 0x80;
    head[1] = (this.sent === 0 ? 0x80 : 0) | 8;
    head.writeUInt16BE(this.seq & 0xffff, 2);
    head.writeUInt32BE(this.ts >>> 0, 4);
    head.writeUInt32BE(this.ssrc >>> 0, 8);
    this.sock.send(Buffer.concat([head, payload]), this.port, HOST);
    this.seq += 1;
    this.ts = (this.ts + 160) >>> 0;
    this.sent += 1;
  }

  stop() {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    try { this.sock.close(); } catch { /* closed */ }
  }
}

// --- the scenario ---------------------------------------------------------------------------
const xmlText = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  .replace(/"/g, '&quot;');
const sipQuoted = (s) => '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';

function checkSafe(what, s) {
  // sipp reads [..] as keywords, and the scenario is CDATA.
  if (/[[\]\r\n]/.test(s) || s.includes(']]>')) throw new Error(`${what}: unsupported characters in ${JSON.stringify(s)}`);
}

// A SIPREC SRC scenario (RFC 7866): INVITE (SDP with two sendonly PCMA m-lines labelled 1 and 2 +
// metadata naming `participants`), 200 → ACK, the answer's two ports logged ("answered <Call-ID>
// <port1> <port2>"), rtp_stream of cv_tone.alaw on m-line 1, a pause (-d), "bye <Call-ID>"
// logged, BYE, its 200 logged ("ended <Call-ID>").
export function scenarioXml({ fromName, participants, headers = [] }) {
  if (fromName !== undefined) checkSafe('fromName', fromName);
  for (const p of participants) { checkSafe('participant name', p.name); checkSafe('participant aor', p.aor); }
  for (const h of headers) checkSafe('header', h);
  const from = (fromName !== undefined ? sipQuoted(fromName) + ' ' : '') +
    '<sip:src@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]';
  const parts = participants.map((p, i) =>
    `<participant participant_id="cA${i}[call_number]"><nameID aor="${xmlText(p.aor)}"><name>${xmlText(p.name)}</name></nameID></participant>`).join('\n');
  const assoc = participants.map((p, i) =>
    `<participantstreamassoc participant_id="cA${i}[call_number]"><send>czE${i}[call_number]</send><recv>czE${1 - i}[call_number]</recv></participantstreamassoc>`).join('\n');
  const extra = headers.map((h) => '      ' + h + '\n').join('');
  return `<?xml version="1.0" encoding="UTF-8" ?>
<!-- Written by tests/web/sipp.mjs: a SIPREC SRC, one call. -->
<scenario name="web_siprec_uac">
  <send retrans="500">
    <![CDATA[
      INVITE sip:srs@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: ${from}
      To: <sip:srs@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:src@[local_ip]:[local_port];transport=[transport]>;+sip.src
      Max-Forwards: 70
      Require: siprec
      User-Agent: sipp-web-test
${extra}      Content-Type: multipart/mixed;boundary=cvboundary
      Content-Length: [len]

      --cvboundary
      Content-Type: application/sdp

      v=0
      o=src 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
      a=label:1
      a=sendonly
      m=audio [media_port+2] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
      a=label:2
      a=sendonly
      --cvboundary
      Content-Type: application/rs-metadata+xml
      Content-Disposition: recording-session

      <?xml version="1.0" encoding="UTF-8"?>
      <recording xmlns="urn:ietf:params:xml:ns:recording:1">
      <datamode>complete</datamode>
      <session session_id="c2Vzc2lvbg[call_number]"><sipSessionID>[call_id]</sipSessionID></session>
${parts}
      <stream stream_id="czE0[call_number]" session_id="c2Vzc2lvbg[call_number]"><label>1</label></stream>
      <stream stream_id="czE1[call_number]" session_id="c2Vzc2lvbg[call_number]"><label>2</label></stream>
${assoc}
      </recording>
      --cvboundary--
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="200" rtd="true">
    <action>
      <ereg regexp="m=audio ([0-9]+).*m=audio ([0-9]+)" search_in="body" check_it="true" assign_to="sdp,port1,port2"/>
      <log message="answered [call_id] [$port1] [$port2]"/>
    </action>
  </recv>
  <Reference variables="sdp"/>
  <send>
    <![CDATA[
      ACK sip:srs@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: ${from}
      To: <sip:srs@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:src@[local_ip]:[local_port];transport=[transport]>;+sip.src
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <nop>
    <action>
      <exec rtp_stream="cv_tone.alaw,-1,8,PCMA/8000"/>
    </action>
  </nop>
  <pause/>
  <nop>
    <action>
      <log message="bye [call_id]"/>
    </action>
  </nop>
  <send retrans="500">
    <![CDATA[
      BYE sip:srs@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: ${from}
      To: <sip:srs@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:src@[local_ip]:[local_port];transport=[transport]>;+sip.src
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200">
    <action>
      <log message="ended [call_id]"/>
    </action>
  </recv>
</scenario>
`;
}

const TONE_1K = alawTone(1000, 10);
const TONE_2K = alawTone(2000, 10);
const SILENCE = alawTone(0, 1);

// One SIPREC call by sipp. opts: {tag, durationMs, fromName, participants, headers,
// leg2: 'tone' | 'silence' | 'none'}. Returns a handle: {dir, sipCallId, answered (promise →
// {at, ports}), bye (promise → {at}), done (promise → {rc, answeredAt, byeAt, endedAt})}.
// Every wait is bounded: sipp's own -timeout, and a hard kill 60 s after the call should end.
export async function sippCall(server, work, opts) {
  const { tag, durationMs, leg2 = 'tone' } = opts;
  const dir = path.join(work, `sipp-${tag}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'cv_tone.alaw'), TONE_1K);
  const xml = path.join(dir, 'scenario.xml');
  fs.writeFileSync(xml, scenarioXml(opts));
  const [mp] = await freeUdpRange(10);
  const logFile = path.join(dir, 'calls.log');
  const args = ['-sf', xml, '-m', '1', '-l', '1', '-r', '1', '-d', String(durationMs),
    '-i', HOST, '-p', '0', '-mi', HOST, '-mp', String(mp),
    '-cid_str', `cvweb-${tag}-%u-%p@%s`,
    '-trace_logs', '-log_file', logFile, '-trace_err', '-error_file', path.join(dir, 'errors.log'),
    '-trace_msg', '-message_file', path.join(dir, 'messages.log'),
    '-timeout', String(Math.ceil(durationMs / 1000) + 60), '-timeout_error', '-nostdin',
    `${HOST}:${server.sipPort}`];
  const proc = startGroup('sipp', args, { cwd: dir, logPath: path.join(dir, 'sipp.out') });
  const readLog = () => { try { return fs.readFileSync(logFile, 'utf8'); } catch { return ''; } };
  const handle = { dir, proc, tag };
  const hardMs = durationMs + 60000;
  const killer = setTimeout(() => stopGroup(proc, 1000), hardMs);
  let sender = null;
  handle.answered = (async () => {
    const m = await waitFor(() => /^answered (\S+) (\d+) (\d+)/m.exec(readLog()) ||
      (proc.exitCode !== null ? 'exit' : null), hardMs, 20);
    if (!m || m === 'exit') return null;
    const at = Date.now();
    handle.sipCallId = m[1];
    if (leg2 !== 'none') {
      sender = new RtpSender(Number(m[3]), leg2 === 'silence' ? SILENCE : TONE_2K).start(hardMs);
    }
    return { at, ports: [Number(m[2]), Number(m[3])], sipCallId: m[1] };
  })();
  handle.bye = (async () => {
    const m = await waitFor(() => /^bye (\S+)/m.test(readLog()) || proc.exitCode !== null, hardMs, 20);
    const at = Date.now();
    if (sender) sender.stop();
    return m && /^bye (\S+)/m.test(readLog()) ? { at } : null;
  })();
  handle.done = (async () => {
    const { code } = await proc.exited;
    clearTimeout(killer);
    await handle.answered;
    if (sender) sender.stop();
    const text = readLog();
    return { rc: code, answered: /^answered /m.test(text), ended: /^ended /m.test(text), log: text };
  })();
  return handle;
}

// Runs calls concurrently and waits for all; throws naming the ones that failed.
export async function sippCalls(server, work, list) {
  const handles = [];
  for (const c of list) {
    handles.push(await sippCall(server, work, c));
    await sleep(50);
  }
  const results = await Promise.all(handles.map((h) => h.done));
  const bad = results.map((r, i) => [r, handles[i]]).filter(([r]) => r.rc !== 0 || !r.answered || !r.ended);
  if (bad.length) {
    throw new Error('sipp calls failed: ' + bad.map(([r, h]) => `${h.tag}: rc=${r.rc} (see ${h.dir})`).join('; '));
  }
  return handles;
}
