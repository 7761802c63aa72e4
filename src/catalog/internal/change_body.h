// The JSON bodies of change_log entries, per entity and op (docs/formats/catalog-schema.md
// §Change bodies): one writer and one reader per body, so that field names live here only.
// Readers refuse a body with a missing or mistyped field (InvalidArgument naming the field);
// unknown fields are ignored (a newer peer may add some).
//
// Called by: SqlCatalog (local mutations write, ApplyChanges reads), schema migration 3.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "catalog/catalog.h"

namespace callvault::catalog::internal {

// user upsert (key: username). `id` is not sent (local).
nlohmann::json UserBody(const User& user);
Result<User> ReadUserBody(const nlohmann::json& body);

// token upsert (key: api_id). The user is named by username (row ids differ between nodes);
// last_used_ms is node-local and not sent.
struct TokenBody {
  ApiToken token;  // without id, user_id, last_used_ms
  std::string username;
};
nlohmann::json WriteTokenBody(const ApiToken& token, const std::string& username);
Result<TokenBody> ReadTokenBody(const nlohmann::json& body);

// audit insert (key: uid). Since schema version 5 also the entry's tenant and, for an entry
// of an origin's chain, its origin, seq, prev_hash and hash (absent in older peers' bodies).
nlohmann::json AuditBody(const AuditEntry& entry);
Result<AuditEntry> ReadAuditBody(const nlohmann::json& body);

// call delete (key: call id): the tombstone, and what a node that has not ingested the call yet
// needs to hold its place and purge its bytes.
struct CallDeletion {
  std::string call_id, deleted_by, audio_file, node_id;
  int64_t deleted_ms = 0, started_ms = 0;
};
nlohmann::json CallDeletionBody(const CallDeletion& deletion);
Result<CallDeletion> ReadCallDeletionBody(const nlohmann::json& body);

// tag upsert / delete (key: TagKey).
struct TagRow {
  std::string call_id, tag;
  int64_t created_ms = 0;
};
nlohmann::json TagBody(const TagRow& tag);
Result<TagRow> ReadTagBody(const nlohmann::json& body);
// "<call id>/<tag>" (tags never contain '/').
std::string TagKey(const std::string& call_id, const std::string& tag);
// The inverse of TagKey: false when `key` has no '/' or an empty part.
bool SplitTagKey(const std::string& key, std::string* call_id, std::string* tag);

// legal_hold upsert (key: call id).
nlohmann::json LegalHoldBody(const LegalHold& hold);
Result<LegalHold> ReadLegalHoldBody(const nlohmann::json& body);

// tenant upsert (key: name).
nlohmann::json TenantBody(const Tenant& tenant);
Result<Tenant> ReadTenantBody(const nlohmann::json& body);

// setting upsert (key: name).
nlohmann::json SettingBody(const std::string& name, const std::string& value);
Result<std::string> ReadSettingValue(const nlohmann::json& body);

// The body of every delete: {} (the key says what goes).
nlohmann::json DeleteBody();

}  // namespace callvault::catalog::internal
