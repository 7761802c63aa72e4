#include "http/csrf.h"

#include <openssl/crypto.h>

#include <cctype>

#include "http/http_options.h"

namespace callvault::http {
namespace {

std::string Lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "http://host:80" → "http://host", "https://host:443" → "https://host"; else as is.
std::string WithoutDefaultPort(std::string origin) {
  if (origin.starts_with("http://") && origin.ends_with(":80")) origin.resize(origin.size() - 3);
  if (origin.starts_with("https://") && origin.ends_with(":443")) origin.resize(origin.size() - 4);
  return origin;
}

}  // namespace

bool IsSafeMethod(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

std::string ExpectedOrigin(std::string_view public_origin, std::string_view host_header) {
  if (!public_origin.empty()) return std::string(public_origin);
  return WithoutDefaultPort("http://" + Lower(host_header));
}

Status CheckOrigin(std::string_view origin_header, std::string_view expected) {
  if (origin_header.empty()) return Status::Ok();
  if (WithoutDefaultPort(Lower(origin_header)) == WithoutDefaultPort(Lower(expected))) {
    return Status::Ok();
  }
  return PermissionDeniedError("Origin " + std::string(origin_header.substr(0, 200)) +
                               " is not " + std::string(expected));
}

Status CheckCsrf(std::string_view sent, std::string_view session_token,
                 std::string_view origin_header, std::string_view expected) {
  if (sent.empty()) return PermissionDeniedError("no X-CSRF-Token header");
  if (session_token.empty() || sent.size() != session_token.size() ||
      CRYPTO_memcmp(sent.data(), session_token.data(), sent.size()) != 0) {
    return PermissionDeniedError("wrong X-CSRF-Token");
  }
  return CheckOrigin(origin_header, expected);
}

}  // namespace callvault::http
