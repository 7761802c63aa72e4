#include "http/api_util.h"

#include "base/time_format.h"
#include "http/response.h"

namespace callvault::http {
namespace {

nlohmann::json OptionalTime(const std::optional<int64_t>& ms) {
  return ms ? nlohmann::json(FormatRfc3339Ms(*ms)) : nlohmann::json(nullptr);
}

nlohmann::json Party(const std::string& name, const std::string& aor, const std::string& number) {
  return {{"name", name}, {"aor", aor}, {"number", number}};
}

}  // namespace

nlohmann::json CallSummaryJson(const catalog::CallSummary& c) {
  nlohmann::json j = {
      {"id", c.call_id},
      {"node", c.node_id},
      {"tenant", c.tenant.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.tenant)},
      {"state", CallStateName(c.state)},
      {"end_reason", c.end_reason},
      {"started", FormatRfc3339Ms(c.started_ms)},
      {"answered", OptionalTime(c.answered_ms)},
      {"ended", OptionalTime(c.ended_ms)},
      {"duration_ms", c.duration_ms},
      {"caller", Party(c.caller_name, c.caller_aor, c.caller_number)},
      {"callee", Party(c.callee_name, c.callee_aor, c.callee_number)},
      {"tags", c.tags},
  };
  if (c.audio_format.empty()) {
    j["audio"] = nullptr;
  } else {
    j["audio"] = {{"format", c.audio_format}, {"bytes", c.audio_bytes}};
  }
  return j;
}

nlohmann::json CallDetailJson(const catalog::CallDetail& d) {
  nlohmann::json j = CallSummaryJson(d.summary);
  j["sip_call_id"] = d.sip_call_id;
  j["siprec_session_id"] = d.siprec_session_id;
  if (j["audio"].is_object()) {
    j["audio"]["sha256"] = d.audio_sha256;
    j["audio"]["url"] = "/api/v1/calls/" + d.summary.call_id + "/audio";
  }
  if (d.location && !d.location->location.empty()) {
    j["storage"] = {{"location", d.location->location},
                    {"stored_bytes", d.location->stored_bytes},
                    {"relocated", OptionalTime(d.location->relocated_ms)}};
  } else {
    j["storage"] = {{"location", "local"}, {"node", d.summary.node_id}};
  }
  if (d.location && !d.location->key_id.empty()) j["storage"]["encrypted"] = true;
  j["legal_hold"] = d.legal_hold ? LegalHoldJson(*d.legal_hold) : nlohmann::json(nullptr);
  j["participants"] = d.participants;
  j["streams"] = d.streams;
  j["metadata"] = d.metadata;
  return j;
}

nlohmann::json LegalHoldJson(const catalog::LegalHold& h) {
  return {{"reason", h.reason}, {"by", h.held_by}, {"since", FormatRfc3339Ms(h.created_ms)}};
}

nlohmann::json UserJson(const catalog::User& u) {
  return {{"id", u.id},
          {"username", u.username},
          {"role", u.role},
          {"tenant", u.tenant.empty() ? nlohmann::json(nullptr) : nlohmann::json(u.tenant)},
          {"disabled", u.disabled},
          {"created", FormatRfc3339Ms(u.created_ms)}};
}

nlohmann::json TokenJson(const catalog::ApiToken& t, const std::string& username) {
  return {{"id", t.api_id},
          {"user", username},
          {"name", t.name},
          {"created", FormatRfc3339Ms(t.created_ms)},
          {"expires", OptionalTime(t.expires_ms)},
          {"last_used", OptionalTime(t.last_used_ms)}};
}

std::optional<catalog::CallDetail> LoadVisibleCall(Api& api, const RequestContext& ctx,
                                                   const std::string& id, httplib::Response& res) {
  Result<catalog::CallDetail> call = api.catalog->GetCall(id);
  if (!call.ok()) {
    if (call.status().code() == StatusCode::kNotFound) {
      WriteError(res, 404, "not_found", "no call " + id);
    } else {
      WriteStatusError(res, call.status());
    }
    return std::nullopt;
  }
  const std::string& scope = ctx.principal ? ctx.principal->user.tenant : "";
  if (!scope.empty() && call->summary.tenant != scope) {
    WriteError(res, 404, "not_found", "no call " + id);
    return std::nullopt;
  }
  return std::move(call).value();
}

storage::RecordingRef RecordingRefOf(const catalog::CallDetail& call) {
  storage::RecordingRef ref{
      .call_id = call.summary.call_id, .audio_file = call.audio_file, .sha256 = call.audio_sha256};
  if (call.location) {
    ref.location = call.location->location;
    if (!call.location->stored_sha256.empty()) ref.sha256 = call.location->stored_sha256;
    if (!call.location->key_id.empty()) ref.encrypted = true;
  }
  // Manifest version 2 `audio.encryption` (docs/formats/manifest.md).
  if (call.manifest.is_object()) {
    const auto audio = call.manifest.find("audio");
    if (audio != call.manifest.end() && audio->is_object()) {
      const auto enc = audio->find("encryption");
      if (enc != audio->end() && enc->is_object()) ref.encrypted = true;
    }
  }
  return ref;
}

std::optional<catalog::User> LoadUserInScope(Api& api, const RequestContext& ctx,
                                             const std::string& name, httplib::Response& res) {
  Result<catalog::User> user = api.catalog->GetUser(name);
  const std::string& scope = ctx.principal ? ctx.principal->user.tenant : "";
  if (!user.ok() || (!scope.empty() && user->tenant != scope)) {
    if (user.ok() || user.status().code() == StatusCode::kNotFound) {
      WriteError(res, 404, "not_found", "no user " + name);
    } else {
      WriteStatusError(res, user.status());
    }
    return std::nullopt;
  }
  return std::move(user).value();
}

Status CheckMembers(const nlohmann::json& body, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : body.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == key;
    if (!known) return InvalidArgumentError("unknown field '" + key.substr(0, 64) + "'");
  }
  return Status::Ok();
}

nlohmann::json RunReadinessChecks(const Api& api, std::string_view role, bool* all_ok) {
  bool ok = true;
  nlohmann::json checks = nlohmann::json::array();
  for (const ReadinessCheck& c : api.checks) {
    if (!role.empty() && c.role != role) continue;
    Status s = c.check ? c.check() : InternalError("no check function");
    ok = ok && s.ok();
    nlohmann::json entry = {{"name", c.name}, {"role", c.role}, {"ok", s.ok()}};
    if (!s.ok()) entry["message"] = s.message();
    checks.push_back(std::move(entry));
  }
  if (all_ok) *all_ok = ok;
  return checks;
}

}  // namespace callvault::http
