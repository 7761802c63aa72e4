#include "http/http_server.h"

#include <httplib.h>

#include <chrono>

#include "base/log.h"
#include "base/thread_name.h"
#include "http/client_address.h"
#include "http/csrf.h"
#include "http/response.h"

namespace callvault::http {
namespace {

// What the access log and metrics need to know about the request being served on this thread.
// httplib serves a connection's requests on one pool thread and calls the pre-routing handler,
// the route handler and the logger on it, so a thread_local keyed by the Request's address is
// enough (a request that never reached routing — a 400 from the parser — has no entry).
struct RequestTrace {
  const httplib::Request* req = nullptr;
  std::chrono::steady_clock::time_point start;
  std::string_view route;
  std::string user;
};
thread_local RequestTrace t_trace;

void BeginTrace(const httplib::Request& req) {
  if (t_trace.req == &req) return;
  t_trace = RequestTrace{&req, std::chrono::steady_clock::now(), {}, {}};
}

// We answer Range ourselves (range.h); httplib must never slice or multipart a response.
void ClearRanges(const httplib::Request& req) {
  // The Request is a non-const local of httplib's process_request; handlers only see it const.
  const_cast<httplib::Request&>(req).ranges.clear();
}

// Debian's cpp-httplib answers `Accept-Encoding: br` (every browser sends it) with brotli at
// quality 11 — 20–50 ms of CPU for each script and JSON answer, more than the query behind it
// (bench/portal_bench). gzip at zlib's default level costs a fraction of a millisecond for the
// same bodies, so br is taken out of what the client offers before httplib sees it.
void DropBrotli(const httplib::Request& req) {
  auto& headers = const_cast<httplib::Request&>(req).headers;  // see ClearRanges
  auto it = headers.find("Accept-Encoding");
  if (it == headers.end()) return;
  std::string kept;
  std::string_view rest = it->second;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view coding = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) {
      coding.remove_prefix(1);
    }
    const std::string_view name = coding.substr(0, coding.find_first_of(" ;\t"));
    if (name.size() == 2 && (name[0] | 0x20) == 'b' && (name[1] | 0x20) == 'r') continue;
    if (coding.empty()) continue;
    kept += (kept.empty() ? "" : ", ") + std::string(coding);
  }
  it->second = kept;
}

}  // namespace

Status ValidateHttpOptions(const HttpOptions& o) {
  if (o.host.empty()) return InvalidArgumentError("http.host: must not be empty");
  if (o.port < 0 || o.port > 65535) return InvalidArgumentError("http.port: must be 0..65535");
  if (o.threads < 1 || o.threads > 1024) return InvalidArgumentError("http.threads: 1..1024");
  if (o.keep_alive_max_requests < 1) {
    return InvalidArgumentError("http.keep_alive_max_requests: must be >= 1");
  }
  if (o.keep_alive_timeout_s < 1 || o.keep_alive_timeout_s > 3600) {
    return InvalidArgumentError("http.keep_alive_timeout_s: 1..3600");
  }
  if (o.read_timeout_s < 1 || o.read_timeout_s > 3600) {
    return InvalidArgumentError("http.read_timeout_s: 1..3600");
  }
  if (o.write_timeout_s < 1 || o.write_timeout_s > 3600) {
    return InvalidArgumentError("http.write_timeout_s: 1..3600");
  }
  if (o.max_body_bytes < 1024 || o.max_body_bytes > 64 * 1024 * 1024) {
    return InvalidArgumentError("http.max_body_bytes: 1 KiB..64 MiB");
  }
  if (o.auth_cache_ttl_s < 0 || o.auth_cache_ttl_s > 3600) {
    return InvalidArgumentError("http.auth_cache_ttl_s: 0..3600");
  }
  if (o.max_concurrent_password_checks < 1 || o.max_concurrent_password_checks > 64) {
    return InvalidArgumentError("http.max_concurrent_password_checks: 1..64");
  }
  if (!o.public_url.empty()) {
    if (Result<std::string> origin = PublicOrigin(o.public_url); !origin.ok()) {
      return origin.status();
    }
  }
  CV_RETURN_IF_ERROR(ValidateTrustedProxies(o.trusted_proxies));
  if (o.login_max_failures < 1 || o.login_max_failures > 1000000) {
    return InvalidArgumentError("http.login_max_failures: 1..1000000");
  }
  if (o.login_lock_s < 1 || o.login_lock_s > 900) {
    return InvalidArgumentError("http.login_lock_s: 1..900");
  }
  if (o.session_idle_timeout_s < 60 || o.session_idle_timeout_s > 7 * 86400) {
    return InvalidArgumentError("http.session_idle_timeout_s: 60..604800");
  }
  if (o.session_max_age_s < 60 || o.session_max_age_s > 30 * 86400) {
    return InvalidArgumentError("http.session_max_age_s: 60..2592000");
  }
  for (char c : o.realm) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      return InvalidArgumentError("http.realm: no quotes, backslashes or control characters");
    }
  }
  return Status::Ok();
}

