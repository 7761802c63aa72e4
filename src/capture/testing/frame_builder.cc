// Frame builders for tests (capture/testing/frame_builder.h).
#include "capture/testing/frame_builder.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <cstdlib>

#include "capture/ip_decode.h"

namespace callvault::capture::testing {

namespace {

void Put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void Put32(Bytes& b, uint32_t v) {
  Put16(b, static_cast<uint16_t>(v >> 16));
  Put16(b, static_cast<uint16_t>(v));
}
void Append(Bytes& b, std::string_view s) { b.insert(b.end(), s.begin(), s.end()); }
void Append(Bytes& b, const Bytes& s) { b.insert(b.end(), s.begin(), s.end()); }

Bytes Ipv4Header(const IpAddress& src, const IpAddress& dst, uint8_t protocol, size_t l4_len,
                 uint16_t id, uint16_t frag_offset_bytes, bool mf) {
  Bytes b;
  b.push_back(0x45);
  b.push_back(0);
  Put16(b, static_cast<uint16_t>(20 + l4_len));
  Put16(b, id);
  Put16(b, static_cast<uint16_t>((mf ? 0x2000 : 0) | (frag_offset_bytes / 8)));
  b.push_back(64);
  b.push_back(protocol);
  Put16(b, 0);  // checksum: not checked by capture
  b.insert(b.end(), src.bytes.begin(), src.bytes.begin() + 4);
  b.insert(b.end(), dst.bytes.begin(), dst.bytes.begin() + 4);
  return b;
}

Bytes Ipv6Header(const IpAddress& src, const IpAddress& dst, uint8_t next, size_t len) {
  Bytes b = {0x60, 0, 0, 0};
  Put16(b, static_cast<uint16_t>(len));
  b.push_back(next);
  b.push_back(64);
  b.insert(b.end(), src.bytes.begin(), src.bytes.end());
  b.insert(b.end(), dst.bytes.begin(), dst.bytes.end());
  return b;
}

}  // namespace

Endpoint Ep(std::string_view ip, uint16_t port) {
  Endpoint e;
  e.port = port;
  const std::string s(ip);
  uint8_t buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
    e.ip = IpAddress::V4(buf);
  } else if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    e.ip = IpAddress::V6(buf);
  } else {
    std::abort();
  }
  return e;
}

Bytes Udp(uint16_t src_port, uint16_t dst_port, std::string_view payload) {
  Bytes b;
  Put16(b, src_port);
  Put16(b, dst_port);
  Put16(b, static_cast<uint16_t>(8 + payload.size()));
  Put16(b, 0);
  Append(b, payload);
  return b;
}

Bytes Tcp(uint16_t src_port, uint16_t dst_port, uint32_t seq, uint8_t flags,
          std::string_view payload) {
  Bytes b;
  Put16(b, src_port);
  Put16(b, dst_port);
  Put32(b, seq);
  Put32(b, 0);
  b.push_back(5 << 4);
  b.push_back(flags);
  Put16(b, 65535);
  Put16(b, 0);
  Put16(b, 0);
  Append(b, payload);
  return b;
}

Bytes Ipv4(const IpAddress& src, const IpAddress& dst, uint8_t protocol, const Bytes& l4,
           uint16_t id, uint16_t frag_offset_bytes, bool more_fragments) {
  Bytes b = Ipv4Header(src, dst, protocol, l4.size(), id, frag_offset_bytes, more_fragments);
  Append(b, l4);
  return b;
}

Bytes Ipv6(const IpAddress& src, const IpAddress& dst, uint8_t protocol, const Bytes& l4,
           bool with_extension_header) {
  if (!with_extension_header) {
    Bytes b = Ipv6Header(src, dst, protocol, l4.size());
    Append(b, l4);
    return b;
  }
  // A Destination Options header of 8 bytes (PadN) before the upper layer.
  Bytes b = Ipv6Header(src, dst, 60, l4.size() + 8);
  const uint8_t opts[8] = {protocol, 0, 1, 4, 0, 0, 0, 0};
  b.insert(b.end(), opts, opts + 8);
  Append(b, l4);
  return b;
}

