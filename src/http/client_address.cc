#include "http/client_address.h"

#include <arpa/inet.h>

#include <algorithm>

namespace callvault::http {
namespace {

bool IsIp(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

bool Trusted(const std::vector<std::string>& trusted, std::string_view address) {
  return std::find(trusted.begin(), trusted.end(), address) != trusted.end();
}

}  // namespace

std::string ClientAddress(std::string_view peer, const std::vector<std::string>& forwarded_for,
                          const std::vector<std::string>& trusted_proxies) {
  if (!Trusted(trusted_proxies, peer)) return std::string(peer);
  std::vector<std::string> hops;
  for (const std::string& header : forwarded_for) {
    std::string_view rest = header;
    while (true) {
      const size_t comma = rest.find(',');
      hops.push_back(Trim(rest.substr(0, comma)));
      if (comma == std::string_view::npos || hops.size() > 64) break;
      rest.remove_prefix(comma + 1);
    }
  }
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    if (!IsIp(*it)) break;  // garbage: trust nothing further left
    if (!Trusted(trusted_proxies, *it)) return *it;
  }
  return std::string(peer);
}

Status ValidateTrustedProxies(const std::vector<std::string>& trusted_proxies) {
  for (const std::string& p : trusted_proxies) {
    if (!IsIp(p)) {
      return InvalidArgumentError("http.trusted_proxies: \"" + p.substr(0, 64) +
                                  "\" is not an IPv4 or IPv6 address");
    }
  }
  return Status::Ok();
}

}  // namespace callvault::http
