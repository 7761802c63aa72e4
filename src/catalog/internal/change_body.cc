#include "catalog/internal/change_body.h"

// The fields of each body, listed once for the writer and the reader
// (docs/formats/catalog-schema.md §Change bodies; persistent names: never rename). The reader
// (from_json) throws nlohmann::json exceptions on a missing or mistyped field: Read() turns
// them into InvalidArgument at once.
namespace callvault::catalog {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(User, username, password_hash, role, tenant, disabled,
                                   created_ms)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(AuditEntry, uid, at_ms, actor, action, target, detail, remote)
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

nlohmann::json AuditBody(const AuditEntry& entry) {
  nlohmann::json body = entry;
  if (!entry.detail.is_object()) body["detail"] = nlohmann::json::object();
  return body;
}
Result<AuditEntry> ReadAuditBody(const nlohmann::json& body) {
  CV_ASSIGN_OR_RETURN(AuditEntry e, Read<AuditEntry>(body));
  if (!e.detail.is_object()) return InvalidArgumentError("change body: detail is not an object");
  return e;
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

nlohmann::json TenantBody(const Tenant& tenant) { return tenant; }
Result<Tenant> ReadTenantBody(const nlohmann::json& body) { return Read<Tenant>(body); }

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
