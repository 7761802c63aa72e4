#include "base/cidr.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace callvault {
namespace {

constexpr std::array<uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool IsMapped(const std::array<uint8_t, 16>& b) {
  return std::memcmp(b.data(), kMappedPrefix.data(), kMappedPrefix.size()) == 0;
}

}  // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() > 45) return std::nullopt;
  const std::string s(text);
  IpAddress a;
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    std::memcpy(a.bytes.data(), kMappedPrefix.data(), kMappedPrefix.size());
    std::memcpy(a.bytes.data() + 12, &v4, 4);
    a.v4 = true;
    return a;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) != 1) return std::nullopt;
  std::memcpy(a.bytes.data(), &v6, 16);
  a.v4 = IsMapped(a.bytes);
  return a;
}

std::optional<IpAddress> IpAddress::ParseHostOf(std::string_view endpoint) {
  if (!endpoint.empty() && endpoint.front() == '[') {
    const size_t close = endpoint.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    return Parse(endpoint.substr(1, close - 1));
  }
  // One ':' = "ip:port"; several = a bare IPv6 address.
  const size_t colon = endpoint.find(':');
  if (colon != std::string_view::npos && endpoint.find(':', colon + 1) == std::string_view::npos) {
    return Parse(endpoint.substr(0, colon));
  }
  return Parse(endpoint);
}

Result<Cidr> Cidr::Parse(std::string_view text) {
  const std::string shown(text);
  const size_t slash = text.find('/');
  std::optional<IpAddress> address = IpAddress::Parse(text.substr(0, slash));
  if (!address) {
    return InvalidArgumentError("\"" + shown +
                                "\" is not an IP address or block (192.0.2.0/24, 2001:db8::/32)");
  }
  const int max_bits = address->v4 ? 32 : 128;
  int prefix = max_bits;
  if (slash != std::string_view::npos) {
    const std::string_view bits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
    if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size() || prefix < 0 ||
        prefix > max_bits) {
      return InvalidArgumentError("\"" + shown + "\": the prefix length must be 0–" +
                                  std::to_string(max_bits));
    }
  }
  Cidr c;
  c.network_ = *address;
  c.prefix_ = prefix;
  // Host bits below the prefix are almost always a typo: say so rather than guess.
  const int offset = address->v4 ? 96 : 0;
  IpAddress masked = *address;
  for (int bit = offset + prefix; bit < 128; ++bit) {
    masked.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  if (masked.bytes != address->bytes) {
    c.network_ = masked;
    return InvalidArgumentError("\"" + shown + "\" has host bits set below the /" +
                                std::to_string(prefix) + " prefix (did you mean " + c.ToString() +
                                "?)");
  }
  return c;
}

bool Cidr::Contains(const IpAddress& address) const {
  if (address.v4 != network_.v4) return false;
  const int offset = network_.v4 ? 96 : 0;
  const int end = offset + prefix_;
  for (int bit = offset; bit < end;) {
    if (bit % 8 == 0 && end - bit >= 8) {
      if (address.bytes[bit / 8] != network_.bytes[bit / 8]) return false;
      bit += 8;
      continue;
    }
    const uint8_t m = static_cast<uint8_t>(0x80u >> (bit % 8));
    if ((address.bytes[bit / 8] & m) != (network_.bytes[bit / 8] & m)) return false;
    ++bit;
  }
  return true;
}

std::string Cidr::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (network_.v4) {
    inet_ntop(AF_INET, network_.bytes.data() + 12, buf, sizeof(buf));
  } else {
    inet_ntop(AF_INET6, network_.bytes.data(), buf, sizeof(buf));
  }
  return std::string(buf) + "/" + std::to_string(prefix_);
}

}  // namespace callvault
