// DeferredCatalog: a Catalog that opens the real one (OpenCatalog) on first use and again after
// a failed attempt, at most once per `retry_every`, so that a node starts and records while its
// database is down (DESIGN.md rule 1): until the database is reachable every call returns
// Unavailable, and the ingester and the web role catch up once it answers. Schema errors
// (a newer schema, a bad URL) are not retried faster than transient ones, and are logged.
//
// Called by: app/ (owns it), catalog::Ingester and http/ (use it as a Catalog*).
// Thread-safety: thread-safe; the open attempt runs under a mutex, queries run concurrently
// once open.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/mutex.h"
#include "catalog/catalog.h"

namespace callvault::catalog {

class DeferredCatalog final : public Catalog {
 public:
  // REQUIRES: clock outlives this object.
  DeferredCatalog(CatalogOptions options, const Clock* clock,
                  std::chrono::milliseconds retry_every = std::chrono::seconds(1));

  // Opens now if not open (regardless of retry_every). OK when open.
  [[nodiscard]] Status OpenNow() EXCLUDES(mu_);
  bool is_open() const EXCLUDES(mu_);
  // The last open error ("" when open or never tried).
  std::string last_error() const EXCLUDES(mu_);

  [[nodiscard]] Status IngestManifests(const std::vector<recording::Manifest>& manifests) override;
  [[nodiscard]] Status UpsertActive(const std::vector<ActiveCall>& calls) override;
  [[nodiscard]] Status RemoveActive(const std::string& call_id) override;
  Result<std::vector<std::string>> ActiveCallIds(const std::string& node_id) override;
  Result<CallPage> ListCalls(const CallFilter& filter, const PageRequest& page) override;
  Result<CallDetail> GetCall(const std::string& call_id) override;
  [[nodiscard]] Status AddTags(const std::string& call_id,
                               const std::vector<std::string>& tags) override;
  [[nodiscard]] Status RemoveTag(const std::string& call_id, const std::string& tag) override;
  Result<bool> IsDeleted(const std::string& call_id) override;
  [[nodiscard]] Status MarkDeleted(const std::string& call_id, const std::string& actor,
                                   int64_t at_ms) override;
  [[nodiscard]] Status DeleteCall(const std::string& call_id, const AuditEntry& audit) override;
  [[nodiscard]] Status RecordLocation(const RecordingLocation& loc) override;
  Result<std::optional<RecordingLocation>> GetLocation(const std::string& call_id) override;
  Result<std::vector<RecordingLocation>> PendingPurges(int limit) override;
  [[nodiscard]] Status MarkPurged(const std::string& call_id, int64_t at_ms) override;
  [[nodiscard]] Status SetLegalHold(const LegalHold& hold) override;
  [[nodiscard]] Status ReleaseLegalHold(const std::string& call_id) override;
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
  [[nodiscard]] Status UpdateUser(const User& user) override;
  [[nodiscard]] Status DeleteUser(int64_t id) override;
  Result<std::string> CreateToken(const ApiToken& token) override;
  Result<ApiToken> FindToken(const std::string& token_hash) override;
  Result<std::vector<ApiToken>> ListTokens(int64_t user_id) override;
  [[nodiscard]] Status DeleteToken(const std::string& api_id) override;
  [[nodiscard]] Status TouchToken(int64_t id, int64_t at_ms) override;
  Result<int64_t> AppendAudit(const AuditEntry& entry) override;
  Result<std::vector<AuditEntry>> ListAudit(int64_t after_id, int limit) override;
  Result<std::vector<AuditEntry>> FindAudit(const AuditFilter& filter) override;
  Result<std::vector<AuditHead>> AuditHeads() override;
  Result<std::vector<AuditChainRow>> ScanAuditChains(const std::string& after_origin,
                                                     int64_t after_seq, int64_t after_id,
                                                     int limit) override;
  [[nodiscard]] Status CreateSession(const WebSession& session) override;
  Result<WebSession> GetSession(const std::string& id_hash) override;
  [[nodiscard]] Status TouchSession(const std::string& id_hash, int64_t at_ms) override;
  [[nodiscard]] Status DeleteSession(const std::string& id_hash) override;
  [[nodiscard]] Status UpsertTenant(const Tenant& tenant) override;
  [[nodiscard]] Status DeleteTenant(const std::string& name) override;
  Result<std::vector<Tenant>> ListTenants() override;
  Result<std::string> GetSetting(const std::string& name) override;
  [[nodiscard]] Status PutSetting(const std::string& name, const std::string& value) override;
  Result<std::vector<Change>> ChangesAfter(int64_t after_seq, int limit) override;
  Result<ApplyResult> ApplyChanges(const std::vector<Change>& changes,
                                   std::chrono::milliseconds max_skew) override;
  Result<int64_t> GetCursor(const std::string& peer) override;
  [[nodiscard]] Status SetCursor(const std::string& peer, int64_t after_seq) override;
  [[nodiscard]] Status Ping() override;
  int SchemaVersion() const override;
  std::string_view Backend() const override;

 private:
  // The open catalog, opening it when due; Unavailable (with the last error) otherwise.
  Result<Catalog*> Get() EXCLUDES(mu_);
  Status OpenLocked() REQUIRES(mu_);

  const CatalogOptions options_;
  const Clock* const clock_;
  const std::chrono::milliseconds retry_every_;
  std::string backend_name_;  // from the URL, fixed at construction

  mutable Mutex mu_;
  // Set once, never reset: the pool inside reconnects by itself.
  std::unique_ptr<Catalog> catalog_ GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point next_attempt_ GUARDED_BY(mu_){};
  std::string last_error_ GUARDED_BY(mu_);
};

}  // namespace callvault::catalog
