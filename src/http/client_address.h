// The client's address as the server should see it (login back-off, audit `remote`, request
// log). Behind a reverse proxy every connection comes from the proxy, so when the peer is one of
// `http.trusted_proxies` the client is read from X-Forwarded-For: walking its addresses from the
// right (the proxy appends what it saw), the first one that is not itself a trusted proxy. A
// header from anyone else is ignored (a client could write any address into it), and so is an
// entry that is not an IP address (then the peer's address stands).
//
// Who calls it: HttpServer. Thread-safety: pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace callvault::http {

// `forwarded_for`: every X-Forwarded-For header value of the request, in order.
std::string ClientAddress(std::string_view peer, const std::vector<std::string>& forwarded_for,
                          const std::vector<std::string>& trusted_proxies);

// InvalidArgument naming the entry that is not an IPv4 or IPv6 address.
[[nodiscard]] Status ValidateTrustedProxies(const std::vector<std::string>& trusted_proxies);

}  // namespace callvault::http
