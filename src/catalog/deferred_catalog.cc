#include "catalog/deferred_catalog.h"

#include "base/log.h"

namespace callvault::catalog {
namespace {

std::string BackendOf(const std::string& url) {
  return url.rfind("postgres", 0) == 0 ? "postgresql" : "sqlite";
}

}  // namespace

DeferredCatalog::DeferredCatalog(CatalogOptions options, const Clock* clock,
                                 std::chrono::milliseconds retry_every)
    : options_(std::move(options)),
      clock_(clock),
      retry_every_(retry_every),
      backend_name_(BackendOf(options_.url)) {}

Status DeferredCatalog::OpenLocked() {
  if (catalog_) return Status::Ok();
  next_attempt_ = clock_->Now() + retry_every_;
  Result<std::unique_ptr<Catalog>> opened = OpenCatalog(options_);
  if (!opened.ok()) {
    const std::string error = opened.status().ToString();
    if (error != last_error_) {  // one line per distinct failure, not one per retry
      CV_LOG_WARN("catalog.unavailable", "backend={} error=\"{}\"", backend_name_, error);
    }
    last_error_ = error;
    return opened.status();
  }
  catalog_ = std::move(*opened);
  last_error_.clear();
  CV_LOG_INFO("catalog.open", "backend={} schema_version={}", catalog_->Backend(),
              catalog_->SchemaVersion());
  return Status::Ok();
}

Status DeferredCatalog::OpenNow() {
  MutexLock lock(&mu_);
  return OpenLocked();
}

bool DeferredCatalog::is_open() const {
  MutexLock lock(&mu_);
  return catalog_ != nullptr;
}

std::string DeferredCatalog::last_error() const {
  MutexLock lock(&mu_);
  return last_error_;
}

Result<Catalog*> DeferredCatalog::Get() {
  MutexLock lock(&mu_);
  if (catalog_) return catalog_.get();
  if (clock_->Now() >= next_attempt_) {
    if (Status s = OpenLocked(); s.ok()) return catalog_.get();
  }
  return UnavailableError("catalog (" + backend_name_ + ") is not reachable: " + last_error_);
}

// Each method: the open catalog's, or Unavailable.
#define CV_DEFERRED(call)           \
  do {                              \
    Result<Catalog*> c = Get();     \
    if (!c.ok()) return c.status(); \
    return (*c)->call;              \
  } while (0)

Status DeferredCatalog::IngestManifests(const std::vector<recording::Manifest>& manifests) {
  CV_DEFERRED(IngestManifests(manifests));
}
Status DeferredCatalog::UpsertActive(const std::vector<ActiveCall>& calls) {
  CV_DEFERRED(UpsertActive(calls));
}
Status DeferredCatalog::RemoveActive(const std::string& call_id) {
  CV_DEFERRED(RemoveActive(call_id));
}
Result<std::vector<std::string>> DeferredCatalog::ActiveCallIds(const std::string& node_id) {
  CV_DEFERRED(ActiveCallIds(node_id));
}
Result<CallPage> DeferredCatalog::ListCalls(const CallFilter& filter, const PageRequest& page) {
  CV_DEFERRED(ListCalls(filter, page));
}
Result<CallDetail> DeferredCatalog::GetCall(const std::string& call_id) {
  CV_DEFERRED(GetCall(call_id));
}
Status DeferredCatalog::AddTags(const std::string& call_id, const std::vector<std::string>& tags) {
  CV_DEFERRED(AddTags(call_id, tags));
}
Status DeferredCatalog::RemoveTag(const std::string& call_id, const std::string& tag) {
  CV_DEFERRED(RemoveTag(call_id, tag));
}
Result<bool> DeferredCatalog::IsDeleted(const std::string& call_id) {
  CV_DEFERRED(IsDeleted(call_id));
}

Status DeferredCatalog::MarkDeleted(const std::string& call_id, const std::string& actor,
                                    int64_t at_ms) {
  CV_DEFERRED(MarkDeleted(call_id, actor, at_ms));
}
Status DeferredCatalog::DeleteCall(const std::string& call_id, const AuditEntry& audit) {
  CV_DEFERRED(DeleteCall(call_id, audit));
}
Status DeferredCatalog::RecordLocation(const RecordingLocation& loc) {
  CV_DEFERRED(RecordLocation(loc));
}
Result<std::optional<RecordingLocation>> DeferredCatalog::GetLocation(const std::string& call_id) {
  CV_DEFERRED(GetLocation(call_id));
}
Result<std::vector<RecordingLocation>> DeferredCatalog::PendingPurges(int limit) {
  CV_DEFERRED(PendingPurges(limit));
}
Status DeferredCatalog::MarkPurged(const std::string& call_id, int64_t at_ms) {
  CV_DEFERRED(MarkPurged(call_id, at_ms));
}
Status DeferredCatalog::SetLegalHold(const LegalHold& hold) { CV_DEFERRED(SetLegalHold(hold)); }
Status DeferredCatalog::ReleaseLegalHold(const std::string& call_id) {
  CV_DEFERRED(ReleaseLegalHold(call_id));
}
Result<std::vector<CallSummary>> DeferredCatalog::FindRetentionCandidates(
    const RetentionQuery& query, const std::string& after_call_id, int limit) {
  CV_DEFERRED(FindRetentionCandidates(query, after_call_id, limit));
}
Result<std::vector<RecordingCopy>> DeferredCatalog::FindCopies(const std::string& sip_call_id) {
  CV_DEFERRED(FindCopies(sip_call_id));
}
Result<std::vector<std::string>> DeferredCatalog::FindUnreconciledCopies(int64_t since_ms,
                                                                         int limit) {
  CV_DEFERRED(FindUnreconciledCopies(since_ms, limit));
}
Result<std::vector<Role>> DeferredCatalog::ListRoles() { CV_DEFERRED(ListRoles()); }
Result<int64_t> DeferredCatalog::CreateUser(const User& user) { CV_DEFERRED(CreateUser(user)); }
Result<User> DeferredCatalog::GetUser(const std::string& username) {
  CV_DEFERRED(GetUser(username));
}
Result<User> DeferredCatalog::GetUserById(int64_t id) { CV_DEFERRED(GetUserById(id)); }
Result<std::vector<User>> DeferredCatalog::ListUsers() { CV_DEFERRED(ListUsers()); }
Status DeferredCatalog::UpdateUser(const User& user) { CV_DEFERRED(UpdateUser(user)); }
Status DeferredCatalog::DeleteUser(int64_t id) { CV_DEFERRED(DeleteUser(id)); }
Result<std::string> DeferredCatalog::CreateToken(const ApiToken& token) {
  CV_DEFERRED(CreateToken(token));
}
Result<ApiToken> DeferredCatalog::FindToken(const std::string& token_hash) {
  CV_DEFERRED(FindToken(token_hash));
}
Result<std::vector<ApiToken>> DeferredCatalog::ListTokens(int64_t user_id) {
  CV_DEFERRED(ListTokens(user_id));
}
Status DeferredCatalog::DeleteToken(const std::string& api_id) { CV_DEFERRED(DeleteToken(api_id)); }
Status DeferredCatalog::TouchToken(int64_t id, int64_t at_ms) {
  CV_DEFERRED(TouchToken(id, at_ms));
}
Result<int64_t> DeferredCatalog::AppendAudit(const AuditEntry& entry) {
  CV_DEFERRED(AppendAudit(entry));
}
Result<std::vector<AuditEntry>> DeferredCatalog::ListAudit(int64_t after_id, int limit) {
  CV_DEFERRED(ListAudit(after_id, limit));
}
Result<std::vector<AuditEntry>> DeferredCatalog::FindAudit(const AuditFilter& filter) {
  CV_DEFERRED(FindAudit(filter));
}
Result<std::vector<AuditHead>> DeferredCatalog::AuditHeads() { CV_DEFERRED(AuditHeads()); }
Result<std::vector<AuditChainRow>> DeferredCatalog::ScanAuditChains(const std::string& after_origin,
                                                                    int64_t after_seq,
                                                                    int64_t after_id, int limit) {
  CV_DEFERRED(ScanAuditChains(after_origin, after_seq, after_id, limit));
}
Status DeferredCatalog::CreateSession(const WebSession& session) {
  CV_DEFERRED(CreateSession(session));
}
Result<WebSession> DeferredCatalog::GetSession(const std::string& id_hash) {
  CV_DEFERRED(GetSession(id_hash));
}
Status DeferredCatalog::TouchSession(const std::string& id_hash, int64_t at_ms) {
  CV_DEFERRED(TouchSession(id_hash, at_ms));
}
Status DeferredCatalog::DeleteSession(const std::string& id_hash) {
  CV_DEFERRED(DeleteSession(id_hash));
}
Status DeferredCatalog::UpsertTenant(const Tenant& tenant) { CV_DEFERRED(UpsertTenant(tenant)); }
Status DeferredCatalog::DeleteTenant(const std::string& name) { CV_DEFERRED(DeleteTenant(name)); }
Result<std::vector<Tenant>> DeferredCatalog::ListTenants() { CV_DEFERRED(ListTenants()); }
Result<std::string> DeferredCatalog::GetSetting(const std::string& name) {
  CV_DEFERRED(GetSetting(name));
}
Status DeferredCatalog::PutSetting(const std::string& name, const std::string& value) {
  CV_DEFERRED(PutSetting(name, value));
}
Result<std::vector<Change>> DeferredCatalog::ChangesAfter(int64_t after_seq, int limit) {
  CV_DEFERRED(ChangesAfter(after_seq, limit));
}
Result<ApplyResult> DeferredCatalog::ApplyChanges(const std::vector<Change>& changes,
                                                  std::chrono::milliseconds max_skew) {
  CV_DEFERRED(ApplyChanges(changes, max_skew));
}
Result<int64_t> DeferredCatalog::GetCursor(const std::string& peer) {
  CV_DEFERRED(GetCursor(peer));
}
Status DeferredCatalog::SetCursor(const std::string& peer, int64_t after_seq) {
  CV_DEFERRED(SetCursor(peer, after_seq));
}
Status DeferredCatalog::Ping() { CV_DEFERRED(Ping()); }

#undef CV_DEFERRED

int DeferredCatalog::SchemaVersion() const {
  MutexLock lock(&mu_);
  return catalog_ ? catalog_->SchemaVersion() : 0;
}

std::string_view DeferredCatalog::Backend() const { return backend_name_; }

}  // namespace callvault::catalog
