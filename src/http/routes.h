// The route table of the HTTP server: one entry per (method, path) with its access rule and
// handler. HttpServer registers exactly these routes and openapi_test checks them against
// openapi.json both ways, so the table, the server and the document cannot drift apart.
// Paths use OpenAPI templates ("/api/v1/calls/{id}"); the template is also the `route` label
// of the request metrics (bounded: never the raw path).
//
// Handlers receive the Api (shared services) and a RequestContext; they write the whole response
// (JSON, or an error through response.h) and never throw on input or catalog errors.
//
// Who calls it: HttpServer, openapi_test. Thread-safety: the table is immutable; handlers run on
// httplib's worker threads concurrently and only use the thread-safe services in Api.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "catalog/catalog.h"
#include "http/audit_dedupe.h"
#include "http/auth.h"
#include "http/http_options.h"
#include "retention/retention.h"
#include "storage/purger.h"
#include "storage/recording_store.h"

namespace callvault::waveform {
class WaveformCache;
}  // namespace callvault::waveform

namespace callvault::http {

// One readiness check of /readyz: `role` is "recorder" or "web"; `check` returns OK when ready,
// else a Status whose message says what is wrong (shown in the 503 body). Called on httplib
// worker threads, possibly concurrently.
struct ReadinessCheck {
  std::string name;  // "spool_writable", "rtp_ports", "disk_space", …
  std::string role;  // "recorder" | "web"
  std::function<Status()> check;
};

// Services shared by the handlers.
struct Api {
  HttpOptions options;
  catalog::Catalog* catalog = nullptr;
  // Where the audio lives: served and deleted only through it. Null: audio is 404 and a delete
  // removes the catalog entry only.
  storage::RecordingStore* recordings = nullptr;
  // Removes a deleted call's bytes (DELETE purges at once; what fails stays pending for the
  // purger's rounds). Null: deletions stay pending for whoever purges.
  storage::Purger* purger = nullptr;
  // The retention policies (POST /api/v1/retention/run). Null: 503 retention_unavailable.
  retention::Retention* retention = nullptr;
  // Waveform peaks (GET /api/v1/calls/{id}/waveform), cached. Null: 503 waveform_unavailable.
  waveform::WaveformCache* waveforms = nullptr;
  Registry* registry = nullptr;
  const Clock* clock = nullptr;
  Authenticator* auth = nullptr;
  std::vector<ReadinessCheck> checks;
  // The node's recorder controls (app/ wires them; empty: 503 node_control_unavailable):
  // drain (OPTIONS and new INVITEs get 503, calls in progress go on) and back, without exiting.
  std::function<void(bool draining)> set_draining;
  std::function<bool()> draining;
  std::string node_id;
  // GET /api/v1/system: the version string, the process start, and app/'s part of the answer
  // (`backlog`, `disk`, `active_calls`; empty: those stay empty).
  std::string version;
  int64_t started_ms = 0;
  std::function<nlohmann::json()> system_status;
  // PublicOrigin() of options.public_url ("" = take the Host header): the CSRF Origin check.
  std::string public_origin;
  // call.play / call.download at most once per user and call per 10 minutes (HttpServer's).
  AuditDedupe* audit_dedupe = nullptr;

  int64_t NowMs() const;
};

struct RequestContext {
  const Principal* principal = nullptr;  // null on public routes
  std::vector<std::string> params;       // path parameters, in template order (URL-decoded)
  std::string remote;                    // client address
  // Appends an audit entry (actor = principal's username); a failure is logged, not returned:
  // the change it records has already happened. `tenant` is whose entry it is (docs/api.md
  // §Audit): the call's for call.*, the user's for user, token and session entries, the
  // tenant's own for tenant.*, "" = system-wide (only users without a tenant see it).
  void Audit(Api& api, std::string action, std::string target, std::string tenant,
             nlohmann::json detail = nlohmann::json::object()) const;
  // The same, returning the failure: for entries written before what they record happens
  // (a recording played or downloaded is served only once audited).
  [[nodiscard]] Status TryAudit(Api& api, std::string action, std::string target,
                                std::string tenant,
                                nlohmann::json detail = nlohmann::json::object()) const;
};

using RouteHandler = void (*)(Api&, const RequestContext&, const httplib::Request&,
                              httplib::Response&);

enum class Access : uint8_t {
  kPublic,         // no credentials (/healthz, /readyz)
  kAuthenticated,  // any valid user
  kPermission,     // a user whose role has `permission`
  kMetrics,        // metrics:read, or public when HttpOptions::public_metrics
};

struct Route {
  std::string_view method;  // "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
  std::string_view path;    // OpenAPI template
  Access access;
  std::string_view permission;  // for kPermission
  RouteHandler handler;
};

// Every route of the server.
std::span<const Route> Routes();
// ECMAScript regex for a path template: "{name}" → "([^/]+)", the rest literal.
std::string RouteRegex(std::string_view path);

// Handlers (api_*.cc).
void HandleHealthz(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleReadyz(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleMetrics(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleOpenApi(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleListCalls(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleGetCall(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleDeleteCall(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleGetAudio(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleGetWaveform(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleAddTags(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleSetTags(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleRemoveTag(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleListUsers(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleCreateUser(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleUpdateUser(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleDeleteUser(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleMe(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleListTokens(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleCreateToken(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleDeleteToken(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleListAudit(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleSetHold(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleReleaseHold(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleRunRetention(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleGetNode(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleSetDrain(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleCreateSession(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleGetSession(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleDeleteSession(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleLive(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleSystem(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleListRoles(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleListTenants(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandlePutTenant(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);
void HandleDeleteTenant(Api&, const RequestContext&, const httplib::Request&, httplib::Response&);

// The embedded openapi.json (generated openapi_embed.cc).
std::string_view OpenApiDocument();

}  // namespace callvault::http
