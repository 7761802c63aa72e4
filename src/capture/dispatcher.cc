// Frames → SIP messages and UDP packets (capture/dispatcher.h).
#include "capture/dispatcher.h"

#include <string_view>

#include "capture/ip_decode.h"
#include "capture/sip_start_line.h"

namespace callvault::capture {

namespace {

// RFC 5626 §3.5.1 keep-alives over UDP are CRLFCRLF; some SBCs send a lone CRLF or NUL bytes.
bool IsKeepAlive(std::span<const uint8_t> p) {
  for (uint8_t c : p) {
    if (c != '\r' && c != '\n' && c != 0 && c != ' ') return false;
  }
  return true;
}

}  // namespace

Dispatcher::Dispatcher(DispatcherOptions options, PacketSink* sink)
    : options_(std::move(options)),
      sink_(sink),
      sip_port_(65536, false),
      decoder_(options_.ip_reassembly),
      tcp_(options_.tcp_reassembly) {
  for (uint16_t p : options_.sip_ports) sip_port_[p] = true;
}

void Dispatcher::OnFrame(int dlt, int64_t ts_ns, std::span<const uint8_t> frame) {
  if (ts_ns >= next_sweep_ns_) {
    if (next_sweep_ns_ != 0) Sweep(ts_ns);
    next_sweep_ns_ = ts_ns + options_.sweep_interval_ns;
  }
  DecodedPacket p;
  if (decoder_.Decode(dlt, ts_ns, frame, &p) != DecodeOutcome::kPacket) return;
  if (p.protocol == kIpProtoUdp) {
    OnUdp(p);
  } else {
    OnTcp(p);
  }
}

void Dispatcher::OnUdp(const DecodedPacket& p) {
  const std::string_view text(reinterpret_cast<const char*>(p.payload.data()), p.payload.size());
  const bool sip_port = IsSipPort(p.src.port) || IsSipPort(p.dst.port);
  if (sip_port && IsKeepAlive(p.payload)) {
    counters_.udp_keepalives.Add();
    return;
  }
  if (sip_port || (options_.detect_sip_on_any_port && LooksLikeSipStartLine(text))) {
    SipDatagram m;
    m.bytes = text;
    m.src = p.src;
    m.dst = p.dst;
    m.transport = Transport::kUdp;
    m.ts_ns = p.ts_ns;
    counters_.sip_datagrams.Add();
    sink_->OnSipMessage(m);
    return;
  }
  UdpPacket u;
  u.src = p.src;
  u.dst = p.dst;
  u.ts_ns = p.ts_ns;
  u.payload = p.payload;
  u.reassembled = p.reassembled;
  counters_.udp_packets.Add();
  sink_->OnUdpPacket(u);
}

void Dispatcher::OnTcp(const DecodedPacket& p) {
  const bool sip = IsSipPort(p.src.port) || IsSipPort(p.dst.port) || tcp_.HasFlow(p.src, p.dst) ||
                   (options_.detect_sip_on_any_port &&
                    LooksLikeSipStartLine(std::string_view(
                        reinterpret_cast<const char*>(p.payload.data()), p.payload.size())));
  if (!sip) {
    counters_.tcp_ignored.Add();
    return;
  }
  counters_.tcp_segments.Add();
  TcpReassembler::Segment s;
  s.src = p.src;
  s.dst = p.dst;
  s.seq = p.tcp_seq;
  s.flags = p.tcp_flags;
  s.payload = p.payload;
  s.ts_ns = p.ts_ns;
  tcp_.AddSegment(s, sink_);
}

void Dispatcher::Sweep(int64_t now_ns) {
  tcp_.Expire(now_ns, sink_);
  decoder_.reassembler().Expire(now_ns);
}

}  // namespace callvault::capture
