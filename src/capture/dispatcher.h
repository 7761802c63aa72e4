// The packet layer of passive mode: takes captured frames (from PacketSource or a test),
// decodes them (packet_decoder.h), and hands the recorder whole SIP messages — UDP datagrams on
// SIP ports or that start with a SIP start line, and messages framed from TCP streams
// (tcp_reassembler.h) — and every other UDP packet (RTP candidates). TCP segments that are not
// SIP are counted and dropped.
//
// Hot path: an unfragmented UDP packet is decoded and delivered without allocating; the spans
// point into the frame.
//
// Called by: the capture thread (PacketSource's handler), owned by the passive recorder.
// Thread-safety: not thread-safe (one owner thread); counters() may be read from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "capture/internal/counter.h"
#include "capture/ip_reassembler.h"
#include "capture/packet_decoder.h"
#include "capture/sink.h"
#include "capture/tcp_reassembler.h"

namespace callvault::capture {

struct DispatcherOptions {
  // Ports whose UDP payloads are SIP and whose TCP connections are SIP streams (either end).
  // Default: 5060 (SIP over UDP/TCP, RFC 3261 §19.1.2).
  std::vector<uint16_t> sip_ports = {5060};
  // Also treat as SIP a UDP payload, or a new TCP flow, on any other port whose first bytes
  // are a SIP start line. Default: true.
  bool detect_sip_on_any_port = true;
  // How often (capture time) idle TCP flows, unfilled holes and stale fragments are swept.
  // Default: 1 s.
  int64_t sweep_interval_ns = 1'000'000'000;
  IpReassemblyOptions ip_reassembly;
  TcpReassemblyOptions tcp_reassembly;
};

struct DispatchCounters {
  internal::Counter sip_datagrams;   // SIP messages from UDP
  internal::Counter udp_packets;     // other UDP packets delivered
  internal::Counter udp_keepalives;  // empty or CRLF-only UDP payloads on SIP ports
  internal::Counter tcp_segments;    // segments given to the reassembler
  internal::Counter tcp_ignored;     // TCP segments that are not SIP
};

class Dispatcher {
 public:
  // REQUIRES: `sink` outlives the Dispatcher.
  Dispatcher(DispatcherOptions options, PacketSink* sink);

  // One captured frame: `dlt` is the link type (pcap_datalink), `ts_ns` the capture time.
  // Whatever it completes goes to the sink before it returns.
  void OnFrame(int dlt, int64_t ts_ns, std::span<const uint8_t> frame);

  // Sweeps idle TCP flows, unfilled holes and stale fragments at capture time `now_ns`
  // (OnFrame also does so every sweep_interval_ns of capture time).
  void Sweep(int64_t now_ns);

  const DispatchCounters& counters() const { return counters_; }
  const PacketDecoder& decoder() const { return decoder_; }
  const TcpReassembler& tcp() const { return tcp_; }

 private:
  bool IsSipPort(uint16_t port) const { return sip_port_[port]; }
  void OnUdp(const DecodedPacket& p);
  void OnTcp(const DecodedPacket& p);

  const DispatcherOptions options_;
  PacketSink* const sink_;
  std::vector<bool> sip_port_;  // 65,536 entries
  PacketDecoder decoder_;
  TcpReassembler tcp_;
  int64_t next_sweep_ns_ = 0;
  DispatchCounters counters_;
};

}  // namespace callvault::capture
