#include "http/cookie.h"

#include <string>

namespace callvault::http {
namespace {

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsTchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E (no CTL, space, DQUOTE, comma,
// semicolon, backslash).
bool IsCookieOctet(unsigned char c) {
  return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
         (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

}  // namespace

bool IsCookieName(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (!IsTchar(c)) return false;
  return true;
}

bool IsCookieValue(std::string_view value) {
  for (unsigned char c : value)
    if (!IsCookieOctet(c)) return false;
  return true;
}

Result<Cookies> ParseCookieHeader(std::string_view header) {
  if (header.size() > kMaxCookieHeader)
    return InvalidArgumentError("Cookie: longer than " + std::to_string(kMaxCookieHeader) +
                                " bytes");
  Cookies out;
  size_t pairs = 0;
  while (!header.empty()) {
    const size_t semi = header.find(';');
    const std::string_view pair = TrimOws(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    if (pair.empty()) continue;
    if (++pairs > kMaxCookies)
      return InvalidArgumentError("Cookie: more than " + std::to_string(kMaxCookies) + " cookies");
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = TrimOws(pair.substr(0, eq));
    std::string_view value = TrimOws(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    if (!IsCookieName(name) || !IsCookieValue(value)) continue;
    out.emplace_back(std::string(name), std::string(value));
  }
  return out;
}

std::optional<std::string> FindCookie(const Cookies& cookies, std::string_view name) {
  for (const auto& [n, v] : cookies)
    if (n == name) return v;
  return std::nullopt;
}

std::string SessionCookieName(bool secure) { return secure ? "__Host-cv_session" : "cv_session"; }

std::string SessionSetCookie(std::string_view name, std::string_view value, bool secure,
                             long long max_age_s) {
  std::string out;
  out.append(name).append("=").append(value).append("; Path=/; HttpOnly; SameSite=Strict");
  if (secure) out += "; Secure";
  if (max_age_s >= 0) out += "; Max-Age=" + std::to_string(max_age_s);
  return out;
}

}  // namespace callvault::http
