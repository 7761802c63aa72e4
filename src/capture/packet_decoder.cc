// Frame → UDP/TCP payload (capture/packet_decoder.h).
#include "capture/packet_decoder.h"

#include "capture/link_layer.h"

namespace callvault::capture {

PacketDecoder::PacketDecoder(IpReassemblyOptions reassembly) : reassembler_(reassembly) {}

DecodeOutcome PacketDecoder::Count(DecodeOutcome o) {
  switch (o) {
    case DecodeOutcome::kNotIp:
      counters_.not_ip.Add();
      break;
    case DecodeOutcome::kOtherProtocol:
      counters_.other_protocol.Add();
      break;
    case DecodeOutcome::kTruncated:
      counters_.truncated.Add();
      break;
    case DecodeOutcome::kMalformed:
      counters_.malformed.Add();
      break;
    case DecodeOutcome::kUnsupportedLink:
      counters_.unsupported_link.Add();
      break;
    case DecodeOutcome::kPacket:
    case DecodeOutcome::kFragmentHeld:
      break;
  }
  return o;
}

DecodeOutcome PacketDecoder::FromStatus(IpStatus s) {
  return Count(s == IpStatus::kTruncated ? DecodeOutcome::kTruncated : DecodeOutcome::kMalformed);
}

DecodeOutcome PacketDecoder::Decode(int dlt, int64_t ts_ns, std::span<const uint8_t> frame,
                                    DecodedPacket* out) {
  counters_.frames.Add();
  LinkFrame link;
  switch (DecodeLink(dlt, frame, &link)) {
    case LinkStatus::kOk:
      break;
    case LinkStatus::kNotIp:
      return Count(DecodeOutcome::kNotIp);
    case LinkStatus::kTruncated:
      return Count(DecodeOutcome::kTruncated);
    case LinkStatus::kUnsupported:
      return Count(DecodeOutcome::kUnsupportedLink);
  }
  IpPacket ip;
  IpStatus s = DecodeIp(link.ip_version, frame.subspan(link.ip_offset), &ip);
  if (s != IpStatus::kOk) return FromStatus(s);
  out->ts_ns = ts_ns;
  out->reassembled = false;
  std::span<const uint8_t> l4 = ip.payload;
  uint8_t protocol = ip.protocol;
  if (ip.fragment) {
    // Only datagrams of the protocols we follow are worth the memory.
    if (ip.protocol != kIpProtoUdp && ip.protocol != kIpProtoTcp && ip.src.version == 4) {
      return Count(DecodeOutcome::kOtherProtocol);
    }
    switch (reassembler_.Add(ip, ts_ns, &l4, &protocol)) {
      case IpReassembler::Outcome::kHeld:
        return DecodeOutcome::kFragmentHeld;
      case IpReassembler::Outcome::kDropped:
        return Count(DecodeOutcome::kMalformed);
      case IpReassembler::Outcome::kComplete:
        out->reassembled = true;
        break;
    }
  } else if (ip.src.version == 6 && !SkipIpv6Extensions(&protocol, &l4)) {
    return Count(DecodeOutcome::kTruncated);  // headers after an atomic Fragment header
  }
  out->protocol = protocol;
  out->src.ip = ip.src;
  out->dst.ip = ip.dst;
  if (protocol == kIpProtoUdp) {
    UdpDatagram udp;
    s = DecodeUdp(l4, &udp);
    if (s != IpStatus::kOk) return FromStatus(s);
    out->src.port = udp.src_port;
    out->dst.port = udp.dst_port;
    out->tcp_seq = out->tcp_ack = 0;
    out->tcp_flags = 0;
    out->payload = udp.payload;
    return DecodeOutcome::kPacket;
  }
  if (protocol == kIpProtoTcp) {
    TcpSegment tcp;
    s = DecodeTcp(l4, &tcp);
    if (s != IpStatus::kOk) return FromStatus(s);
    out->src.port = tcp.src_port;
    out->dst.port = tcp.dst_port;
    out->tcp_seq = tcp.seq;
    out->tcp_ack = tcp.ack;
    out->tcp_flags = tcp.flags;
    out->payload = tcp.payload;
    return DecodeOutcome::kPacket;
  }
  return Count(DecodeOutcome::kOtherProtocol);
}

}  // namespace callvault::capture
