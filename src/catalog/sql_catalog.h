// SqlCatalog: the one Catalog implementation, SQL through SOCI over a session pool; the few
// statements that differ between SQLite and PostgreSQL come from internal/dialect.h. Built by
// OpenCatalog (catalog.h), which owns URL parsing and migrations.
//
// Methods are split by concern: sql_catalog_ingest.cc (manifests, active calls),
// sql_catalog_calls.cc (list, get, tags, deletion), sql_catalog_users.cc (roles, users,
// tokens), sql_catalog_audit.cc (the audit log and its chains), sql_catalog_lifecycle.cc
// (locations, purges, legal holds, retention), sql_catalog_config.cc (tenants, settings),
// sql_catalog_changes.cc (the change log: reading, applying a peer's changes, cursors). Every
// replicated mutation runs in InReplicatedTransaction and records its change with `changes_`
// (internal/change_log.h).
//
// Thread-safety: every method is thread-safe (SessionPool leases one session per call).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/internal/call_row.h"
#include "catalog/internal/change_log.h"
#include "catalog/internal/session_pool.h"

namespace callvault::catalog::internal {

class SqlCatalog final : public Catalog {
 public:
  // `changes` stamps this node's changes (its clock already seeded from the database).
  SqlCatalog(std::unique_ptr<SessionPool> pool, int schema_version,
             std::unique_ptr<ChangeStamper> changes);

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
  Result<std::vector<RecordingCopy>> FindCopies(const std::string& sip_call_id) override;
  Result<std::vector<std::string>> FindUnreconciledCopies(int64_t since_ms, int limit) override;

  Result<std::vector<Role>> ListRoles() override;
  Result<int64_t> CreateUser(const User& user) override;
  Result<User> GetUser(const std::string& username) override;
  Result<User> GetUserById(int64_t id) override;
  Result<std::vector<User>> ListUsers() override;
  Status UpdateUser(const User& user) override;
  Status DeleteUser(int64_t id) override;
  Result<std::string> CreateToken(const ApiToken& token) override;
  Result<ApiToken> FindToken(const std::string& token_hash) override;
  Result<std::vector<ApiToken>> ListTokens(int64_t user_id) override;
  Status DeleteToken(const std::string& api_id) override;
  Status TouchToken(int64_t id, int64_t at_ms) override;

  Result<int64_t> AppendAudit(const AuditEntry& entry) override;
  Result<std::vector<AuditEntry>> ListAudit(int64_t after_id, int limit) override;
  Result<std::vector<AuditEntry>> FindAudit(const AuditFilter& filter) override;
  Result<std::vector<AuditHead>> AuditHeads() override;
  Result<std::vector<AuditChainRow>> ScanAuditChains(const std::string& after_origin,
                                                     int64_t after_seq, int64_t after_id,
                                                     int limit) override;
  Status CreateSession(const WebSession& session) override;
  Result<WebSession> GetSession(const std::string& id_hash) override;
  Status TouchSession(const std::string& id_hash, int64_t at_ms) override;
  Status DeleteSession(const std::string& id_hash) override;

  Status UpsertTenant(const Tenant& tenant) override;
  Status DeleteTenant(const std::string& name) override;
  Result<std::vector<Tenant>> ListTenants() override;
  Result<std::string> GetSetting(const std::string& name) override;
  Status PutSetting(const std::string& name, const std::string& value) override;

  Result<std::vector<Change>> ChangesAfter(int64_t after_seq, int limit) override;
  Result<ApplyResult> ApplyChanges(const std::vector<Change>& changes,
                                   std::chrono::milliseconds max_skew) override;
  Result<int64_t> GetCursor(const std::string& peer) override;
  Status SetCursor(const std::string& peer, int64_t after_seq) override;

  Status Ping() override;
  int SchemaVersion() const override { return schema_version_; }
  std::string_view Backend() const override { return pool_->dialect().name; }

