// PublicOrigin (http_options.h): the portal's origin from http.public_url, for the CSRF check
// and the cookie's Secure flag.
#include <cctype>
#include <string>

#include "http/http_options.h"

namespace callvault::http {

Result<std::string> PublicOrigin(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("http.public_url: " + std::string(why) + " (\"" +
                                std::string(url.substr(0, 200)) + "\")");
  };
  std::string lower;
  for (char c : url) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string scheme;
  if (lower.starts_with("https://")) {
    scheme = "https";
  } else if (lower.starts_with("http://")) {
    scheme = "http";
  } else {
    return bad("must start with http:// or https://");
  }
  std::string rest = lower.substr(scheme.size() + 3);
  if (rest.ends_with("/")) rest.pop_back();
  if (rest.empty()) return bad("no host");
  for (char c : rest) {
    if (c == '/' || c == '?' || c == '#' || c == '@') {
      return bad("scheme, host and port only (no path, query, fragment or user)");
    }
    if (static_cast<unsigned char>(c) <= 0x20 || c == '\\') return bad("invalid character");
  }
  // Host, optional ":port" (a bracketed IPv6 literal keeps its colons).
  std::string host = rest, port;
  const size_t close = rest.rfind(']');
  const size_t colon = rest.rfind(':');
  if (colon != std::string::npos && (close == std::string::npos || colon > close)) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) < 1 ||
        std::stoi(port) > 65535) {
      return bad("bad port");
    }
  }
  if (host.empty()) return bad("no host");
  // A DNS name or IPv4 address (IDNs in their xn-- form), or a bracketed IPv6 literal.
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']' ||
        host.find_first_not_of("0123456789abcdef:.", 1) != host.size() - 1) {
      return bad("bad IPv6 literal");
    }
  } else if (host.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-_") !=
             std::string::npos) {
    return bad("the host has characters a host name cannot have");
  }
  if ((scheme == "https" && port == "443") || (scheme == "http" && port == "80")) port.clear();
  return scheme + "://" + host + (port.empty() ? "" : ":" + port);
}

}  // namespace callvault::http
