// CSRF defence of the web portal's cookie sessions (issue 16). A browser attaches the session
// cookie to any request a page makes to this server, so a request authenticated by the cookie
// that changes something (POST, PUT, PATCH, DELETE) must also prove it came from the portal's
// own pages:
//   - `X-CSRF-Token` equal to the session's token (constant-time compare): the token is only
//     readable by the portal's own scripts (GET /api/v1/session, same-origin), and
//   - `Origin`, when the browser sends it, equal to the portal's origin (http.public_url, else
//     "http://" + Host), so a foreign page cannot make one even with a leaked token.
// SameSite=Strict on the cookie is a third layer. Bearer tokens and Basic credentials are not
// sent by browsers on their own, so those requests are not checked.
//
// Who calls it: HttpServer (Dispatch), the login handler (Origin only). Thread-safety: pure.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace callvault::http {

// True for the methods that must not change anything (GET, HEAD, OPTIONS).
bool IsSafeMethod(std::string_view method);

// The origin pages are served from: `public_origin` (PublicOrigin() of http.public_url) when
// set, else "http://" + the Host header (lowercased).
std::string ExpectedOrigin(std::string_view public_origin, std::string_view host_header);

// OK when `origin_header` is empty (not sent) or equals `expected` (ignoring ASCII case and a
// default port); PermissionDenied naming the foreign origin otherwise ("null" included).
[[nodiscard]] Status CheckOrigin(std::string_view origin_header, std::string_view expected);

// OK when `sent` equals `session_token` (constant time) and CheckOrigin passes;
// PermissionDenied saying which check failed.
[[nodiscard]] Status CheckCsrf(std::string_view sent, std::string_view session_token,
                               std::string_view origin_header, std::string_view expected);

}  // namespace callvault::http
