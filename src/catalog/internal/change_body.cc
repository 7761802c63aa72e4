#include "catalog/internal/change_body.h"

// The fields of each body, listed once for the writer and the reader
// (docs/formats/catalog-schema.md §Change bodies; persistent names: never rename). The reader
// (from_json) throws nlohmann::json exceptions on a missing or mistyped field: Read() turns
// them into InvalidArgument at once.
namespace callvault::catalog {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(User, username, password_hash, role, tenant, disabled,
                                   created_ms)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(LegalHold, call_id, held_by, reason, created_ms)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Tenant, name, display_name, created_ms)
}  // namespace callvault::catalog

namespace callvault::catalog::internal {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CallDeletion, call_id, deleted_ms, deleted_by, audio_file,
                                   node_id, started_ms)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TagRow, call_id, tag, created_ms)

namespace {

template <typename T>
Result<T> Read(const nlohmann::json& body) {
  if (!body.is_object()) return InvalidArgumentError("change body: not a JSON object");
  try {
    return body.get<T>();
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(std::string("change body: ") + e.what());
  }
}

}  // namespace

nlohmann::json UserBody(const User& user) { return user; }
Result<User> ReadUserBody(const nlohmann::json& body) { return Read<User>(body); }

nlohmann::json WriteTokenBody(const ApiToken& t, const std::string& username) {
  return {{"api_id", t.api_id},
          {"username", username},
          {"name", t.name},
          {"token_hash", t.token_hash},
          {"created_ms", t.created_ms},
          {"expires_ms", t.expires_ms ? nlohmann::json(*t.expires_ms) : nlohmann::json()}};
}

Result<TokenBody> ReadTokenBody(const nlohmann::json& body) {
  if (!body.is_object()) return InvalidArgumentError("change body: not a JSON object");
  try {
    TokenBody out;
    body.at("api_id").get_to(out.token.api_id);
    body.at("username").get_to(out.username);
    body.at("name").get_to(out.token.name);
    body.at("token_hash").get_to(out.token.token_hash);
    body.at("created_ms").get_to(out.token.created_ms);
    if (const nlohmann::json& expires = body.at("expires_ms"); !expires.is_null()) {
      out.token.expires_ms = expires.get<int64_t>();
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(std::string("change body: ") + e.what());
  }
}

nlohmann::json AuditBody(const AuditEntry& e) {
  nlohmann::json body = {{"uid", e.uid},       {"at_ms", e.at_ms},   {"actor", e.actor},
                         {"action", e.action}, {"target", e.target}, {"detail", e.detail},
                         {"remote", e.remote}, {"tenant", e.tenant}};
  if (!e.detail.is_object()) body["detail"] = nlohmann::json::object();
  if (!e.hash.empty()) {
    body["origin"] = e.origin;
    body["seq"] = e.seq;
    body["prev_hash"] = e.prev_hash;
    body["hash"] = e.hash;
  }
  return body;
}

Result<AuditEntry> ReadAuditBody(const nlohmann::json& body) {
  if (!body.is_object()) return InvalidArgumentError("change body: not a JSON object");
  try {
    AuditEntry e;
    body.at("uid").get_to(e.uid);
    body.at("at_ms").get_to(e.at_ms);
    body.at("actor").get_to(e.actor);
    body.at("action").get_to(e.action);
    body.at("target").get_to(e.target);
    e.detail = body.at("detail");
    body.at("remote").get_to(e.remote);
    if (!e.detail.is_object()) return InvalidArgumentError("change body: detail is not an object");
    // Version 5 fields; a body from an older peer has none of them.
    if (auto it = body.find("tenant"); it != body.end()) it->get_to(e.tenant);
    if (body.contains("hash")) {
      body.at("origin").get_to(e.origin);
      body.at("seq").get_to(e.seq);
      body.at("prev_hash").get_to(e.prev_hash);
      body.at("hash").get_to(e.hash);
    }
    return e;
  } catch (const nlohmann::json::exception& ex) {
    return InvalidArgumentError(std::string("change body: ") + ex.what());
  }
}

nlohmann::json CallDeletionBody(const CallDeletion& deletion) { return deletion; }
Result<CallDeletion> ReadCallDeletionBody(const nlohmann::json& body) {
  return Read<CallDeletion>(body);
}

nlohmann::json TagBody(const TagRow& tag) { return tag; }
Result<TagRow> ReadTagBody(const nlohmann::json& body) { return Read<TagRow>(body); }

std::string TagKey(const std::string& call_id, const std::string& tag) {
  return call_id + "/" + tag;
}

bool SplitTagKey(const std::string& key, std::string* call_id, std::string* tag) {
  const size_t slash = key.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == key.size()) return false;
  *call_id = key.substr(0, slash);
  *tag = key.substr(slash + 1);
  return true;
}

nlohmann::json LegalHoldBody(const LegalHold& hold) { return hold; }
Result<LegalHold> ReadLegalHoldBody(const nlohmann::json& body) { return Read<LegalHold>(body); }

// `disabled` (schema version 5) is optional on read: older peers do not send it.
nlohmann::json TenantBody(const Tenant& tenant) {
  nlohmann::json body = tenant;
  body["disabled"] = tenant.disabled;
  return body;
}
Result<Tenant> ReadTenantBody(const nlohmann::json& body) {
  CV_ASSIGN_OR_RETURN(Tenant t, Read<Tenant>(body));
  if (auto it = body.find("disabled"); it != body.end()) {
    if (!it->is_boolean())
      return InvalidArgumentError("change body: \"disabled\" is not a boolean");
    t.disabled = it->get<bool>();
  }
  return t;
}

nlohmann::json SettingBody(const std::string& name, const std::string& value) {
  return {{"name", name}, {"value", value}};
}
Result<std::string> ReadSettingValue(const nlohmann::json& body) {
  if (!body.is_object() || !body.contains("value") || !body["value"].is_string()) {
    return InvalidArgumentError("change body: no string \"value\"");
  }
  return body["value"].get<std::string>();
}

nlohmann::json DeleteBody() { return nlohmann::json::object(); }

}  // namespace callvault::catalog::internal
