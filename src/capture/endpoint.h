// Addresses seen on the wire by passive capture: an IPv4 or IPv6 address and a port, plus the
// transport a packet or message came over. Plain values with no allocation, so the packet path
// can fill them per packet; the recorder converts them with ToSockaddr (for
// sip::SocketAddress::FromSockaddr) or ToString (logs).
//
// Called by: the decoder (packet_decoder.h), the TCP reassembler, the dispatcher's sinks.
// Thread-safety: values.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace callvault::capture {

enum class Transport : uint8_t { kUdp, kTcp };
std::string_view TransportName(Transport t);  // "UDP" / "TCP"

struct IpAddress {
  uint8_t version = 0;              // 4 or 6 (0: unset)
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4

  static IpAddress V4(const uint8_t* b) {
    IpAddress a;
    a.version = 4;
    std::memcpy(a.bytes.data(), b, 4);
    return a;
  }
  static IpAddress V6(const uint8_t* b) {
    IpAddress a;
    a.version = 6;
    std::memcpy(a.bytes.data(), b, 16);
    return a;
  }
  // "192.0.2.1" / "2001:db8::1"; "" when unset.
  std::string ToString() const;

  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    return a.version == b.version && a.bytes == b.bytes;
  }
};

struct Endpoint {
  IpAddress ip;
  uint16_t port = 0;  // host order

  // "192.0.2.1:5060" / "[2001:db8::1]:5060".
  std::string ToString() const;
  // Fills *out (AF_INET or AF_INET6) and returns its length; 0 when the address is unset.
  socklen_t ToSockaddr(sockaddr_storage* out) const;

  friend bool operator==(const Endpoint& a, const Endpoint& b) {
    return a.port == b.port && a.ip == b.ip;
  }
};

// A hash for unordered containers keyed by endpoints (FNV-1a over the used bytes).
size_t HashEndpoint(const Endpoint& e, size_t seed = 0);

}  // namespace callvault::capture
