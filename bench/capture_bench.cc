// capture_bench: the CPU cost of passive capture's packet layer, without libpcap or a NIC:
//   1. decode + dispatch of RTP-sized UDP over Ethernet (172-byte payload: 12-byte RTP header +
//      20 ms of G.711), spread over 2,000 streams: ns per packet, and the bare decode beside it;
//   2. TCP reassembly + SIP framing of ~1.2 KB INVITEs cut into 1,460-byte segments over 200
//      connections, in order and with 10 % of adjacent segments swapped: MB/s and messages/s;
//   3. IPv4 reassembly of a 4 KB SIP INVITE sent in 3 fragments: µs per datagram.
//
//   capture_bench [--packets 5000000]
//
// Results: docs/performance.md (passive capture).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "capture/dispatcher.h"
#include "capture/ip_decode.h"
#include "capture/link_layer.h"
#include "capture/packet_decoder.h"
#include "capture/testing/frame_builder.h"

namespace {

using namespace callvault::capture;
using callvault::capture::testing::Bytes;
using callvault::capture::testing::Ep;

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct CountSink : PacketSink {
  uint64_t sip = 0, udp = 0, bytes = 0;
  void OnSipMessage(const SipDatagram& m) override {
    ++sip;
    bytes += m.bytes.size();
  }
  void OnUdpPacket(const UdpPacket& p) override {
    ++udp;
    bytes += p.payload.size();
  }
};

std::string Invite(int n) {
  std::string body =
      "v=0\r\no=SRC 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
      "m=audio 40000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=label:1\r\n"
      "a=sendonly\r\nm=audio 40002 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
      "a=label:2\r\na=sendonly\r\n" +
      std::string(600, 'm') + "\r\n";
  return "INVITE sip:srs@192.0.2.20:5060 SIP/2.0\r\n"
         "Via: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK-" +
         std::to_string(n) +
         "\r\n"
         "From: <sip:src@192.0.2.10>;tag=3a1f9c\r\nTo: <sip:srs@192.0.2.20>\r\n"
         "Call-ID: bench-" +
         std::to_string(n) +
         "\r\nCSeq: 1 INVITE\r\n"
         "Content-Type: application/sdp\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

void UdpFigures(long packets) {
  constexpr int kStreams = 2000;
  std::vector<Bytes> frames;
  for (int i = 0; i < kStreams; ++i) {
    std::string rtp(172, '\xd5');
    rtp[0] = '\x80';
    rtp[1] = '\x08';
    frames.push_back(testing::Ethernet(
        testing::IpUdp(Ep("10.0.0.1", static_cast<uint16_t>(20000 + 2 * i)),
                       Ep("10.0.0.2", static_cast<uint16_t>(40000 + 2 * i)), rtp)));
  }
  CountSink sink;
  Dispatcher d(DispatcherOptions{}, &sink);
  int64_t ts = 1'700'000'000'000'000'000;
  auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < packets; ++i) {
    ts += 10'000;  // 100,000 packets per second of capture time
    d.OnFrame(kDltEthernet, ts, frames[static_cast<size_t>(i % kStreams)]);
  }
  const double dispatch_s = Seconds(t0);
  PacketDecoder decoder;
  uint64_t sum = 0;
  t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < packets; ++i) {
    DecodedPacket p;
    if (decoder.Decode(kDltEthernet, ts, frames[static_cast<size_t>(i % kStreams)], &p) ==
        DecodeOutcome::kPacket) {
      sum += p.payload.size();
    }
  }
  const double decode_s = Seconds(t0);
  std::printf("udp rtp (172 B payload, Ethernet, %d streams, %ld packets):\n", kStreams, packets);
  std::printf("  decode + dispatch: %.1f ns/packet (%.2f Mpps on one core), delivered %llu\n",
              dispatch_s * 1e9 / static_cast<double>(packets),
              static_cast<double>(packets) / dispatch_s / 1e6,
              static_cast<unsigned long long>(sink.udp));
  std::printf("  decode only:       %.1f ns/packet (checksum %llu)\n",
              decode_s * 1e9 / static_cast<double>(packets), static_cast<unsigned long long>(sum));
}