HttpServer::HttpServer(HttpOptions options, catalog::Catalog* catalog,
                       storage::RecordingStore* recordings, Registry* registry,
                       std::vector<ReadinessCheck> checks, const Clock* clock) {
  api_.options = std::move(options);
  api_.catalog = catalog;
  api_.recordings = recordings;
  api_.waveforms = &waveforms_;
  api_.audit_dedupe = &audit_dedupe_;
  api_.registry = registry;
  api_.clock = clock;
  api_.checks = std::move(checks);
  api_.checks.push_back({"catalog", "web", [catalog] { return catalog->Ping(); }});
  if (Result<std::string> origin = PublicOrigin(api_.options.public_url); origin.ok()) {
    api_.public_origin = *origin;  // a bad URL fails Start()
  }
  AuthOptions auth;
  auth.cache_ttl = std::chrono::seconds(api_.options.auth_cache_ttl_s);
  auth.max_concurrent_password_checks = std::max(1, api_.options.max_concurrent_password_checks);
  auth.session_idle_timeout = std::chrono::seconds(api_.options.session_idle_timeout_s);
  auth.session_max_age = std::chrono::seconds(api_.options.session_max_age_s);
  auth.secure_cookie = api_.public_origin.starts_with("https://");
  auth.throttle.max_failures = std::max(1, api_.options.login_max_failures);
  auth.throttle.first_lock = std::chrono::seconds(std::clamp(api_.options.login_lock_s, 1, 900));
  auth_ = std::make_unique<Authenticator>(catalog, clock, auth);
  api_.auth = auth_.get();

  auto requests = registry->AddCounterFamily("callvault_http_requests_total",
                                             "HTTP requests answered, by route template and "
                                             "status code.",
                                             {"route", "code"});
  CV_CHECK_MSG(requests.ok(), requests.status().ToString());
  requests_ = *requests;
  auto durations = registry->AddHistogramFamily(
      "callvault_http_request_duration_seconds",
      "Time from routing to the end of the response, by route template.",
      ExponentialBuckets(0.001, 4, 8), {"route"});
  CV_CHECK_MSG(durations.ok(), durations.status().ToString());
  durations_ = *durations;

  for (const Route& route : Routes()) {
    routes_.push_back({&route, std::regex(RouteRegex(route.path))});
  }
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Install() {
  httplib::Server& s = *server_;
  const HttpOptions& o = api_.options;
  const size_t threads = static_cast<size_t>(o.threads);
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_tcp_nodelay(true);
  s.set_keep_alive_max_count(static_cast<size_t>(o.keep_alive_max_requests));
  s.set_keep_alive_timeout(o.keep_alive_timeout_s);
  s.set_read_timeout(o.read_timeout_s, 0);
  s.set_write_timeout(o.write_timeout_s, 0);
  s.set_payload_max_length(o.max_body_bytes);
  s.set_default_headers({{"X-Content-Type-Options", "nosniff"}, {"Cache-Control", "no-store"}});

  for (const CompiledRoute& cr : routes_) {
    const Route* route = cr.route;
    auto handler = [this, route](const httplib::Request& req, httplib::Response& res) {
      Dispatch(*route, req, res);
    };
    const std::string pattern = RouteRegex(route->path);
    if (route->method == "GET") {
      s.Get(pattern, handler);
    } else if (route->method == "POST") {
      s.Post(pattern, handler);
    } else if (route->method == "PUT") {
      s.Put(pattern, handler);
    } else if (route->method == "PATCH") {
      s.Patch(pattern, handler);
    } else if (route->method == "DELETE") {
      s.Delete(pattern, handler);
    } else {
      CV_CHECK_MSG(false, std::string(route->method));
    }
  }

  for (const Page& page : Pages()) {
    s.Get(RouteRegex(page.path),
          [this, &page](const httplib::Request& req, httplib::Response& res) {
            ServePage(page, req, res);
          });
  }
  s.Get("/assets/([0-9a-f]{16})/([A-Za-z0-9_./-]+)",
        [](const httplib::Request& req, httplib::Response& res) {
          BeginTrace(req);
          t_trace.route = "/assets/{hash}/{path}";
          ClearRanges(req);
          WriteAsset(req, res, req.matches[1].str(), req.matches[2].str());
        });

  // `Expect: 100-continue` with a body over the limit gets 413 at once, not 100 and then 413.
  s.set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
    const uint64_t length = req.get_header_value<uint64_t>("Content-Length");
    if (length > api_.options.max_body_bytes) {
      WriteError(
          res, 413, "payload_too_large",
          "request body larger than " + std::to_string(api_.options.max_body_bytes) + " bytes");
      return 413;
    }
    return 100;
  });
  s.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
    BeginTrace(req);
    DropBrotli(req);
    return httplib::Server::HandlerResponse::Unhandled;
  });
  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        return HandleLibraryError(req, res) ? httplib::Server::HandlerResponse::Handled
                                            : httplib::Server::HandlerResponse::Unhandled;
      }));
  // Handlers catch their own exceptions (Dispatch); this one covers httplib's routing itself
  // (e.g. std::regex_error) so nothing escapes as a bare 500 with an EXCEPTION_WHAT header.
  s.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        CV_LOG_ERROR("http.exception", "path=\"{}\" what=\"{}\"", req.path, what);
        res.headers.clear();
        WriteError(res, 500, "internal", "internal error (logged)");
      });
  s.set_logger(
      [this](const httplib::Request& req, const httplib::Response& res) { Record(req, res); });
}

