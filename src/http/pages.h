// The web portal's pages and files (issue 16): a second route table, next to the API's
// (routes.h) but not part of the API (not in openapi.json). Every page is the same embedded
// shell (web/index.html, whose scripts pick the page from the path); what differs is the
// server-side access rule of each page — no session → 302 to /login?next=…, a role without
// the page's permission → 403 with web/forbidden.html. Hiding a link is not access control:
// the API routes behind each page check the same permissions again.
//
// Every HTML answer carries kContentSecurityPolicy (no inline script at all, nothing from other
// origins). Files are served from /assets/<WebAssetsHash()>/<path>, immutable.
//
// Who calls it: HttpServer (registers Pages(), serves them and the assets). Thread-safety:
// immutable tables and pure functions.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "http/web_assets.h"

namespace callvault::http {

inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'";

enum class PageAccess : uint8_t {
  kRedirect,    // 302 to `permission` (used as the target path)
  kPublic,      // no session needed (/login)
  kSession,     // any logged-in user
  kPermission,  // a user whose role has `permission`
};

struct Page {
  std::string_view path;  // OpenAPI-style template, as in routes.h
  PageAccess access;
  std::string_view permission;  // kPermission: the permission; kRedirect: the target
};

std::span<const Page> Pages();

// The embedded file at `path` (relative to web/); nullptr when there is none.
const WebAsset* FindWebAsset(std::string_view path);

// Answers `asset` as an HTML page with `status`: CSP and the other page headers, ETag and
// `Cache-Control: no-cache` (revalidated, so a new build is seen at once); 304 when the
// request's If-None-Match has the ETag.
void WritePage(const httplib::Request& req, httplib::Response& res, const WebAsset& asset,
               int status);
// Answers GET /assets/<hash>/<path>: the file, immutable for a year; 404 (JSON) for another
// build's hash or an unknown path.
void WriteAsset(const httplib::Request& req, httplib::Response& res, std::string_view hash,
                std::string_view path);
// "/login?next=<path and query, percent-encoded>".
std::string LoginRedirect(const httplib::Request& req);

}  // namespace callvault::http
