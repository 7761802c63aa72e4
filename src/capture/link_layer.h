// Link-layer decoding for passive capture: finds the IP packet inside a captured frame for the
// link types libpcap gives on Linux — Ethernet (with 802.1Q / 802.1ad VLAN tags), Linux cooked
// SLL and SLL2 (the `any` device), BSD loopback (DLT_NULL / DLT_LOOP) and raw IP.
//
// Called by: PacketDecoder (packet_decoder.h), once per captured frame. Pure function.
// Thread-safety: stateless.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace callvault::capture {

// Link types (the DLT_ values of <pcap/dlt.h> that libpcap returns from pcap_datalink).
inline constexpr int kDltNull = 0;           // BSD loopback, family in host byte order
inline constexpr int kDltEthernet = 1;       // DLT_EN10MB
inline constexpr int kDltRaw = 12;           // DLT_RAW on Linux
inline constexpr int kDltRawLinktype = 101;  // LINKTYPE_RAW (as stored in pcap files)
inline constexpr int kDltLoop = 108;         // OpenBSD loopback, family in network byte order
inline constexpr int kDltLinuxSll = 113;     // Linux cooked capture v1 (16-byte header)
inline constexpr int kDltIpv4 = 228;
inline constexpr int kDltIpv6 = 229;
inline constexpr int kDltLinuxSll2 = 276;  // Linux cooked capture v2 (20-byte header)

struct LinkFrame {
  uint8_t ip_version = 0;  // 4 or 6; 0 = not IP (ARP, LLC, ...)
  size_t ip_offset = 0;    // where the IP header starts in the frame
  uint16_t vlan_id = 0;    // innermost 802.1Q VLAN id (0 = untagged)
};

enum class LinkStatus : uint8_t { kOk, kNotIp, kTruncated, kUnsupported };

// Decodes the link header of `frame` captured on a `dlt` link. kOk fills *out.
LinkStatus DecodeLink(int dlt, std::span<const uint8_t> frame, LinkFrame* out);

// True when DecodeLink knows `dlt`.
bool IsSupportedLinkType(int dlt);

}  // namespace callvault::capture
