// The Cookie request header (RFC 6265 §4.2, §5.4) and the portal's session cookie (issue 16):
// parsing what browsers send, and writing the Set-Cookie that carries the session. Pure; the
// Authenticator reads the session cookie through it, the fuzzer checks it.
//
// Parsing is lenient the way RFC 6265 §5.4 asks of a reader: pairs are split on ';', optional
// whitespace around them is dropped, a pair without '=' or whose name is not an RFC 9110 token,
// or whose value has a byte outside cookie-octet (after one pair of surrounding DQUOTEs is
// removed), is skipped — a stray cookie of another application never makes the request fail. A
// header longer than kMaxCookieHeader or with more than kMaxCookies pairs is InvalidArgument.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace callvault::http {

inline constexpr size_t kMaxCookieHeader = 8192;
inline constexpr size_t kMaxCookies = 64;

using Cookies = std::vector<std::pair<std::string, std::string>>;

// Every well-formed pair of a Cookie header, in order.
Result<Cookies> ParseCookieHeader(std::string_view header);

// The value of the first cookie named `name`; nullopt when there is none.
std::optional<std::string> FindCookie(const Cookies& cookies, std::string_view name);

// True for an RFC 9110 token (a cookie name); for a cookie-octet string (a cookie value).
bool IsCookieName(std::string_view name);
bool IsCookieValue(std::string_view value);

// The session cookie's name: "__Host-cv_session" when the portal is served over https (the
// prefix makes browsers insist on Secure, Path=/ and no Domain), else "cv_session".
std::string SessionCookieName(bool secure);

// A Set-Cookie value for the session: `name=value; Path=/; HttpOnly; SameSite=Strict`, plus
// `; Secure` when `secure`, plus `; Max-Age=<max_age_s>` when it is ≥ 0 (0 deletes it).
// REQUIRES: IsCookieName(name) and IsCookieValue(value).
std::string SessionSetCookie(std::string_view name, std::string_view value, bool secure,
                             long long max_age_s);

}  // namespace callvault::http
