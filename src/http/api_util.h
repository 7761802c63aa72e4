// Helpers shared by the route handlers: the JSON shapes of calls, users and tokens
// (docs/api.md), and loading a call the caller may see.
//
// Who calls it: api_*.cc. Thread-safety: free functions; see routes.h.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "catalog/catalog.h"
#include "http/routes.h"
#include "storage/recording_store.h"

namespace callvault::http {

nlohmann::json CallSummaryJson(const catalog::CallSummary& call);
nlohmann::json CallDetailJson(const catalog::CallDetail& call);
nlohmann::json LegalHoldJson(const catalog::LegalHold& hold);
nlohmann::json UserJson(const catalog::User& user);
nlohmann::json TokenJson(const catalog::ApiToken& token, const std::string& username);

// The call `id` when it exists and the caller may see it (a tenant-scoped user only sees its
// tenant's calls: others are "not found", so their existence is not revealed). Otherwise
// writes the error response and returns nullopt.
std::optional<catalog::CallDetail> LoadVisibleCall(Api& api, const RequestContext& ctx,
                                                   const std::string& id, httplib::Response& res);

// The user `name` when it exists and the caller may manage it (a tenant-scoped caller only
// sees its tenant's users: others are "not found"). Otherwise writes the error response and
// returns nullopt.
std::optional<catalog::User> LoadUserInScope(Api& api, const RequestContext& ctx,
                                             const std::string& name, httplib::Response& res);

// What the recording store needs to find the call's recording.
storage::RecordingRef RecordingRefOf(const catalog::CallDetail& call);

// Runs the readiness checks of `role` ("" = every role) in order: [{name, role, ok, message?}].
// `*all_ok` (when given) says whether every one passed.
nlohmann::json RunReadinessChecks(const Api& api, std::string_view role, bool* all_ok = nullptr);

// The audit chains' heads as Prometheus text (callvault_audit_head_seq{origin},
// callvault_audit_head_info{origin,seq,hash} 1), appended to /metrics: read from the catalog
// at each scrape (a hash label changes with every entry, so these series are not kept in the
// Registry, whose series live for ever). "" when the catalog cannot be read.
std::string RenderAuditHeadMetrics(catalog::Catalog& catalog);

// Fails with InvalidArgument naming the first member of `body` not in `allowed`.
[[nodiscard]] Status CheckMembers(const nlohmann::json& body,
                                  std::initializer_list<std::string_view> allowed);

}  // namespace callvault::http
