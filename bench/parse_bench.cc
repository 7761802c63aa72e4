// Parse cost of a 1 KB SIPREC INVITE (sip::Parse), with two baselines measured in the same
// run: a memchr scan for line ends over the same bytes (the least any parser must touch) and
// a copy of the bytes into a std::string (what the transport already does per message).
// Usage: build/release/bench/parse_bench [--benchmark_repetitions=5]
// Results: docs/performance.md.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

#include "sip/message.h"

namespace {

std::string SiprecInvite() {
  std::string sdp =
      "v=0\r\no=SRC 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
      "m=audio 40000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=label:1\r\n"
      "a=sendonly\r\nm=audio 40002 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
      "a=label:2\r\na=sendonly\r\n";
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<recording "
      "xmlns=\"urn:ietf:params:xml:ns:recording:1\"><datamode>complete</datamode>"
      "<session session_id=\"aGVsbG8=\"><sipSessionID>abc</sipSessionID></session>"
      "<participant participant_id=\"cDE=\"><nameID aor=\"sip:alice@example.com\"/>"
      "</participant><stream stream_id=\"czE=\" session_id=\"aGVsbG8=\"><label>1</label>"
      "</stream></recording>\r\n";
  std::string body = "--b1\r\nContent-Type: application/sdp\r\n\r\n" + sdp +
                     "--b1\r\nContent-Type: application/rs-metadata+xml\r\n"
                     "Content-Disposition: recording-session\r\n\r\n" +
                     xml + "--b1--\r\n";
  std::string head =
      "INVITE sip:srs@192.0.2.20:5060 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-1---7d2a5b;rport\r\n"
      "Max-Forwards: 70\r\n"
      "From: <sip:src@192.0.2.10>;tag=3a1f9c\r\n"
      "To: <sip:srs@192.0.2.20>\r\n"
      "Call-ID: 9f2c1e7a-4b1d-4c3a-9e0f-1a2b3c4d5e6f\r\n"
      "CSeq: 1 INVITE\r\n"
      "Contact: <sip:src@192.0.2.10:5060>;+sip.src\r\n"
      "Require: siprec\r\nSupported: timer, siprec\r\nSession-Expires: 1800\r\n"
      "Content-Type: multipart/mixed;boundary=b1\r\n";
  return head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

const std::string& Message1K() {
  static const std::string m = SiprecInvite();
  return m;
}

void BM_Baseline_LineScan(benchmark::State& state) {
  const std::string& m = Message1K();
  for (auto _ : state) {
    size_t lines = 0;
    const char* p = m.data();
    const char* end = p + m.size();
    while ((p = static_cast<const char*>(memchr(p, '\n', end - p))) != nullptr) {
      ++lines;
      ++p;
    }
    benchmark::DoNotOptimize(lines);
  }
  state.SetBytesProcessed(state.iterations() * m.size());
}
BENCHMARK(BM_Baseline_LineScan);

void BM_Baseline_Copy(benchmark::State& state) {
  const std::string& m = Message1K();
  for (auto _ : state) {
    std::string copy(m);
    benchmark::DoNotOptimize(copy.data());
  }
}
BENCHMARK(BM_Baseline_Copy);

void BM_Parse_SiprecInvite1K(benchmark::State& state) {
  const std::string& m = Message1K();
  state.counters["message_bytes"] = static_cast<double>(m.size());
  for (auto _ : state) {
    callvault::sip::ParseResult r = callvault::sip::Parse(m);
    if (!r.status.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(r.message.headers.data());
  }
}
BENCHMARK(BM_Parse_SiprecInvite1K);

void BM_FrameStream_SiprecInvite1K(benchmark::State& state) {
  const std::string& m = Message1K();
  for (auto _ : state) {
    callvault::sip::Frame f = callvault::sip::FrameStream(m);
    benchmark::DoNotOptimize(f.length);
  }
}
BENCHMARK(BM_FrameStream_SiprecInvite1K);

}  // namespace

BENCHMARK_MAIN();
