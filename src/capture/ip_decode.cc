// IP, UDP and TCP header decoding (capture/ip_decode.h).
#include "capture/ip_decode.h"

#include "capture/internal/bytes.h"

namespace callvault::capture {

namespace {

using internal::Be16;
using internal::Be32;

constexpr int kMaxExtensionHeaders = 8;

IpStatus DecodeIpv4(std::span<const uint8_t> b, IpPacket* out) {
  if (b.size() < 20) return IpStatus::kTruncated;
  const size_t ihl = static_cast<size_t>(b[0] & 0x0F) * 4;
  const size_t total = Be16(b.data() + 2);
  if (ihl < 20 || total < ihl) return IpStatus::kMalformed;
  if (b.size() < total) return IpStatus::kTruncated;  // Ethernet padding is longer, never shorter
  const uint16_t frag = Be16(b.data() + 6);
  out->more_fragments = (frag & 0x2000) != 0;
  out->fragment_offset = static_cast<uint32_t>(frag & 0x1FFF) * 8;
  out->fragment = out->more_fragments || out->fragment_offset != 0;
  out->fragment_id = Be16(b.data() + 4);
  out->protocol = b[9];
  out->src = IpAddress::V4(b.data() + 12);
  out->dst = IpAddress::V4(b.data() + 16);
  out->payload = b.subspan(ihl, total - ihl);
  return IpStatus::kOk;
}

IpStatus DecodeIpv6(std::span<const uint8_t> b, IpPacket* out) {
  if (b.size() < 40) return IpStatus::kTruncated;
  const size_t len = Be16(b.data() + 4);
  if (len == 0) return IpStatus::kMalformed;  // jumbograms (RFC 2675) are not SIP or RTP
  if (b.size() < 40 + len) return IpStatus::kTruncated;
  out->src = IpAddress::V6(b.data() + 8);
  out->dst = IpAddress::V6(b.data() + 24);
  uint8_t next = b[6];
  std::span<const uint8_t> rest = b.subspan(40, len);
  for (int i = 0; i < kMaxExtensionHeaders; ++i) {
    switch (next) {
      case 0:    // Hop-by-Hop Options
      case 43:   // Routing
      case 60:   // Destination Options
      case 135:  // Mobility
      case 139:  // HIP
      case 140:  // Shim6
      {
        if (rest.size() < 8) return IpStatus::kTruncated;
        const size_t hl = (static_cast<size_t>(rest[1]) + 1) * 8;
        if (rest.size() < hl) return IpStatus::kTruncated;
        next = rest[0];
        rest = rest.subspan(hl);
        continue;
      }
      case 51: {  // Authentication Header: length in 4-octet units, minus 2
        if (rest.size() < 8) return IpStatus::kTruncated;
        const size_t hl = (static_cast<size_t>(rest[1]) + 2) * 4;
        if (rest.size() < hl) return IpStatus::kTruncated;
        next = rest[0];
        rest = rest.subspan(hl);
        continue;
      }
      case 44: {  // Fragment (RFC 8200 §4.5)
        if (rest.size() < 8) return IpStatus::kTruncated;
        const uint16_t off = Be16(rest.data() + 2);
        out->fragment_offset = off & 0xFFF8;
        out->more_fragments = (off & 1) != 0;
        out->fragment_id = Be32(rest.data() + 4);
        out->fragment = out->more_fragments || out->fragment_offset != 0;
        next = rest[0];
        rest = rest.subspan(8);
        // An atomic fragment (offset 0, no more) is a whole packet; its payload may carry
        // more extension headers, walked below.
        if (out->fragment) {
          out->protocol = next;
          out->payload = rest;
          return IpStatus::kOk;
        }
        continue;
      }
      default:
        out->protocol = next;
        out->payload = rest;
        return IpStatus::kOk;
    }
  }
  return IpStatus::kMalformed;  // too many extension headers
}

}  // namespace

IpStatus DecodeIp(uint8_t version, std::span<const uint8_t> bytes, IpPacket* out) {
  *out = IpPacket{};
  if (bytes.empty() || (bytes[0] >> 4) != version) return IpStatus::kMalformed;
  return version == 4 ? DecodeIpv4(bytes, out) : DecodeIpv6(bytes, out);
}

bool SkipIpv6Extensions(uint8_t* next_header, std::span<const uint8_t>* data) {
  for (int i = 0; i < kMaxExtensionHeaders; ++i) {
    const uint8_t nh = *next_header;
    if (nh != 0 && nh != 43 && nh != 60 && nh != 135 && nh != 139 && nh != 140 && nh != 51) {
      return true;
    }
    if (data->size() < 8) return false;
    const size_t hl = nh == 51 ? (static_cast<size_t>((*data)[1]) + 2) * 4
                               : (static_cast<size_t>((*data)[1]) + 1) * 8;
    if (data->size() < hl) return false;
    *next_header = (*data)[0];
    *data = data->subspan(hl);
  }
  return false;
}

IpStatus DecodeUdp(std::span<const uint8_t> b, UdpDatagram* out) {
  if (b.size() < 8) return IpStatus::kTruncated;
  const size_t len = Be16(b.data() + 4);
  out->src_port = Be16(b.data());
  out->dst_port = Be16(b.data() + 2);
  if (len < 8) {
    // 0 is legal for IPv6 jumbograms only; treat it as "the rest of the IP payload".
    if (len != 0) return IpStatus::kMalformed;
    out->payload = b.subspan(8);
    return IpStatus::kOk;
  }
  if (b.size() < len) return IpStatus::kTruncated;
  out->payload = b.subspan(8, len - 8);
  return IpStatus::kOk;
}

IpStatus DecodeTcp(std::span<const uint8_t> b, TcpSegment* out) {
  if (b.size() < 20) return IpStatus::kTruncated;
  const size_t off = static_cast<size_t>(b[12] >> 4) * 4;
  if (off < 20) return IpStatus::kMalformed;
  if (b.size() < off) return IpStatus::kTruncated;
  out->src_port = Be16(b.data());
  out->dst_port = Be16(b.data() + 2);
  out->seq = Be32(b.data() + 4);
  out->ack = Be32(b.data() + 8);
  out->flags = b[13];
  out->payload = b.subspan(off);
  return IpStatus::kOk;
}

}  // namespace callvault::capture
