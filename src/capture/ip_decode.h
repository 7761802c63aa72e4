// IP and transport header decoding for passive capture: IPv4 (RFC 791) and IPv6 (RFC 8200,
// extension headers skipped, the Fragment header read), then UDP (RFC 768) and TCP (RFC 9293).
// Spans point into the caller's bytes; nothing is copied or allocated.
//
// Called by: PacketDecoder (packet_decoder.h) and IpReassembler (a reassembled IPv6 payload is
// walked again). Pure functions.
// Thread-safety: stateless.
#pragma once

#include <cstdint>
#include <span>

#include "capture/endpoint.h"

namespace callvault::capture {

inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;

enum class IpStatus : uint8_t { kOk, kTruncated, kMalformed };

struct IpPacket {
  IpAddress src;
  IpAddress dst;
  uint8_t protocol = 0;  // the upper-layer protocol after extension headers (6 TCP, 17 UDP)
  // Fragments (IPv4 MF/offset, IPv6 Fragment header). `payload` is this fragment's piece.
  bool fragment = false;
  bool more_fragments = false;
  uint32_t fragment_offset = 0;      // bytes from the start of the upper-layer data
  uint32_t fragment_id = 0;          // IPv4 identification (16 bits) or IPv6 (32 bits)
  std::span<const uint8_t> payload;  // upper-layer bytes, trimmed to the IP length
};

// Decodes an IP header whose version was found by the link layer. kTruncated when the capture
// holds less than the IP length says (a snaplen cut), kMalformed for impossible headers.
IpStatus DecodeIp(uint8_t version, std::span<const uint8_t> bytes, IpPacket* out);

// Skips IPv6 extension headers starting with `*next_header` at the front of `*data`; on return
// *next_header is the upper-layer protocol and *data its bytes. False when one is truncated.
// (A Fragment header is not expected here: this walks a reassembled payload.)
bool SkipIpv6Extensions(uint8_t* next_header, std::span<const uint8_t>* data);

struct UdpDatagram {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  std::span<const uint8_t> payload;
};

// TCP flags (RFC 9293 §3.1).
inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpPsh = 0x08;
inline constexpr uint8_t kTcpAck = 0x10;

struct TcpSegment {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  std::span<const uint8_t> payload;
};

IpStatus DecodeUdp(std::span<const uint8_t> bytes, UdpDatagram* out);
IpStatus DecodeTcp(std::span<const uint8_t> bytes, TcpSegment* out);

}  // namespace callvault::capture