 private:
  Result<std::vector<User>> QueryUsers(const std::string& where, const std::string& key,
                                       int64_t id);
  // Runs `fn` in a replicated write transaction (InReplicatedTransaction) on a pooled session.
  Status Replicated(std::string_view what, SessionPool::Retry retry,
                    const std::function<Status(soci::session&)>& fn);
  // Appends `entry` to this node's audit chain and records it in the change log, inside the
  // caller's replicated transaction (sql_catalog_audit.cc). Returns the row id.
  Result<int64_t> AppendLocalAudit(soci::session& sql, AuditEntry* entry);
  // One change of ApplyChanges, in its own savepoint (sql_catalog_changes.cc).
  void ApplyOne(soci::session& sql, const Change& change, std::chrono::milliseconds max_skew,
                ApplyResult* result);

  std::unique_ptr<SessionPool> pool_;
  const int schema_version_;
  const std::unique_ptr<ChangeStamper> changes_;
};

int64_t NowMs();

// Whether a call exists and is not deleted.
bool CallVisible(soci::session& sql, const std::string& call_id);
// Tombstones `call_id` inside the caller's write transaction (MarkDeleted's rows): true when it
// was deleted now, false when it already was; NotFound when there is no such call.
Result<bool> TombstoneCall(soci::session& sql, const std::string& call_id, const std::string& actor,
                           int64_t at_ms);
// InvalidArgument unless `tag` is 1–64 bytes of [A-Za-z0-9_.:-].
Status CheckTag(const std::string& tag);
// Records the replicated deletion of tombstoned call `call_id` (entity "call", op "delete").
void RecordCallDeletion(soci::session& sql, ChangeStamper& changes, const std::string& call_id);
// The call's location row and legal hold (GetCall).
void LoadLifecycle(soci::session& sql, CallDetail* call);
// Marks the bytes of deleted call `call_id` for the purger (its location row, made from
// `audio_file` when the recording never moved), inside the caller's transaction.
void MarkPurgePending(soci::session& sql, const std::string& call_id, const std::string& audio_file,
                      int64_t at_ms);
// Appends `entry` (REQUIRES: uid and at_ms set) to the audit chain `origin` inside the
// caller's write transaction (internal/audit_chain.h): cleans its text, locks the chain's head
// row (created when missing), sets origin, seq, prev_hash and hash, inserts the row and
// advances the head. Returns the row id; AlreadyExists when the uid is taken.
Result<int64_t> AppendToChain(soci::session& sql, const Dialect& dialect, const std::string& origin,
                              AuditEntry* entry);

// Appliers of a peer's change, one per entity, called by ApplyChanges in a savepoint once the
// change is newer than this node's version of its key (the op is one the entity has): OK =
// applied; FailedPrecondition = a conflict (skipped); AlreadyExists = here already (stale);
// any other error, or a SOCI exception, = a problem (skipped).
Status ApplyUserChange(soci::session& sql, const Change& change, const nlohmann::json& body);
Status ApplyTokenChange(soci::session& sql, const Change& change, const nlohmann::json& body);
// An audit entry with its origin's chain is verified (its hash recomputed) and stored as it
// is; one without (a peer older than schema version 5) joins the local chain of `node`.
Status ApplyAuditChange(soci::session& sql, const Dialect& dialect, const Change& change,
                        const nlohmann::json& body, const std::string& node);
Status ApplyTagChange(soci::session& sql, const Change& change, const nlohmann::json& body);
Status ApplyCallChange(soci::session& sql, const Change& change, const nlohmann::json& body);
Status ApplyLegalHoldChange(soci::session& sql, const Change& change, const nlohmann::json& body);
Status ApplyTenantChange(soci::session& sql, const Change& change, const nlohmann::json& body);
Status ApplySettingChange(soci::session& sql, const Change& change, const nlohmann::json& body);

// Whether a legal hold exists on `call_id` (any state of the call, even none).
std::optional<LegalHold> QueryHold(soci::session& sql, const std::string& call_id);

}  // namespace callvault::catalog::internal
