// libFuzzer target for capture/'s packet decoding (packet_decoder.h, dispatcher.h): link layer
// (Ethernet + VLAN, SLL, SLL2, NULL/LOOP, raw), IPv4/IPv6 with extension headers, IPv4/IPv6
// fragment reassembly under tight bounds, UDP/TCP, SIP detection and TCP reassembly behind it.
// Input: byte 0 picks the link type; then frames, each a 2-byte big-endian length and bytes.
// Checks: payloads lie inside the frame or the reassembled datagram (ASan sees every byte),
// reassembly never exceeds its bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "capture/dispatcher.h"
#include "capture/link_layer.h"
#include "capture/packet_decoder.h"

using namespace callvault::capture;

namespace {

constexpr int kLinks[] = {kDltEthernet, kDltLinuxSll, kDltLinuxSll2, kDltNull,
                          kDltLoop,     kDltRaw,      kDltIpv4,      kDltIpv6};

struct Touch : PacketSink {
  unsigned sum = 0;
  void OnSipMessage(const SipDatagram& m) override {
    for (char c : m.bytes) sum += static_cast<unsigned char>(c);
  }
  void OnUdpPacket(const UdpPacket& p) override {
    for (uint8_t c : p.payload) sum += c;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int dlt = kLinks[data[0] % (sizeof kLinks / sizeof kLinks[0])];
  const IpReassemblyOptions bounds{
      .max_datagrams = 4, .max_bytes = 8192, .timeout_ns = 5'000'000'000};
  PacketDecoder decoder(bounds);
  Touch sink;
  DispatcherOptions options;
  options.ip_reassembly = bounds;
  options.tcp_reassembly.max_message_bytes = 4096;
  options.tcp_reassembly.max_out_of_order_bytes = 2048;
  options.tcp_reassembly.max_total_bytes = 16384;
  options.tcp_reassembly.max_flows = 4;
  Dispatcher dispatcher(options, &sink);
  size_t pos = 1;
  int64_t ts = 1'000'000'000;
  while (pos + 2 <= size) {
    const size_t len = static_cast<size_t>(data[pos] << 8 | data[pos + 1]) % 4096;
    pos += 2;
    const size_t n = len < size - pos ? len : size - pos;
    std::span<const uint8_t> frame(data + pos, n);
    pos += n;
    ts += (n & 7) * 700'000'000;  // sometimes far enough apart to expire fragments
    DecodedPacket p;
    if (decoder.Decode(dlt, ts, frame, &p) == DecodeOutcome::kPacket) {
      const bool inside = p.payload.data() >= frame.data() &&
                          p.payload.data() + p.payload.size() <= frame.data() + frame.size();
      if (!p.reassembled && !inside) abort();
      if (p.reassembled && p.payload.size() > 65535) abort();
      for (uint8_t c : p.payload) sink.sum += c;
      if (p.protocol != kIpProtoUdp && p.protocol != kIpProtoTcp) abort();
    }
    if (decoder.reassembler().bytes_buffered() > bounds.max_bytes ||
        decoder.reassembler().datagrams_in_progress() > bounds.max_datagrams) {
      abort();
    }
    dispatcher.OnFrame(dlt, ts, frame);
    if (dispatcher.tcp().bytes_buffered() > options.tcp_reassembly.max_total_bytes) abort();
  }
  return 0;
}
