// SocketAddress and TransportName (sip/transport.h).
#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "sip/transport.h"

namespace callvault::sip {

std::string_view TransportName(Transport t) {
  switch (t) {
    case Transport::kUdp:
      return "UDP";
    case Transport::kTcp:
      return "TCP";
    case Transport::kTls:
      return "TLS";
  }
  return "UDP";
}

SocketAddress::SocketAddress() {
  std::memset(&u_, 0, sizeof u_);
  u_.v4.sin_family = AF_INET;
}

Result<SocketAddress> SocketAddress::FromIpPort(const std::string& ip, uint16_t port) {
  std::string host = ip;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  SocketAddress a;
  if (host.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, host.c_str(), &a.u_.v4.sin_addr) != 1) {
      return InvalidArgumentError("not an IPv4 address: \"" + ip + "\"");
    }
    a.u_.v4.sin_family = AF_INET;
    a.u_.v4.sin_port = htons(port);
    return a;
  }
  std::memset(&a.u_, 0, sizeof a.u_);
  if (inet_pton(AF_INET6, host.c_str(), &a.u_.v6.sin6_addr) != 1) {
    return InvalidArgumentError("not an IPv6 address: \"" + ip + "\"");
  }
  a.u_.v6.sin6_family = AF_INET6;
  a.u_.v6.sin6_port = htons(port);
  return a;
}

Result<SocketAddress> SocketAddress::Parse(std::string_view text) {
  std::string_view host, port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return InvalidArgumentError("address \"" + std::string(text) + "\": expected [ipv6]:port");
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    if (host.find(':') == std::string_view::npos) {
      return InvalidArgumentError("address \"" + std::string(text) + "\": not IPv6 in []");
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return InvalidArgumentError("address \"" + std::string(text) +
                                  "\": expected ipv4:port or [ipv6]:port");
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || port_text.size() > 5 || ec != std::errc() ||
      end != port_text.data() + port_text.size() || port > 65535) {
    return InvalidArgumentError("address \"" + std::string(text) + "\": bad port");
  }
  Result<SocketAddress> a = FromIpPort(std::string(host), static_cast<uint16_t>(port));
  if (!a.ok()) {
    return InvalidArgumentError("address \"" + std::string(text) + "\": bad IP address");
  }
  return a;
}

Result<SocketAddress> SocketAddress::FromSockaddr(const ::sockaddr* sa, socklen_t len) {
  SocketAddress a;
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    std::memcpy(&a.u_.v4, sa, sizeof(sockaddr_in));
    return a;
  }
  if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    std::memcpy(&a.u_.v6, sa, sizeof(sockaddr_in6));
    return a;
  }
  return InvalidArgumentError("unsupported address family " + std::to_string(sa->sa_family));
}

socklen_t SocketAddress::len() const {
  return is_v6() ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

std::string SocketAddress::ip() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_v6()) {
    inet_ntop(AF_INET6, &u_.v6.sin6_addr, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET, &u_.v4.sin_addr, buf, sizeof buf);
  }
  return buf;
}

uint16_t SocketAddress::port() const { return ntohs(is_v6() ? u_.v6.sin6_port : u_.v4.sin_port); }

bool SocketAddress::IsAny() const {
  if (is_v6()) return IN6_IS_ADDR_UNSPECIFIED(&u_.v6.sin6_addr);
  return u_.v4.sin_addr.s_addr == htonl(INADDR_ANY);
}

std::string SocketAddress::ToString() const {
  std::string port_text = std::to_string(port());
  return is_v6() ? "[" + ip() + "]:" + port_text : ip() + ":" + port_text;
}

bool operator==(const SocketAddress& a, const SocketAddress& b) {
  if (a.u_.sa.sa_family != b.u_.sa.sa_family || a.port() != b.port()) return false;
  if (a.is_v6()) {
    return std::memcmp(&a.u_.v6.sin6_addr, &b.u_.v6.sin6_addr, sizeof(in6_addr)) == 0 &&
           a.u_.v6.sin6_scope_id == b.u_.v6.sin6_scope_id;
  }
  return a.u_.v4.sin_addr.s_addr == b.u_.v4.sin_addr.s_addr;
}

}  // namespace callvault::sip