Bytes Ipv6Fragment(const IpAddress& src, const IpAddress& dst, uint8_t protocol, const Bytes& l4,
                   uint32_t id, size_t offset, size_t piece) {
  const size_t n = std::min(piece, l4.size() - offset);
  const bool more = offset + n < l4.size();
  Bytes b = Ipv6Header(src, dst, 44, 8 + n);
  b.push_back(protocol);
  b.push_back(0);
  Put16(b, static_cast<uint16_t>(offset | (more ? 1 : 0)));
  Put32(b, id);
  b.insert(b.end(), l4.begin() + static_cast<ptrdiff_t>(offset),
           l4.begin() + static_cast<ptrdiff_t>(offset + n));
  return b;
}

std::vector<Bytes> Ipv4Fragments(const IpAddress& src, const IpAddress& dst, uint8_t protocol,
                                 const Bytes& l4, uint16_t id, size_t piece) {
  std::vector<Bytes> out;
  for (size_t off = 0; off < l4.size(); off += piece) {
    const size_t n = std::min(piece, l4.size() - off);
    Bytes part(l4.begin() + static_cast<ptrdiff_t>(off),
               l4.begin() + static_cast<ptrdiff_t>(off + n));
    out.push_back(
        Ipv4(src, dst, protocol, part, id, static_cast<uint16_t>(off), off + n < l4.size()));
  }
  return out;
}

Bytes IpUdp(const Endpoint& src, const Endpoint& dst, std::string_view payload) {
  Bytes l4 = Udp(src.port, dst.port, payload);
  return src.ip.version == 6 ? Ipv6(src.ip, dst.ip, kIpProtoUdp, l4)
                             : Ipv4(src.ip, dst.ip, kIpProtoUdp, l4);
}

Bytes IpTcp(const Endpoint& src, const Endpoint& dst, uint32_t seq, uint8_t flags,
            std::string_view payload) {
  Bytes l4 = Tcp(src.port, dst.port, seq, flags, payload);
  return src.ip.version == 6 ? Ipv6(src.ip, dst.ip, kIpProtoTcp, l4)
                             : Ipv4(src.ip, dst.ip, kIpProtoTcp, l4);
}

Bytes Ethernet(const Bytes& ip, uint16_t vlan) {
  Bytes b = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1};
  if (vlan != 0) {
    Put16(b, 0x8100);
    Put16(b, vlan);
  }
  Put16(b, (ip[0] >> 4) == 6 ? 0x86DD : 0x0800);
  Append(b, ip);
  return b;
}

Bytes Sll(const Bytes& ip) {
  Bytes b;
  Put16(b, 0);  // packet type: to us
  Put16(b, 1);  // ARPHRD_ETHER
  Put16(b, 6);
  const uint8_t addr[8] = {0x02, 0, 0, 0, 0, 1, 0, 0};
  b.insert(b.end(), addr, addr + 8);
  Put16(b, (ip[0] >> 4) == 6 ? 0x86DD : 0x0800);
  Append(b, ip);
  return b;
}

Bytes Sll2(const Bytes& ip) {
  Bytes b;
  Put16(b, (ip[0] >> 4) == 6 ? 0x86DD : 0x0800);
  Put16(b, 0);
  Put32(b, 2);  // ifindex
  Put16(b, 1);  // ARPHRD_ETHER
  b.push_back(0);
  b.push_back(6);
  const uint8_t addr[8] = {0x02, 0, 0, 0, 0, 1, 0, 0};
  b.insert(b.end(), addr, addr + 8);
  Append(b, ip);
  return b;
}

Bytes Null(const Bytes& ip) {
  Bytes b = {static_cast<uint8_t>((ip[0] >> 4) == 6 ? 10 : 2), 0, 0, 0};
  Append(b, ip);
  return b;
}

bool WritePcap(const std::string& path, int dlt, const std::vector<PcapRecord>& records) {
  pcap_t* p = pcap_open_dead(dlt, 65535);
  if (p == nullptr) return false;
  pcap_dumper_t* d = pcap_dump_open(p, path.c_str());
  if (d == nullptr) {
    pcap_close(p);
    return false;
  }
  for (const PcapRecord& r : records) {
    pcap_pkthdr h{};
    h.ts.tv_sec = r.ts_ns / 1'000'000'000;
    h.ts.tv_usec = (r.ts_ns % 1'000'000'000) / 1000;
    h.caplen = h.len = static_cast<bpf_u_int32>(r.frame.size());
    pcap_dump(reinterpret_cast<u_char*>(d), &h, r.frame.data());
  }
  pcap_dump_close(d);
  pcap_close(p);
  return true;
}

}  // namespace callvault::capture::testing