Status HttpServer::Start() {
  CV_RETURN_IF_ERROR(ValidateHttpOptions(api_.options));
  if (started_) return FailedPreconditionError("http server already started");
  server_ = std::make_unique<httplib::Server>();
  Install();
  const HttpOptions& o = api_.options;
  int port = o.port;
  if (port == 0) {
    port = server_->bind_to_any_port(o.host);
  } else if (!server_->bind_to_port(o.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    return UnavailableError("http: binding " + o.host + ":" + std::to_string(o.port) +
                            " failed (address in use, or not a local address)");
  }
  port_ = port;
  started_ = true;
  listen_returned_ = false;
  thread_ = std::thread([this] {
    SetCurrentThreadName("cv-http");
    server_->listen_after_bind();
    listen_returned_ = true;
  });
  CV_LOG_INFO("http.listening", "addr={}:{} threads={} public_metrics={}", o.host, port, o.threads,
              o.public_metrics);
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!started_) return;
  // httplib's stop() does nothing until the listening thread has marked itself running: a
  // Stop() right after Start() would leave that thread in accept() for ever. Wait for it.
  while (!server_->is_running() && !listen_returned_.load())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server_->stop();
  if (thread_.joinable()) thread_.join();
  started_ = false;
  CV_LOG_INFO("http.stopped", "port={}", port_.load());
}

