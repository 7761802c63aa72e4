// What passive capture hands to the recorder: whole SIP messages (from UDP datagrams, or framed
// out of reassembled TCP streams) and every other UDP packet (RTP/RTCP candidates; the recorder
// decides which ports are media from the SDP it observes).
//
// Called by: Dispatcher and TcpReassembler, on the capture thread, once per message / packet.
// Implemented by: the passive recorder (siprec/, wired by app/), tests, fuzzers, the benchmark.
// Thread-safety: callbacks run on the capture thread; an implementation that hands data to
// other threads copies what it keeps. Callbacks must not call back into the Dispatcher.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "capture/endpoint.h"

namespace callvault::capture {

// One whole SIP message (RFC 3261 §7) as it crossed the wire.
struct SipDatagram {
  // The message bytes: a UDP payload (valid during the callback: it points into the capture
  // buffer or the IP reassembly buffer), or a message framed from a TCP stream (points into the
  // flow's buffer, also valid during the callback only). Copy to keep.
  std::string_view bytes;
  Endpoint src;
  Endpoint dst;
  Transport transport = Transport::kUdp;
  int64_t ts_ns = 0;  // capture time of the packet that completed the message (ns, Unix epoch)
};

// A UDP packet that is not SIP (RTP, RTCP, anything else the BPF filter let through).
struct UdpPacket {
  Endpoint src;
  Endpoint dst;
  int64_t ts_ns = 0;
  std::span<const uint8_t> payload;  // valid during the callback only
  bool reassembled = false;          // came from IP fragments
};

class PacketSink {
 public:
  virtual ~PacketSink() = default;
  virtual void OnSipMessage(const SipDatagram& message) = 0;
  virtual void OnUdpPacket(const UdpPacket& packet) = 0;
};

}  // namespace callvault::capture
