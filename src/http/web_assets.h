// The web portal's files (web/), embedded into the binary at build time by
// cmake/EmbedWeb.cmake: the portal needs nothing on disk and cannot drift from the server that
// serves it. Each file is served at /assets/<WebAssetsHash()>/<path> (immutable, long cache);
// HTML files have their `{{assets}}` placeholders replaced by that prefix already.
//
// Who calls it: http/pages.cc. Thread-safety: immutable data.
#pragma once

#include <span>
#include <string_view>

namespace callvault::http {

struct WebAsset {
  std::string_view path;          // relative to web/: "app.js", "pages/calls.js", "index.html"
  std::string_view content_type;  // "text/javascript; charset=utf-8", …
  std::string_view sha256;        // lowercase hex of `body` (the ETag)
  std::string_view body;
};

// Every embedded file, sorted by path.
std::span<const WebAsset> WebAssets();
// 16 hex digits naming this build's asset set (changes when any file changes).
std::string_view WebAssetsHash();

}  // namespace callvault::http
