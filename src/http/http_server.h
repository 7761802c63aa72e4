// HttpServer: the node's HTTP endpoint — REST API /api/v1 (routes.h), /healthz, /readyz,
// /metrics — on cpp-httplib 0.11.4, hardened as DESIGN.md §Dependencies requires: TCP_NODELAY,
// a sized worker pool, bounded keep-alive, read/write timeouts, a body limit, Range handled by
// us (range.h) and never by httplib, and every error (httplib's own 400/404/413/414 included)
// answered as JSON {"error":{"code","message"}}; no HTML, no exception escapes a handler.
// Each request is counted in callvault_http_requests_total{route,code} and timed in
// callvault_http_request_duration_seconds{route} (route = the template, or "unmatched"), and
// logged as one `http.request` line.
//
//   HttpServer server(options, catalog, &recordings, &registry,
//                     {{"spool", "recorder", SpoolCheck}});
//   CV_RETURN_IF_ERROR(server.Start());   // port() is known from here on
//   ...
//   server.Stop();
//
// Who calls it: app/ (serve), the http tests. Thread-safety: Start/Stop from one thread; port()
// from any thread after Start. Requests are served on the pool's threads.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <regex>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/status.h"
#include "catalog/catalog.h"
#include "http/auth.h"
#include "http/http_options.h"
#include "http/pages.h"
#include "http/routes.h"
#include "storage/recording_store.h"
#include "waveform/cache.h"

namespace httplib {
class Server;
}

namespace callvault::http {

class HttpServer {
 public:
  // REQUIRES: `catalog`, `recordings` (may be null: no audio), `registry` and `clock` outlive the
  // server. A web-role readiness check "catalog" (catalog->Ping()) is always added to `checks`.
  HttpServer(HttpOptions options, catalog::Catalog* catalog, storage::RecordingStore* recordings,
             Registry* registry, std::vector<ReadinessCheck> checks,
             const Clock* clock = RealClock());
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The purger DELETE hands deleted calls to, and the retention policies the API runs (either
  // may be null). REQUIRES: before Start(); both outlive the server.
  void SetLifecycle(storage::Purger* purger, retention::Retention* retention) {
    api_.purger = purger;
    api_.retention = retention;
  }

  // The recorder controls of /api/v1/node (drain without exit). REQUIRES: before Start().
  void SetNodeControl(std::string node_id, std::function<void(bool)> set_draining,
                      std::function<bool()> draining) {
    api_.node_id = std::move(node_id);
    api_.set_draining = std::move(set_draining);
    api_.draining = std::move(draining);
  }

  // What GET /api/v1/system shows besides readiness: the version, the process start, and
  // app/'s backlogs, disks and active calls (a JSON object with any of "backlog", "disk",
  // "active_calls"; called on request threads). REQUIRES: before Start().
  void SetSystemInfo(std::string version, int64_t started_ms,
                     std::function<nlohmann::json()> status) {
    api_.version = std::move(version);
    api_.started_ms = started_ms;
    api_.system_status = std::move(status);
  }

  // Validates the options, binds host:port and starts serving on a background thread.
  // InvalidArgument for bad options, Unavailable when the address cannot be bound.
  [[nodiscard]] Status Start();
  // Stops accepting, closes connections and joins the threads. Idempotent.
  void Stop();
  // The bound port (the chosen one when options.port was 0). REQUIRES: Start() succeeded.
  int port() const { return port_.load(); }

 private:
  struct CompiledRoute {
    const Route* route;
    std::regex regex;
  };

  void Install();
  void Dispatch(const Route& route, const httplib::Request& req, httplib::Response& res);
  // A portal page (pages.h): its access rule, then the shell or the 403 page.
  void ServePage(const Page& page, const httplib::Request& req, httplib::Response& res);
  // The client's address: the peer's, or X-Forwarded-For's behind a trusted proxy.
  std::string Client(const httplib::Request& req) const;
  // The request's credentials: Authorization header, else the session cookie.
  Result<Principal> Authenticate(const httplib::Request& req, std::chrono::seconds* retry_after);
  bool HandleLibraryError(const httplib::Request& req, httplib::Response& res);
  void Record(const httplib::Request& req, const httplib::Response& res);

  Api api_;
  waveform::WaveformCache waveforms_;  // api_.waveforms
  AuditDedupe audit_dedupe_;           // api_.audit_dedupe
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<httplib::Server> server_;
  std::vector<CompiledRoute> routes_;
  std::optional<Family<Counter>> requests_;
  std::optional<Family<Histogram>> durations_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};  // set by thread_ when listening ended
  std::atomic<int> port_{0};
  bool started_ = false;
};

}  // namespace callvault::http
