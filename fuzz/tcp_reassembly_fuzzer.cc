// libFuzzer target for capture/tcp_reassembler.h: a sequence of TCP segments with arbitrary
// sequence numbers, flags, flows and timestamps, through tight bounds.
// Input: records of [flow:2 bits | SYN FIN RST ACK:4 bits | ts step:2 bits] [seq offset: 2 bytes]
// [length: 1 byte] [payload]; a segment's sequence number is the flow's base plus the offset
// (a few records use a raw 4-byte number instead), so segments overlap, reorder and leave holes.
// Checks: every emitted message frames as exactly one SIP message (sip::FrameStream), memory
// and flow bounds hold after every segment, Expire at the end empties everything.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "capture/endpoint.h"
#include "capture/ip_decode.h"
#include "capture/tcp_reassembler.h"
#include "sip/message.h"

using namespace callvault::capture;

namespace {

struct Check : PacketSink {
  size_t max_message = 0;
  void OnSipMessage(const SipDatagram& m) override {
    if (m.transport != Transport::kTcp || m.bytes.size() > max_message) abort();
    callvault::sip::ParseOptions stream;
    stream.datagram = false;
    callvault::sip::Frame f = callvault::sip::FrameStream(m.bytes, stream);
    if (f.kind != callvault::sip::Frame::kMessage || f.length != m.bytes.size()) abort();
    (void)callvault::sip::Parse(m.bytes, stream);
  }
  void OnUdpPacket(const UdpPacket&) override { abort(); }
};

Endpoint Ep(uint8_t host, uint16_t port) {
  Endpoint e;
  e.ip.version = 4;
  e.ip.bytes[0] = 192;
  e.ip.bytes[3] = host;
  e.port = port;
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  TcpReassemblyOptions o;
  o.max_message_bytes = 4096;
  o.max_out_of_order_bytes = 2048;
  o.max_total_bytes = 8192;
  o.max_flows = 3;
  o.gap_timeout_ns = 2'000'000'000;
  o.idle_timeout_ns = 30'000'000'000;
  TcpReassembler r(o);
  Check sink;
  sink.max_message = o.max_message_bytes;
  const Endpoint ends[4][2] = {{Ep(1, 40000), Ep(2, 5060)},
                               {Ep(2, 5060), Ep(1, 40000)},
                               {Ep(3, 40001), Ep(2, 5060)},
                               {Ep(4, 5061), Ep(2, 5060)}};
  const uint32_t base[4] = {1000, 0xFFFFF000u, 77, 0x7FFFFFF0u};
  int64_t ts = 1'000'000'000;
  size_t pos = 0;
  while (pos + 4 <= size) {
    const uint8_t h = data[pos];
    const int flow = h >> 6;
    uint32_t seq = base[flow] + static_cast<uint32_t>(data[pos + 1] << 8 | data[pos + 2]);
    size_t len = data[pos + 3];
    pos += 4;
    if ((h & 0x3C) == 0x3C && pos + 4 <= size) {  // all four flags: a raw sequence number
      seq = static_cast<uint32_t>(data[pos]) << 24 | data[pos + 1] << 16 | data[pos + 2] << 8 |
            data[pos + 3];
      pos += 4;
    }
    if (len > size - pos) len = size - pos;
    static constexpr int64_t kSteps[4] = {0, 1'000'000, 500'000'000, 3'000'000'000};
    ts += kSteps[h & 3];
    TcpReassembler::Segment s;
    s.src = ends[flow][0];
    s.dst = ends[flow][1];
    s.seq = seq;
    s.flags = static_cast<uint8_t>(((h & 0x20) ? kTcpSyn : 0) | ((h & 0x10) ? kTcpFin : 0) |
                                   ((h & 0x08) ? kTcpRst : 0) | ((h & 0x04) ? kTcpAck : 0));
    s.payload = std::span<const uint8_t>(data + pos, len);
    s.ts_ns = ts;
    pos += len;
    r.AddSegment(s, &sink);
    if (r.bytes_buffered() > o.max_total_bytes || r.flow_count() > o.max_flows) abort();
  }
  r.Expire(ts + o.gap_timeout_ns + 1, &sink);
  r.Expire(ts + o.idle_timeout_ns + 1, &sink);
  if (r.flow_count() != 0 || r.bytes_buffered() != 0) abort();
  return 0;
}
