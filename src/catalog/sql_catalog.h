// SqlCatalog: the one Catalog implementation, SQL through SOCI over a session pool; the few
// statements that differ between SQLite and PostgreSQL come from internal/dialect.h. Built by
// OpenCatalog (catalog.h), which owns URL parsing and migrations.
//
// Methods are split by concern: sql_catalog_ingest.cc (manifests, active calls),
// sql_catalog_calls.cc (list, get, tags, deletion), sql_catalog_users.cc (roles, users,
// tokens, audit), sql_catalog_lifecycle.cc (locations, purges, legal holds, retention).
//
// Thread-safety: every method is thread-safe (SessionPool leases one session per call).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/internal/call_row.h"
#include "catalog/internal/session_pool.h"

namespace callvault::catalog::internal {

class SqlCatalog final : public Catalog {
 public:
  SqlCatalog(std::unique_ptr<SessionPool> pool, int schema_version);

  Status IngestManifests(const std::vector<recording::Manifest>& manifests) override;
  Status UpsertActive(const std::vector<ActiveCall>& calls) override;
  Status RemoveActive(const std::string& call_id) override;
  Result<std::vector<std::string>> ActiveCallIds(const std::string& node_id) override;

  Result<CallPage> ListCalls(const CallFilter& filter, const PageRequest& page) override;
  Result<CallDetail> GetCall(const std::string& call_id) override;

  Status AddTags(const std::string& call_id, const std::vector<std::string>& tags) override;
  Status RemoveTag(const std::string& call_id, const std::string& tag) override;
  Status MarkDeleted(const std::string& call_id, const std::string& actor, int64_t at_ms) override;
  Result<bool> IsDeleted(const std::string& call_id) override;
  Status DeleteCall(const std::string& call_id, const AuditEntry& audit) override;

  Status RecordLocation(const RecordingLocation& loc) override;
  Result<std::optional<RecordingLocation>> GetLocation(const std::string& call_id) override;
  Result<std::vector<RecordingLocation>> PendingPurges(int limit) override;
  Status MarkPurged(const std::string& call_id, int64_t at_ms) override;
  Status SetLegalHold(const LegalHold& hold) override;
  Status ReleaseLegalHold(const std::string& call_id) override;
  Result<std::vector<CallSummary>> FindRetentionCandidates(const RetentionQuery& query,
                                                           const std::string& after_call_id,
                                                           int limit) override;

  Result<std::vector<Role>> ListRoles() override;
  Result<int64_t> CreateUser(const User& user) override;
  Result<User> GetUser(const std::string& username) override;
  Result<User> GetUserById(int64_t id) override;
  Result<std::vector<User>> ListUsers() override;
  Status UpdateUser(const User& user) override;
  Status DeleteUser(int64_t id) override;
  Result<int64_t> CreateToken(const ApiToken& token) override;
  Result<ApiToken> FindToken(const std::string& token_hash) override;
  Result<std::vector<ApiToken>> ListTokens(int64_t user_id) override;
  Status DeleteToken(int64_t id) override;
  Status TouchToken(int64_t id, int64_t at_ms) override;

  Result<int64_t> AppendAudit(const AuditEntry& entry) override;
  Result<std::vector<AuditEntry>> ListAudit(int64_t after_id, int limit) override;

  Status Ping() override;
  int SchemaVersion() const override { return schema_version_; }
  std::string_view Backend() const override { return pool_->dialect().name; }

 private:
  Result<std::vector<User>> QueryUsers(const std::string& where, const std::string& key,
                                       int64_t id);

  std::unique_ptr<SessionPool> pool_;
  const int schema_version_;
};

int64_t NowMs();

// Whether a call exists and is not deleted.
bool CallVisible(soci::session& sql, const std::string& call_id);
// Tombstones `call_id` inside the caller's write transaction (MarkDeleted's rows): true when it
// was deleted now, false when it already was; NotFound when there is no such call.
Result<bool> TombstoneCall(soci::session& sql, const std::string& call_id, const std::string& actor,
                           int64_t at_ms);
// The call's location row and legal hold (GetCall).
void LoadLifecycle(soci::session& sql, CallDetail* call);

}  // namespace callvault::catalog::internal
