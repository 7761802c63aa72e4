#include "catalog/internal/change_body.h"

#include <optional>

namespace callvault::catalog::internal {
namespace {

// Reads the fields of one body; the first missing or mistyped field becomes status().
class Fields {
 public:
  explicit Fields(const nlohmann::json& body) : body_(body) {
    if (!body_.is_object()) status_ = InvalidArgumentError("change body: not a JSON object");
  }

  std::string Str(const char* name) {
    const nlohmann::json* v = Find(name);
    if (v == nullptr) return "";
    if (!v->is_string()) {
      Wrong(name, "a string");
      return "";
    }
    return v->get<std::string>();
  }
  int64_t Int(const char* name) {
    const nlohmann::json* v = Find(name);
    if (v == nullptr) return 0;
    if (!v->is_number_integer()) {
      Wrong(name, "an integer");
      return 0;
    }
    return v->get<int64_t>();
  }
  // null or absent: nullopt.
  std::optional<int64_t> OptionalInt(const char* name) {
    if (!body_.is_object() || !body_.contains(name) || body_[name].is_null()) return std::nullopt;
    return Int(name);
  }
  bool Bool(const char* name) {
    const nlohmann::json* v = Find(name);
    if (v == nullptr) return false;
    if (!v->is_boolean()) {
      Wrong(name, "true or false");
      return false;
    }
    return v->get<bool>();
  }
  nlohmann::json Object(const char* name) {
    const nlohmann::json* v = Find(name);
    if (v == nullptr) return nlohmann::json::object();
    if (!v->is_object()) {
      Wrong(name, "an object");
      return nlohmann::json::object();
    }
    return *v;
  }

  // The value built from the fields, or the first error.
  template <typename T>
  Result<T> Done(T value) const {
    if (!status_.ok()) return status_;
    return value;
  }

 private:
  const nlohmann::json* Find(const char* name) {
    if (!status_.ok()) return nullptr;
    auto it = body_.find(name);
    if (it == body_.end()) {
      status_ = InvalidArgumentError(std::string("change body: no field \"") + name + "\"");
      return nullptr;
    }
    return &*it;
  }
  void Wrong(const char* name, const char* what) {
    status_ = InvalidArgumentError(std::string("change body: \"") + name + "\" is not " + what);
  }

  const nlohmann::json& body_;
  Status status_;
};

}  // namespace

nlohmann::json UserBody(const User& u) {
  return {{"username", u.username}, {"password_hash", u.password_hash},
          {"role", u.role},         {"tenant", u.tenant},
          {"disabled", u.disabled}, {"created_ms", u.created_ms}};
}

Result<User> ReadUserBody(const nlohmann::json& body) {
  Fields f(body);
  User u;
  u.username = f.Str("username");
  u.password_hash = f.Str("password_hash");
  u.role = f.Str("role");
  u.tenant = f.Str("tenant");
  u.disabled = f.Bool("disabled");
  u.created_ms = f.Int("created_ms");
  return f.Done(std::move(u));
}

nlohmann::json WriteTokenBody(const ApiToken& t, const std::string& username) {
  return {{"api_id", t.api_id},
          {"username", username},
          {"name", t.name},
          {"token_hash", t.token_hash},
          {"created_ms", t.created_ms},
          {"expires_ms", t.expires_ms ? nlohmann::json(*t.expires_ms) : nlohmann::json()}};
}

Result<TokenBody> ReadTokenBody(const nlohmann::json& body) {
  Fields f(body);
  TokenBody out;
  out.token.api_id = f.Str("api_id");
  out.username = f.Str("username");
  out.token.name = f.Str("name");
  out.token.token_hash = f.Str("token_hash");
  out.token.created_ms = f.Int("created_ms");
  out.token.expires_ms = f.OptionalInt("expires_ms");
  return f.Done(std::move(out));
}

nlohmann::json AuditBody(const AuditEntry& e) {
  return {
      {"uid", e.uid},       {"at_ms", e.at_ms},
      {"actor", e.actor},   {"action", e.action},
      {"target", e.target}, {"detail", e.detail.is_object() ? e.detail : nlohmann::json::object()},
      {"remote", e.remote}};
}

Result<AuditEntry> ReadAuditBody(const nlohmann::json& body) {
  Fields f(body);
  AuditEntry e;
  e.uid = f.Str("uid");
  e.at_ms = f.Int("at_ms");
  e.actor = f.Str("actor");
  e.action = f.Str("action");
  e.target = f.Str("target");
  e.detail = f.Object("detail");
  e.remote = f.Str("remote");
  return f.Done(std::move(e));
}

nlohmann::json CallDeletionBody(const CallDeletion& d) {
  return {{"call_id", d.call_id},       {"deleted_ms", d.deleted_ms}, {"deleted_by", d.deleted_by},
          {"audio_file", d.audio_file}, {"node_id", d.node_id},       {"started_ms", d.started_ms}};
}

Result<CallDeletion> ReadCallDeletionBody(const nlohmann::json& body) {
  Fields f(body);
  CallDeletion d;
  d.call_id = f.Str("call_id");
  d.deleted_ms = f.Int("deleted_ms");
  d.deleted_by = f.Str("deleted_by");
  d.audio_file = f.Str("audio_file");
  d.node_id = f.Str("node_id");
  d.started_ms = f.Int("started_ms");
  return f.Done(std::move(d));
}

nlohmann::json TagBody(const TagRow& t) {
  return {{"call_id", t.call_id}, {"tag", t.tag}, {"created_ms", t.created_ms}};
}

Result<TagRow> ReadTagBody(const nlohmann::json& body) {
  Fields f(body);
  TagRow t;
  t.call_id = f.Str("call_id");
  t.tag = f.Str("tag");
  t.created_ms = f.Int("created_ms");
  return f.Done(std::move(t));
}

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

nlohmann::json LegalHoldBody(const LegalHold& h) {
  return {{"call_id", h.call_id},
          {"held_by", h.held_by},
          {"reason", h.reason},
          {"created_ms", h.created_ms}};
}

Result<LegalHold> ReadLegalHoldBody(const nlohmann::json& body) {
  Fields f(body);
  LegalHold h;
  h.call_id = f.Str("call_id");
  h.held_by = f.Str("held_by");
  h.reason = f.Str("reason");
  h.created_ms = f.Int("created_ms");
  return f.Done(std::move(h));
}

nlohmann::json TenantBody(const Tenant& t) {
  return {{"name", t.name}, {"display_name", t.display_name}, {"created_ms", t.created_ms}};
}

Result<Tenant> ReadTenantBody(const nlohmann::json& body) {
  Fields f(body);
  Tenant t;
  t.name = f.Str("name");
  t.display_name = f.Str("display_name");
  t.created_ms = f.Int("created_ms");
  return f.Done(std::move(t));
}

nlohmann::json SettingBody(const std::string& name, const std::string& value) {
  return {{"name", name}, {"value", value}};
}

Result<std::string> ReadSettingValue(const nlohmann::json& body) {
  Fields f(body);
  std::string value = f.Str("value");
  return f.Done(std::move(value));
}

nlohmann::json DeleteBody() { return nlohmann::json::object(); }

}  // namespace callvault::catalog::internal
