#include "retention/retention.h"

#include "base/log.h"
#include "base/thread_name.h"

namespace callvault::retention {

uint64_t RunReport::deleted() const {
  uint64_t n = 0;
  for (const PolicyReport& p : policies) n += p.deleted;
  return n;
}

uint64_t RunReport::failed() const {
  uint64_t n = 0;
  for (const PolicyReport& p : policies) n += p.failed;
  return n;
}

Result<Policy> MakePolicy(std::string name, int older_than_days, const std::string& tenant,
                          std::vector<std::string> tags, const std::vector<std::string>& states) {
  if (older_than_days < 1) {
    return InvalidArgumentError("retention policy " + name + ": older_than_days must be >= 1");
  }
  Policy p{.name = std::move(name),
           .older_than = std::chrono::hours(24) * older_than_days,
           .tenant = tenant.empty() ? std::nullopt : std::optional<std::string>(tenant),
           .tags = std::move(tags)};
  for (const std::string& s : states) {
    std::optional<CallState> state = ParseCallState(s);
    if (!state || !IsFinalState(*state)) {
      return InvalidArgumentError("retention policy " + p.name + ": unknown call state \"" + s +
                                  "\"");
    }
    p.states.push_back(*state);
  }
  return p;
}

Retention::Retention(std::vector<Policy> policies, catalog::Catalog* catalog, const Clock* clock,
                     Registry* metrics, std::function<void()> on_deleted)
    : policies_(std::move(policies)),
      catalog_(catalog),
      clock_(clock),
      on_deleted_(std::move(on_deleted)) {
  if (metrics != nullptr) {
    Result<Counter*> d = metrics->AddCounter("callvault_retention_deletions_total",
                                             "Calls deleted by retention policies.");
    if (d.ok()) deletions_total_ = *d;
    Result<Counter*> f = metrics->AddCounter(
        "callvault_retention_failures_total",
        "Calls a retention policy selected but could not delete (retried next run).");
    if (f.ok()) failures_total_ = *f;
  }
}

Retention::~Retention() { Stop(); }

Status Retention::RunPolicy(const Policy& policy, const RunOptions& options, RunReport* report) {
  PolicyReport& pr = report->policies.emplace_back();
  pr.policy = policy.name;
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_->WallNow().time_since_epoch())
          .count();
  const catalog::RetentionQuery query{.started_before_ms = now_ms - policy.older_than.count(),
                                      .tenant = policy.tenant,
                                      .tags = policy.tags,
                                      .states = policy.states};
  std::string after;
  for (;;) {
    CV_ASSIGN_OR_RETURN(std::vector<catalog::CallSummary> calls,
                        catalog_->FindRetentionCandidates(query, after, options.batch));
    if (calls.empty()) break;
    after = calls.back().call_id;
    uint64_t deleted_in_batch = 0;
    for (const catalog::CallSummary& call : calls) {
      ++pr.selected;
      if (report->selected.size() < options.keep_selected) {
        report->selected.push_back({.call_id = call.call_id,
                                    .policy = policy.name,
                                    .tenant = call.tenant,
                                    .started_ms = call.started_ms});
      } else {
        report->selected_truncated = true;
      }
      if (options.dry_run) continue;
      const catalog::AuditEntry audit{.at_ms = now_ms,
                                      .actor = options.actor,
                                      .action = "call.delete",
                                      .detail = {{"reason", "retention"}, {"policy", policy.name}}};
      Status s = catalog_->DeleteCall(call.call_id, audit);
      if (s.ok()) {
        ++pr.deleted;
        ++deleted_in_batch;
        if (deletions_total_ != nullptr) deletions_total_->Inc();
        CV_LOG_INFO("retention.deleted", "call={} policy={} started_ms={}", call.call_id,
                    policy.name, call.started_ms);
      } else if (s.code() == StatusCode::kFailedPrecondition || s.code() == StatusCode::kNotFound) {
        ++pr.skipped;  // held or gone since it was selected
      } else if (s.code() == StatusCode::kUnavailable) {
        return s;  // the catalog went away: the next run goes on from here
      } else {
        ++pr.failed;
        if (failures_total_ != nullptr) failures_total_->Inc();
        CV_LOG_WARN("retention.delete_failed", "call={} policy={} error=\"{}\"", call.call_id,
                    policy.name, s.ToString());
      }
    }
    if (deleted_in_batch > 0 && on_deleted_) on_deleted_();
    if (options.progress) options.progress(pr);
    if (calls.size() < static_cast<size_t>(options.batch)) break;
  }
  return Status::Ok();
}

Result<RunReport> Retention::Run(const RunOptions& options) {
  MutexLock lock(&run_mu_);
  RunReport report;
  report.dry_run = options.dry_run;
  for (const Policy& policy : policies_) {
    Status s = RunPolicy(policy, options, &report);
    if (!s.ok()) {
      CV_LOG_WARN("retention.run_failed", "policy={} dry_run={} error=\"{}\"", policy.name,
                  options.dry_run, s.ToString());
      return s;
    }
  }
  CV_LOG_INFO("retention.run", "dry_run={} policies={} selected={} deleted={} failed={}",
              options.dry_run, policies_.size(), report.selected.size(), report.deleted(),
              report.failed());
  return report;
}

void Retention::Start(std::chrono::milliseconds interval, int batch) {
  if (interval.count() <= 0 || policies_.empty()) return;
  thread_ = std::thread([this, interval, batch] {
    SetCurrentThreadName("cv-retention");
    for (;;) {
      {
        MutexLock lock(&mu_);
        const auto until = std::chrono::steady_clock::now() + interval;
        while (!stop_ && mu_.WaitUntil(cv_, until) != std::cv_status::timeout) {
        }
        if (stop_) return;
      }
      Run({.batch = batch}).status().IgnoreError();  // logged; the next interval retries
    }
  });
}

void Retention::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace callvault::retention