void TcpFigures(bool reorder) {
  constexpr int kConnections = 200;
  constexpr int kMessagesPerConnection = 500;
  constexpr size_t kMss = 1460;
  std::vector<Bytes> frames;
  size_t stream_bytes = 0;
  for (int c = 0; c < kConnections; ++c) {
    const Endpoint a = Ep("10.0.1.1", static_cast<uint16_t>(30000 + c)), b = Ep("10.0.1.2", 5060);
    std::string stream;
    for (int m = 0; m < kMessagesPerConnection; ++m) stream += Invite(c * 1000 + m);
    stream_bytes += stream.size();
    std::vector<Bytes> segs;
    segs.push_back(testing::Ethernet(testing::IpTcp(a, b, 0, kTcpSyn, "")));
    for (size_t off = 0; off < stream.size(); off += kMss) {
      segs.push_back(
          testing::Ethernet(testing::IpTcp(a, b, 1 + static_cast<uint32_t>(off), kTcpAck | kTcpPsh,
                                           std::string_view(stream).substr(off, kMss))));
    }
    if (reorder) {
      for (size_t i = 2; i + 1 < segs.size(); i += 10) std::swap(segs[i], segs[i + 1]);
    }
    frames.insert(frames.end(), segs.begin(), segs.end());
  }
  CountSink sink;
  Dispatcher d(DispatcherOptions{}, &sink);
  int64_t ts = 1'700'000'000'000'000'000;
  auto t0 = std::chrono::steady_clock::now();
  for (const Bytes& f : frames) {
    ts += 10'000;
    d.OnFrame(kDltEthernet, ts, f);
  }
  const double s = Seconds(t0);
  std::printf("tcp sip (%s, %d connections, %zu segments, %.1f MB):\n",
              reorder ? "10% of segments swapped" : "in order", kConnections, frames.size(),
              static_cast<double>(stream_bytes) / 1e6);
  std::printf(
      "  %.0f MB/s, %.0f messages/s, %.0f ns/segment, messages %llu (expected %d), "
      "gaps %llu\n",
      static_cast<double>(stream_bytes) / s / 1e6, static_cast<double>(sink.sip) / s,
      s * 1e9 / static_cast<double>(frames.size()), static_cast<unsigned long long>(sink.sip),
      kConnections * kMessagesPerConnection,
      static_cast<unsigned long long>(d.tcp().counters().gaps.Get()));
}

void FragmentFigures() {
  constexpr int kDatagrams = 100000;
  const Endpoint a = Ep("10.0.2.1", 5060), b = Ep("10.0.2.2", 5060);
  std::string big = Invite(1) + std::string(2600, 'x');
  std::vector<std::vector<Bytes>> sets;
  for (int i = 0; i < 64; ++i) {
    std::vector<Bytes> fr;
    for (const Bytes& f :
         testing::Ipv4Fragments(a.ip, b.ip, kIpProtoUdp, testing::Udp(5060, 5060, big),
                                static_cast<uint16_t>(i), 1480)) {
      fr.push_back(testing::Ethernet(f));
    }
    sets.push_back(std::move(fr));
  }
  CountSink sink;
  Dispatcher d(DispatcherOptions{}, &sink);
  int64_t ts = 1'700'000'000'000'000'000;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kDatagrams; ++i) {
    for (const Bytes& f : sets[static_cast<size_t>(i % 64)]) d.OnFrame(kDltEthernet, ts += 1000, f);
  }
  const double s = Seconds(t0);
  std::printf(
      "ipv4 reassembly (%zu B SIP INVITE in %zu fragments): %.2f us/datagram, %llu "
      "messages\n",
      big.size(), sets[0].size(), s * 1e6 / kDatagrams, static_cast<unsigned long long>(sink.sip));
}

}  // namespace

int main(int argc, char** argv) {
  long packets = 5'000'000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--packets") == 0) packets = std::atol(argv[i + 1]);
  }
  UdpFigures(packets);
  TcpFigures(false);
  TcpFigures(true);
  FragmentFigures();
  return 0;
}
