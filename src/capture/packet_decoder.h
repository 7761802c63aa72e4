// Decodes one captured frame down to its UDP or TCP payload: link layer (link_layer.h), IPv4 /
// IPv6 (ip_decode.h), fragment reassembly (ip_reassembler.h), UDP / TCP headers. The hot path
// (an unfragmented UDP packet) allocates nothing: the payload span points into the frame.
//
// Called by: Dispatcher (dispatcher.h) on the capture thread; the decode fuzzer.
// Thread-safety: not thread-safe (owns the reassembly state); counters readable from any thread.
#pragma once

#include <cstdint>
#include <span>

#include "capture/endpoint.h"
#include "capture/internal/counter.h"
#include "capture/ip_decode.h"
#include "capture/ip_reassembler.h"

namespace callvault::capture {

struct DecodedPacket {
  int64_t ts_ns = 0;  // capture time (pcap header), ns since the Unix epoch
  Endpoint src;
  Endpoint dst;
  uint8_t protocol = 0;      // kIpProtoUdp or kIpProtoTcp
  bool reassembled = false;  // payload came from IP fragments
  // TCP only.
  uint32_t tcp_seq = 0;
  uint32_t tcp_ack = 0;
  uint8_t tcp_flags = 0;
  // The UDP/TCP payload: into the frame, or (reassembled) into the reassembler's buffer; valid
  // until the next Decode call.
  std::span<const uint8_t> payload;
};

enum class DecodeOutcome : uint8_t {
  kPacket,         // *out is a UDP or TCP packet
  kFragmentHeld,   // an IP fragment, kept until its datagram completes
  kNotIp,          // ARP, LLC, ... (not counted as an error)
  kOtherProtocol,  // IP but neither UDP nor TCP (ICMP, ESP, ...)
  kTruncated,      // shorter than its headers say (snaplen, or a cut frame)
  kMalformed,      // impossible header values, or a fragment reassembly dropped
  kUnsupportedLink,
};

struct DecodeCounters {
  internal::Counter frames;
  internal::Counter not_ip;
  internal::Counter other_protocol;
  internal::Counter truncated;
  internal::Counter malformed;
  internal::Counter unsupported_link;
};

class PacketDecoder {
 public:
  explicit PacketDecoder(IpReassemblyOptions reassembly = {});

  // Decodes a frame captured on a `dlt` link (link_layer.h) at `ts_ns`.
  DecodeOutcome Decode(int dlt, int64_t ts_ns, std::span<const uint8_t> frame, DecodedPacket* out);

  const DecodeCounters& counters() const { return counters_; }
  const IpReassembler& reassembler() const { return reassembler_; }
  IpReassembler& reassembler() { return reassembler_; }

 private:
  DecodeOutcome Count(DecodeOutcome o);
  DecodeOutcome FromStatus(IpStatus s);

  IpReassembler reassembler_;
  DecodeCounters counters_;
};

}  // namespace callvault::capture
