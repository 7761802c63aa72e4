// Builds captured frames byte by byte for tests, fuzz seeds and the benchmark: IPv4/IPv6
// packets with UDP or TCP, IPv4 fragments, and the link layers of link_layer.h; and writes them
// to pcap files with pcap_open_dead + pcap_dump.
//
// Called by: capture tests, bench/capture_bench.cc. Thread-safety: stateless functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "capture/endpoint.h"

namespace callvault::capture::testing {

using Bytes = std::vector<uint8_t>;

// "192.0.2.1" or "2001:db8::1" and a port. Crashes on a bad literal (tests only).
Endpoint Ep(std::string_view ip, uint16_t port);

Bytes Udp(uint16_t src_port, uint16_t dst_port, std::string_view payload);
Bytes Tcp(uint16_t src_port, uint16_t dst_port, uint32_t seq, uint8_t flags,
          std::string_view payload);

// An IP packet around upper-layer bytes `l4` of `protocol`.
Bytes Ipv4(const IpAddress& src, const IpAddress& dst, uint8_t protocol, const Bytes& l4,
           uint16_t id = 1, uint16_t frag_offset_bytes = 0, bool more_fragments = false);
Bytes Ipv6(const IpAddress& src, const IpAddress& dst, uint8_t protocol, const Bytes& l4,
           bool with_extension_header = false);
// IPv6 fragment of `l4` bytes [offset, offset + piece) (Fragment header, RFC 8200 §4.5).
Bytes Ipv6Fragment(const IpAddress& src, const IpAddress& dst, uint8_t protocol, const Bytes& l4,
                   uint32_t id, size_t offset, size_t piece);
// IPv4 fragments of `l4` with pieces of `piece` bytes (a multiple of 8), in order.
std::vector<Bytes> Ipv4Fragments(const IpAddress& src, const IpAddress& dst, uint8_t protocol,
                                 const Bytes& l4, uint16_t id, size_t piece);

// One UDP or TCP packet over IPv4 or IPv6 (by the endpoints' version).
Bytes IpUdp(const Endpoint& src, const Endpoint& dst, std::string_view payload);
Bytes IpTcp(const Endpoint& src, const Endpoint& dst, uint32_t seq, uint8_t flags,
            std::string_view payload);

// Link layers around an IP packet.
Bytes Ethernet(const Bytes& ip, uint16_t vlan = 0);
Bytes Sll(const Bytes& ip);
Bytes Sll2(const Bytes& ip);
Bytes Null(const Bytes& ip);  // DLT_NULL, little-endian family

struct PcapRecord {
  int64_t ts_ns = 0;
  Bytes frame;
};
// Writes a pcap file of link type `dlt` (microsecond stamps). False on failure.
bool WritePcap(const std::string& path, int dlt, const std::vector<PcapRecord>& records);

}  // namespace callvault::capture::testing
