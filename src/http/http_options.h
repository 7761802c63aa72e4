// HttpOptions: the configuration of the HTTP server (REST API /api/v1, /healthz, /readyz,
// /metrics). app/ maps the TOML keys `http.*` onto these fields, validates them with
// ValidateHttpOptions() (also run by `callvault check-config`) and passes them to HttpServer.
//
// Who calls it: app/ (config), HttpServer. Thread-safety: a plain value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace callvault::http {

struct HttpOptions {
  // Address to listen on. Default: "127.0.0.1" (put a TLS reverse proxy in front for remote use).
  std::string host = "127.0.0.1";
  // TCP port; 0 = let the OS choose (HttpServer::port() reports it). Default: 8080.
  int port = 8080;
  // Worker threads. cpp-httplib holds one thread per open connection (keep-alive included), so
  // this is also the number of connections served at once; others wait in the accept queue.
  // Default: 16.
  int threads = 16;
  // Requests served on one keep-alive connection before it is closed. Default: 100.
  int keep_alive_max_requests = 100;
  // Idle time after which a keep-alive connection is closed. Default: 5 s.
  int keep_alive_timeout_s = 5;
  // Time allowed for each read of the request (headers and body, per socket read) and each
  // write of the response. A client that stops sending is cut off after read_timeout_s.
  // Defaults: 10 s, 30 s.
  int read_timeout_s = 10;
  int write_timeout_s = 30;
  // Largest request body accepted (bodies are small JSON documents); larger → 413. Default: 64 KiB.
  size_t max_body_bytes = 64 * 1024;
  // Serve /metrics without authentication (for a Prometheus on a trusted network). Default: false
  // (then /metrics needs the permission metrics:read).
  bool public_metrics = false;
  // How long a successful Basic (user:password) verification is remembered, so that not every
  // request pays for Argon2id. The user row is still read on every request, so disabling a user
  // or changing the password takes effect at once. 0 disables the cache. Default: 60 s.
  int auth_cache_ttl_s = 60;
  // Password verifications (Argon2id, 64 MiB each) run at once; others wait. Bounds the memory
  // an attacker can make the server use. Default: 2.
  int max_concurrent_password_checks = 2;
  // Realm in WWW-Authenticate. Default: "callvault".
  std::string realm = "callvault";
  // The URL users open the web portal at, when it differs from what the browser sends as Host —
  // behind a reverse proxy that ends TLS: "https://rec.example.com" (scheme, host, optional
  // port; no path). https makes the session cookie `__Host-cv_session; Secure`; unsafe requests
  // on a session must come with this Origin. Default: "" = http://<Host header>.
  std::string public_url;
  // Login back-off (HTTP Basic and the portal's login): this many failures within 15 min, per
  // user name and per client address, lock that key for login_lock_s, doubling with each
  // further lock up to 15 min. Defaults: 5, 60 s.
  int login_max_failures = 5;
  int login_lock_s = 60;
  // Reverse proxies (IP addresses, exact) whose X-Forwarded-For names the client: the
  // rightmost address there that is not a trusted proxy becomes the client address of the
  // login back-off, the audit log and the request log. Default: none (the peer's address).
  std::vector<std::string> trusted_proxies;
  // A web session ends after this much time without a request (checked to the minute).
  // Default: 1800 s.
  int session_idle_timeout_s = 1800;
  // … and this long after the login, whatever happens. Default: 43200 s (12 h).
  int session_max_age_s = 43200;
};

// InvalidArgument naming the field ("http.threads: must be 1..1024").
[[nodiscard]] Status ValidateHttpOptions(const HttpOptions& options);

// The portal's origin ("https://rec.example.com:8443", lowercase scheme and host, no default
// port, no trailing slash) from `public_url`; InvalidArgument when it is not an http(s) URL
// without path, query, fragment or user info.
Result<std::string> PublicOrigin(std::string_view public_url);

}  // namespace callvault::http