void HttpServer::Dispatch(const Route& route, const httplib::Request& req, httplib::Response& res) {
  BeginTrace(req);
  t_trace.route = route.path;
  ClearRanges(req);
  res.status = 200;
  RequestContext ctx;
  ctx.remote = Client(req);
  for (size_t i = 1; i < req.matches.size(); ++i) ctx.params.push_back(req.matches[i].str());
  try {
    Principal principal;
    const bool public_route = route.access == Access::kPublic ||
                              (route.access == Access::kMetrics && api_.options.public_metrics);
    if (!public_route) {
      std::chrono::seconds retry_after{0};
      Result<Principal> p = Authenticate(req, &retry_after);
      if (!p.ok()) {
        if (p.status().code() == StatusCode::kResourceExhausted) {
          CV_LOG_INFO("http.login_locked", "remote={} route=\"{}\" retry_after_s={}", ctx.remote,
                      route.path, retry_after.count());
          res.set_header("Retry-After", std::to_string(retry_after.count()));
          return WriteError(
              res, 429, "too_many_attempts",
              "too many failed logins; try again in " + std::to_string(retry_after.count()) + " s");
        }
        if (p.status().code() != StatusCode::kUnauthenticated) {
          return WriteStatusError(res, p.status());
        }
        CV_LOG_INFO("http.auth_failed", "remote={} route=\"{}\" reason=\"{}\"", ctx.remote,
                    route.path, p.status().message());
        // A Basic challenge would make a browser pop up its own login dialog over the portal:
        // requests from a browser's fetch() (Sec-Fetch-Mode other than navigate) get Bearer only.
        const std::string mode = req.get_header_value("Sec-Fetch-Mode");
        const bool script = !mode.empty() && mode != "navigate";
        res.set_header("WWW-Authenticate", "Bearer realm=\"" + api_.options.realm + "\"" +
                                               (script ? std::string()
                                                       : ", Basic realm=\"" + api_.options.realm +
                                                             "\", charset=\"UTF-8\""));
        return WriteError(res, 401, "unauthenticated", "missing or invalid credentials");
      }
      principal = std::move(p).value();
      t_trace.user = principal.user.username;
      ctx.principal = &principal;
      if (principal.method == "session" && !IsSafeMethod(req.method)) {
        Status csrf = CheckCsrf(req.get_header_value("X-CSRF-Token"), principal.csrf_token,
                                req.get_header_value("Origin"),
                                ExpectedOrigin(api_.public_origin, req.get_header_value("Host")));
        if (!csrf.ok()) {
          CV_LOG_INFO("http.csrf_failed", "remote={} route=\"{}\" user={} reason=\"{}\"",
                      ctx.remote, route.path, principal.user.username, csrf.message());
          return WriteError(res, 403, "csrf_failed",
                            "missing or wrong X-CSRF-Token, or a foreign Origin");
        }
      }
      std::string_view needed = route.access == Access::kAuthenticated ? "" : route.permission;
      if (!needed.empty() && !principal.Can(needed)) {
        return WriteError(
            res, 403, "forbidden",
            "role '" + principal.user.role + "' lacks permission '" + std::string(needed) + "'");
      }
    }
    route.handler(api_, ctx, req, res);
  } catch (const std::exception& e) {
    CV_LOG_ERROR("http.exception", "route=\"{}\" what=\"{}\"", route.path, e.what());
    res.headers.clear();
    WriteError(res, 500, "internal", "internal error (logged)");
  }
}

Result<Principal> HttpServer::Authenticate(const httplib::Request& req,
                                           std::chrono::seconds* retry_after) {
  const std::string authorization = req.get_header_value("Authorization");
  const std::string cookie = req.get_header_value("Cookie");
  const std::string client = Client(req);
  return auth_->Authenticate(AuthRequest{authorization, cookie, client}, retry_after);
}

std::string HttpServer::Client(const httplib::Request& req) const {
  const std::vector<std::string>& trusted = api_.options.trusted_proxies;
  if (trusted.empty()) return req.remote_addr;
  std::vector<std::string> forwarded;
  const size_t n = req.get_header_value_count("X-Forwarded-For");
  for (size_t i = 0; i < n && i < 16; ++i) {
    forwarded.push_back(req.get_header_value("X-Forwarded-For", i));
  }
  return ClientAddress(req.remote_addr, forwarded, trusted);
}

