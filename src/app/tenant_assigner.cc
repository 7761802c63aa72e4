#include "app/tenant_assigner.h"

#include "app/config_tenants.h"
#include "base/log.h"
#include "base/thread_name.h"

namespace callvault::app {

TenantAssigner::TenantAssigner(catalog::Catalog* catalog, Registry* metrics,
                               std::chrono::milliseconds refresh_every)
    : catalog_(catalog), refresh_every_(refresh_every) {
  rules_ = std::make_shared<const siprec::TenantRules>();
  if (Result<Family<Counter>> f = metrics->AddCounterFamily(
          "callvault_tenant_decisions_total",
          "Tenant decisions for new calls: by a rule, the default, none, a fallback from an "
          "unknown or disabled tenant, or a refusal (403).",
          {"outcome"});
      f.ok()) {
    decisions_ = *f;
  }
}

TenantAssigner::~TenantAssigner() { Stop(); }

Status TenantAssigner::Configure(const TenantsConfig& config) {
  CV_ASSIGN_OR_RETURN(std::vector<siprec::TenantRule> rules, BuildTenantRules(config));
  auto next = std::make_shared<const siprec::TenantRules>(
      std::move(rules), siprec::TenantPolicy{.default_tenant = config.default_tenant,
                                             .refuse_unknown = config.unknown == "refuse"});
  MutexLock lock(&mu_);
  rules_ = std::move(next);
  warned_ = false;
  if (known_) WarnAboutUnknownTenants();
  return Status::Ok();
}

void TenantAssigner::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    SetCurrentThreadName("cv-tenants");
    Run();
  });
}

void TenantAssigner::Stop() {
  {
    std::lock_guard<std::mutex> lock(run_mu_);
    stop_ = true;
  }
  run_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TenantAssigner::Run() {
  bool failing = false;
  std::unique_lock<std::mutex> lock(run_mu_);
  while (!stop_) {
    lock.unlock();
    Status s = Refresh();
    if (!s.ok() && !failing) {
      CV_LOG_WARN("tenants.list_unavailable",
                  "error=\"{}\" effect=\"new calls are checked against the last tenant list "
                  "read (none yet: rule tenants are taken as they are)\"",
                  s.message());
    } else if (s.ok() && failing) {
      CV_LOG_INFO("tenants.list_available", "");
    }
    failing = !s.ok();
    lock.lock();
    run_cv_.wait_for(lock, refresh_every_, [this] { return stop_; });
  }
}

Status TenantAssigner::Refresh() {
  Result<std::vector<catalog::Tenant>> list = catalog_->ListTenants();
  if (!list.ok()) return list.status();
  std::map<std::string, bool, std::less<>> known;
  for (const catalog::Tenant& t : *list) known.emplace(t.name, !t.disabled);
  MutexLock lock(&mu_);
  known_ = std::move(known);
  if (!warned_) WarnAboutUnknownTenants();
  return Status::Ok();
}

void TenantAssigner::WarnAboutUnknownTenants() {
  warned_ = true;
  for (const std::string& name : rules_->NamedTenants()) {
    siprec::TenantState s = StateOf(name);
    if (s == siprec::TenantState::kUnknown || s == siprec::TenantState::kDisabled) {
      CV_LOG_WARN("tenants.rule_tenant_unusable",
                  "tenant=\"{}\" state={} effect=\"{}\" fix=\"create it: PUT "
                  "/api/v1/tenants/{{name}}\"",
                  name, s == siprec::TenantState::kUnknown ? "unknown" : "disabled",
                  rules_->policy().refuse_unknown ? "its calls are refused (403)"
                                                  : "its calls go to the default tenant");
    }
  }
}

siprec::TenantState TenantAssigner::StateOf(std::string_view tenant) const {
  if (!known_) return siprec::TenantState::kUnchecked;
  auto it = known_->find(tenant);
  if (it == known_->end()) return siprec::TenantState::kUnknown;
  return it->second ? siprec::TenantState::kActive : siprec::TenantState::kDisabled;
}

siprec::TenantDecision TenantAssigner::Assign(const siprec::CallFacts& facts) {
  siprec::TenantDecision d;
  {
    MutexLock lock(&mu_);
    d = rules_->Decide(facts,
                       [this](std::string_view t) NO_THREAD_SAFETY_ANALYSIS { return StateOf(t); });
  }
  const char* outcome = d.refused                ? "refused"
                        : !d.problem.empty()     ? "fallback"
                        : d.matched == "none"    ? "none"
                        : d.matched == "default" ? "default"
                                                 : "rule";
  if (decisions_) decisions_->With({outcome})->Inc();
  return d;
}

std::string TenantAssigner::MetricLabel(const std::string& tenant) {
  if (tenant.empty()) return "none";
  MutexLock lock(&labels_mu_);
  if (auto it = labels_.find(tenant); it != labels_.end()) return it->second;
  if (labels_.size() >= kMaxTenantLabels) return "other";
  labels_.emplace(tenant, tenant);
  return tenant;
}

}  // namespace callvault::app
