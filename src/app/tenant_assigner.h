// TenantAssigner: decides the tenant of each new SIPREC call for siprec/ (its
// RecorderOptions::assign_tenant) — the configured rules (siprec/tenant_rules.h) against the
// catalog's tenant list, which it keeps in memory and re-reads every few seconds on its own
// thread, so a decision never waits on the database (DESIGN.md rule 1). Until the list has
// been read once (database down at start) a rule's tenant is taken as it is.
//
// Also owns the bounded `tenant` label of the call metrics: the first kMaxTenantLabels tenant
// names get their own label value, later ones share "other"; no tenant is "none".
//
// Called by: app/server.cc (Configure at start and on SIGHUP, Start/Stop, MetricLabel),
// siprec::Recorder workers (Assign).
// Thread-safety: every method is thread-safe; Start/Stop from one thread.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "app/config.h"
#include "base/metrics.h"
#include "base/mutex.h"
#include "catalog/catalog.h"
#include "siprec/tenant_rules.h"

namespace callvault::app {

class TenantAssigner {
 public:
  static constexpr size_t kMaxTenantLabels = 100;

  // REQUIRES: catalog and metrics outlive this object.
  TenantAssigner(catalog::Catalog* catalog, Registry* metrics,
                 std::chrono::milliseconds refresh_every = std::chrono::seconds(5));
  ~TenantAssigner();  // Stop()s
  TenantAssigner(const TenantAssigner&) = delete;
  TenantAssigner& operator=(const TenantAssigner&) = delete;

  // Applies the [tenants] section (start, SIGHUP): new calls use it from now on.
  [[nodiscard]] Status Configure(const TenantsConfig& config) EXCLUDES(mu_);
  void Start();
  void Stop();
  // Re-reads the catalog's tenant list now (SIGHUP, tests). OK when read.
  Status Refresh() EXCLUDES(mu_);

  siprec::TenantDecision Assign(const siprec::CallFacts& facts) EXCLUDES(mu_);
  // The `tenant` label value of a call metric.
  std::string MetricLabel(const std::string& tenant) EXCLUDES(labels_mu_);

 private:
  siprec::TenantState StateOf(std::string_view tenant) const REQUIRES(mu_);
  void WarnAboutUnknownTenants() REQUIRES(mu_);
  void Run();

  catalog::Catalog* const catalog_;
  const std::chrono::milliseconds refresh_every_;

  Mutex mu_;
  std::shared_ptr<const siprec::TenantRules> rules_ GUARDED_BY(mu_);
  // name → enabled; nullopt until the catalog's list was read once.
  std::optional<std::map<std::string, bool, std::less<>>> known_ GUARDED_BY(mu_);
  bool warned_ GUARDED_BY(mu_) = false;  // unknown tenants of these rules were logged

  Mutex labels_mu_;
  std::map<std::string, std::string, std::less<>> labels_ GUARDED_BY(labels_mu_);

  std::optional<Family<Counter>> decisions_;

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace callvault::app
