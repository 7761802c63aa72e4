// /api/v1/calls: list, detail, delete, tags.
#include <set>

#include "base/log.h"
#include "http/api_util.h"
#include "http/query.h"
#include "http/response.h"

namespace callvault::http {
namespace {

// {"tags":[...]} → the tags. Writes the error and returns nullopt when the body is wrong.
std::optional<std::vector<std::string>> ReadTags(const httplib::Request& req,
                                                 httplib::Response& res) {
  std::optional<nlohmann::json> body = ReadJsonBody(req, res);
  if (!body) return std::nullopt;
  if (Status s = CheckMembers(*body, {"tags"}); !s.ok()) {
    WriteError(res, 400, "invalid_argument", s.message());
    return std::nullopt;
  }
  const nlohmann::json& tags = (*body)["tags"];
  if (!tags.is_array() || tags.size() > 100) {
    WriteError(res, 400, "invalid_argument", "tags: an array of at most 100 strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const nlohmann::json& t : tags) {
    if (!t.is_string()) {
      WriteError(res, 400, "invalid_argument", "tags: an array of at most 100 strings");
      return std::nullopt;
    }
    out.push_back(t.get<std::string>());
  }
  return out;
}

// Answers with the call's current tags.
void WriteTags(Api& api, const RequestContext& ctx, const std::string& id, httplib::Response& res) {
  std::optional<catalog::CallDetail> call = LoadVisibleCall(api, ctx, id, res);
  if (call) WriteJson(res, 200, {{"id", id}, {"tags", call->summary.tags}});
}

void TagError(httplib::Response& res, const Status& s) {
  if (s.code() == StatusCode::kInvalidArgument) {
    return WriteError(res, 400, "invalid_argument", s.message());
  }
  WriteStatusError(res, s);
}

}  // namespace

void HandleListCalls(Api& api, const RequestContext& ctx, const httplib::Request& req,
                     httplib::Response& res) {
  Result<CallQuery> query = ParseCallQuery(req.params);
  if (!query.ok()) return WriteError(res, 400, "invalid_parameter", query.status().message());
  if (!ctx.principal->user.tenant.empty()) query->filter.tenant = ctx.principal->user.tenant;
  Result<catalog::CallPage> page = api.catalog->ListCalls(query->filter, query->page);
  if (!page.ok()) {
    if (page.status().code() == StatusCode::kInvalidArgument) {  // a cursor we did not make
      return WriteError(res, 400, "invalid_parameter",
                        "cursor: " + std::string(page.status().message()));
    }
    return WriteStatusError(res, page.status());
  }
  nlohmann::json calls = nlohmann::json::array();
  for (const catalog::CallSummary& c : page->calls) calls.push_back(CallSummaryJson(c));
  WriteJson(res, 200,
            {{"calls", std::move(calls)},
             {"next_cursor", page->next_cursor.empty() ? nlohmann::json(nullptr)
                                                       : nlohmann::json(page->next_cursor)}});
}

void HandleGetCall(Api& api, const RequestContext& ctx, const httplib::Request&,
                   httplib::Response& res) {
  std::optional<catalog::CallDetail> call = LoadVisibleCall(api, ctx, ctx.params[0], res);
  if (call) WriteJson(res, 200, CallDetailJson(*call));
}

// Marks the call deleted (a tombstone, so no later ingest brings it back), then deletes its
// recording (manifest, then audio) through the RecordingStore, and audits it.
void HandleDeleteCall(Api& api, const RequestContext& ctx, const httplib::Request&,
                      httplib::Response& res) {
  const std::string& id = ctx.params[0];
  std::optional<catalog::CallDetail> call = LoadVisibleCall(api, ctx, id, res);
  if (!call) return;
  if (call->summary.state == CallState::kActive) {
    return WriteError(res, 409, "call_active", "the call is still recording");
  }
  // Tombstone, audit entry and pending purge in one transaction: once this answers, the bytes
  // go even if the node crashes now.
  const catalog::AuditEntry audit{.at_ms = api.NowMs(),
                                  .actor = ctx.principal->user.username,
                                  .action = "call.delete",
                                  .remote = ctx.remote};
  if (Status s = api.catalog->DeleteCall(id, audit); !s.ok()) {
    if (s.code() == StatusCode::kFailedPrecondition) {
      return WriteError(res, 409, "legal_hold", std::string(s.message()));
    }
    return WriteStatusError(res, s);
  }
  CV_LOG_INFO("http.call_deleted", "call={} actor={} remote={}", id, ctx.principal->user.username,
              ctx.remote);
  if (api.purger != nullptr) {
    // Best effort now; a failure stays pending for the purger's rounds (and is logged there).
    api.purger->PurgeCall(id).IgnoreError();
  }
  res.status = 204;
}

// PUT /api/v1/calls/{id}/hold {"reason": "…"}: the call cannot be deleted until released.
void HandleSetHold(Api& api, const RequestContext& ctx, const httplib::Request& req,
                   httplib::Response& res) {
  const std::string& id = ctx.params[0];
  std::optional<catalog::CallDetail> call = LoadVisibleCall(api, ctx, id, res);
  if (!call) return;
  std::optional<nlohmann::json> body = ReadJsonBody(req, res);
  if (!body) return;
  std::string reason;
  if (auto it = body->find("reason"); it != body->end()) {
    if (!it->is_string() || it->get<std::string>().size() > 1000) {
      return WriteError(res, 400, "bad_request", "reason must be a string of at most 1000 bytes");
    }
    reason = it->get<std::string>();
  }
  if (reason.empty()) return WriteError(res, 400, "bad_request", "a hold needs a reason");
  const catalog::LegalHold hold{.call_id = id,
                                .held_by = ctx.principal->user.username,
                                .reason = reason,
                                .created_ms = api.NowMs()};
  if (Status s = api.catalog->SetLegalHold(hold); !s.ok()) return WriteStatusError(res, s);
  ctx.Audit(api, "call.hold", id, call->summary.tenant, {{"reason", reason}});
  Result<catalog::CallDetail> after = api.catalog->GetCall(id);
  if (!after.ok()) return WriteStatusError(res, after.status());
  WriteJson(res, 200, LegalHoldJson(*after->legal_hold));
}

void HandleReleaseHold(Api& api, const RequestContext& ctx, const httplib::Request&,
                       httplib::Response& res) {
  const std::string& id = ctx.params[0];
  std::optional<catalog::CallDetail> call = LoadVisibleCall(api, ctx, id, res);
  if (!call) return;
  if (!call->legal_hold) return WriteError(res, 404, "not_found", "call " + id + " is not held");
  if (Status s = api.catalog->ReleaseLegalHold(id); !s.ok()) return WriteStatusError(res, s);
  ctx.Audit(api, "call.release", id, call->summary.tenant, {{"reason", call->legal_hold->reason}});
  res.status = 204;
}

void HandleAddTags(Api& api, const RequestContext& ctx, const httplib::Request& req,
                   httplib::Response& res) {
  const std::string& id = ctx.params[0];
  std::optional<catalog::CallDetail> call = LoadVisibleCall(api, ctx, id, res);
  if (!call) return;
  std::optional<std::vector<std::string>> tags = ReadTags(req, res);
  if (!tags) return;
  if (Status s = api.catalog->AddTags(id, *tags); !s.ok()) return TagError(res, s);
  ctx.Audit(api, "call.tag", id, call->summary.tenant, {{"added", *tags}});
  WriteTags(api, ctx, id, res);
}

// Replaces the call's tags with the body's.
void HandleSetTags(Api& api, const RequestContext& ctx, const httplib::Request& req,
                   httplib::Response& res) {
  const std::string& id = ctx.params[0];
  std::optional<catalog::CallDetail> call = LoadVisibleCall(api, ctx, id, res);
  if (!call) return;
  std::optional<std::vector<std::string>> tags = ReadTags(req, res);
  if (!tags) return;
  if (Status s = api.catalog->AddTags(id, *tags); !s.ok()) return TagError(res, s);
  const std::set<std::string> wanted(tags->begin(), tags->end());
  std::vector<std::string> removed;
  for (const std::string& old : call->summary.tags) {
    if (wanted.count(old)) continue;
    if (Status s = api.catalog->RemoveTag(id, old); !s.ok()) return TagError(res, s);
    removed.push_back(old);
  }
  ctx.Audit(api, "call.tag", id, call->summary.tenant, {{"set", *tags}, {"removed", removed}});
  WriteTags(api, ctx, id, res);
}

void HandleRemoveTag(Api& api, const RequestContext& ctx, const httplib::Request&,
                     httplib::Response& res) {
  const std::string& id = ctx.params[0];
  const std::string& tag = ctx.params[1];
  std::optional<catalog::CallDetail> call = LoadVisibleCall(api, ctx, id, res);
  if (!call) return;
  if (Status s = api.catalog->RemoveTag(id, tag); !s.ok()) return TagError(res, s);
  ctx.Audit(api, "call.untag", id, call->summary.tenant, {{"removed", tag}});
  WriteTags(api, ctx, id, res);
}

}  // namespace callvault::http
