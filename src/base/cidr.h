// IP address blocks in CIDR notation ("10.1.0.0/16", "2001:db8::/32", a bare address = one
// host): parsing with a clear error, and whether an address falls in the block. IPv4-mapped
// IPv6 addresses ("::ffff:10.1.2.3", what a dual-stack socket reports) match IPv4 blocks.
//
// Called by: siprec/tenant_rules (SRC address rules), app/ config validation.
// Thread-safety: values; pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace callvault {

// An address as 16 bytes (IPv4 kept as IPv4-mapped IPv6) with its family.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool v4 = false;

  // "192.0.2.1", "2001:db8::1", "[2001:db8::1]", "::ffff:192.0.2.1" (→ v4). nullopt: not an
  // address.
  static std::optional<IpAddress> Parse(std::string_view text);
  // The host part of "ip:port" / "[v6]:port" / a bare address (what sip::SocketAddress prints).
  static std::optional<IpAddress> ParseHostOf(std::string_view endpoint);
};

class Cidr {
 public:
  // InvalidArgument naming what is wrong: not an address, a prefix length out of range
  // (0–32 / 0–128), host bits set below the prefix ("10.1.2.3/16": did you mean 10.1.0.0/16?).
  static Result<Cidr> Parse(std::string_view text);

  bool Contains(const IpAddress& address) const;
  // The canonical text ("10.1.0.0/16").
  std::string ToString() const;

 private:
  IpAddress network_;
  int prefix_ = 0;  // in bits of the address's own family
};

}  // namespace callvault
