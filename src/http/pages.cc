#include "http/pages.h"

#include <algorithm>

#include "http/response.h"

namespace callvault::http {
namespace {

constexpr Page kPages[] = {
    {"/", PageAccess::kRedirect, "/calls"},
    {"/login", PageAccess::kPublic, ""},
    {"/calls", PageAccess::kPermission, "calls:read"},
    {"/calls/{id}", PageAccess::kPermission, "calls:read"},
    {"/live", PageAccess::kPermission, "calls:read"},
    {"/users", PageAccess::kPermission, "users:manage"},
    {"/roles", PageAccess::kPermission, "users:manage"},
    {"/tenants", PageAccess::kPermission, "tenants:manage"},
    {"/tokens", PageAccess::kSession, ""},
    {"/audit", PageAccess::kPermission, "audit:read"},
    {"/system", PageAccess::kPermission, "system:read"},
};

// Replaces the server's default `Cache-Control: no-store` (httplib puts default headers into
// the response before the handler runs; set_header would add a second one).
void SetCacheControl(httplib::Response& res, const char* value) {
  res.headers.erase("Cache-Control");
  res.set_header("Cache-Control", value);
}

bool EtagMatches(const httplib::Request& req, std::string_view etag) {
  const std::string inm = req.get_header_value("If-None-Match");
  return !inm.empty() && (inm == "*" || inm.find(etag) != std::string::npos);
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::span<const Page> Pages() { return kPages; }

const WebAsset* FindWebAsset(std::string_view path) {
  std::span<const WebAsset> assets = WebAssets();
  auto it = std::lower_bound(assets.begin(), assets.end(), path,
                             [](const WebAsset& a, std::string_view p) { return a.path < p; });
  if (it == assets.end() || it->path != path) return nullptr;
  return &*it;
}

void WritePage(const httplib::Request& req, httplib::Response& res, const WebAsset& asset,
               int status) {
  const std::string etag = "\"" + std::string(asset.sha256) + "\"";
  res.set_header("Content-Security-Policy", std::string(kContentSecurityPolicy));
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "same-origin");
  SetCacheControl(res, "no-cache");
  res.set_header("ETag", etag);
  if (status == 200 && EtagMatches(req, etag)) {
    res.status = 304;
    return;
  }
  res.status = status;
  res.set_content(std::string(asset.body), std::string(asset.content_type));
}

void WriteAsset(const httplib::Request& req, httplib::Response& res, std::string_view hash,
                std::string_view path) {
  const WebAsset* asset = hash == WebAssetsHash() ? FindWebAsset(path) : nullptr;
  if (asset == nullptr) return WriteError(res, 404, "not_found", "no such file");
  const std::string etag = "\"" + std::string(asset->sha256) + "\"";
  SetCacheControl(res, "public, max-age=31536000, immutable");
  res.set_header("ETag", etag);
  if (EtagMatches(req, etag)) {
    res.status = 304;
    return;
  }
  res.status = 200;
  res.set_content(std::string(asset->body), std::string(asset->content_type));
}

std::string LoginRedirect(const httplib::Request& req) {
  std::string target = req.path;
  std::string query;
  for (const auto& [name, value] : req.params) {
    query += (query.empty() ? "?" : "&") + PercentEncode(name) + "=" + PercentEncode(value);
  }
  return "/login?next=" + PercentEncode(target + query);
}

}  // namespace callvault::http