void HttpServer::ServePage(const Page& page, const httplib::Request& req, httplib::Response& res) {
  BeginTrace(req);
  t_trace.route = page.path;
  ClearRanges(req);
  try {
    if (page.access == PageAccess::kRedirect) {
      res.set_redirect(std::string(page.permission), 302);
      return;
    }
    const WebAsset* shell = FindWebAsset("index.html");
    const WebAsset* forbidden = FindWebAsset("forbidden.html");
    if (shell == nullptr || forbidden == nullptr) {
      return WriteError(res, 500, "internal", "the web portal is not built into this binary");
    }
    if (page.access == PageAccess::kPublic) return WritePage(req, res, *shell, 200);
    Result<Principal> p = Authenticate(req, nullptr);
    if (!p.ok()) {
      if (p.status().code() == StatusCode::kUnavailable) {
        return WriteStatusError(res, p.status());
      }
      res.set_redirect(LoginRedirect(req), 302);
      return;
    }
    t_trace.user = p->user.username;
    if (page.access == PageAccess::kPermission && !p->Can(page.permission)) {
      CV_LOG_INFO("http.page_forbidden", "path=\"{}\" user={} role={} needs={}", req.path,
                  p->user.username, p->user.role, page.permission);
      return WritePage(req, res, *forbidden, 403);
    }
    WritePage(req, res, *shell, 200);
  } catch (const std::exception& e) {
    CV_LOG_ERROR("http.exception", "route=\"{}\" what=\"{}\"", page.path, e.what());
    res.headers.clear();
    WriteError(res, 500, "internal", "internal error (logged)");
  }
}

bool HttpServer::HandleLibraryError(const httplib::Request& req, httplib::Response& res) {
  // Responses our handlers made already carry their JSON; leave them alone.
  if (!res.body.empty() || res.content_provider_) return false;
  ClearRanges(req);
  const std::string method = req.method == "HEAD" ? std::string("GET") : req.method;
  if (res.status == 416 && req.has_header("Range")) {
    // httplib refused a Range header it could not parse before routing. RFC 9110 §14.2 says to
    // ignore such a header, so route a GET ourselves (no body to read); other methods get 400.
    if (method == "GET") {
      for (const CompiledRoute& cr : routes_) {
        auto& mreq = const_cast<httplib::Request&>(req);
        if (cr.route->method == "GET" && std::regex_match(mreq.path, mreq.matches, cr.regex)) {
          Dispatch(*cr.route, req, res);
          return true;
        }
      }
      res.status = 404;
    } else {
      WriteError(res, 400, "invalid_header", "unparseable Range header");
      return true;
    }
  }
  if (res.status == 404) {
    std::string allow;
    for (const CompiledRoute& cr : routes_) {
      if (std::regex_match(req.path, cr.regex) && cr.route->method != method) {
        allow += (allow.empty() ? "" : ", ") + std::string(cr.route->method);
      }
    }
    if (!allow.empty()) {
      res.set_header("Allow", allow);
      WriteError(res, 405, "method_not_allowed", "method not allowed; allowed: " + allow);
      return true;
    }
    WriteError(res, 404, "not_found", "no such resource");
    return true;
  }
  std::string message;
  switch (res.status) {
    case 400:
      message = "malformed HTTP request";
      break;
    case 413:
      message =
          "request body larger than " + std::to_string(api_.options.max_body_bytes) + " bytes";
      break;
    case 414:
      message = "request target too long";
      break;
    default:
      message = "HTTP error " + std::to_string(res.status);
      break;
  }
  WriteError(res, res.status, ErrorCodeForHttpStatus(res.status), message);
  return true;
}

void HttpServer::Record(const httplib::Request& req, const httplib::Response& res) {
  const bool traced = t_trace.req == &req;
  const std::string_view route = traced && !t_trace.route.empty() ? t_trace.route : "unmatched";
  double seconds = 0;
  if (traced) {
    seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t_trace.start).count();
  }
  requests_->With({std::string(route), std::to_string(res.status)})->Inc();
  durations_->With({std::string(route)})->Observe(seconds);
  const size_t bytes = res.body.empty() ? res.content_length_ : res.body.size();
  CV_LOG_INFO("http.request",
              "method={} path=\"{}\" route=\"{}\" status={} bytes={} ms={:.1f} remote={} user={}",
              req.method, req.path, route, res.status, bytes, seconds * 1000, Client(req),
              traced && !t_trace.user.empty() ? t_trace.user : "-");
  if (traced) t_trace = RequestTrace{};
}

}  // namespace callvault::http
