// Endpoint formatting and conversion (capture/endpoint.h).
#include "capture/endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace callvault::capture {

std::string_view TransportName(Transport t) { return t == Transport::kTcp ? "TCP" : "UDP"; }

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (version == 4) {
    inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
  } else if (version == 6) {
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  }
  return buf;
}

std::string Endpoint::ToString() const {
  if (ip.version == 6) return "[" + ip.ToString() + "]:" + std::to_string(port);
  return ip.ToString() + ":" + std::to_string(port);
}

socklen_t Endpoint::ToSockaddr(sockaddr_storage* out) const {
  std::memset(out, 0, sizeof *out);
  if (ip.version == 4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, ip.bytes.data(), 4);
    return sizeof(sockaddr_in);
  }
  if (ip.version == 6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(out);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    std::memcpy(&sin6->sin6_addr, ip.bytes.data(), 16);
    return sizeof(sockaddr_in6);
  }
  return 0;
}

size_t HashEndpoint(const Endpoint& e, size_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  auto mix = [&h](uint8_t b) {
    h ^= b;
    h *= 1099511628211ull;
  };
  const size_t n = e.ip.version == 6 ? 16 : 4;
  for (size_t i = 0; i < n; ++i) mix(e.ip.bytes[i]);
  mix(static_cast<uint8_t>(e.port >> 8));
  mix(static_cast<uint8_t>(e.port));
  mix(e.ip.version);
  return static_cast<size_t>(h);
}

}  // namespace callvault::capture
