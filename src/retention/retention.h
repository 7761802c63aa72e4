// Retention: deletion by policy. Each policy selects finished calls (Catalog::
// FindRetentionCandidates: older than its age, optionally of one tenant, carrying any of its
// tags, in any of its states; never active, deleted or held ones); a run deletes each selected
// call with Catalog::DeleteCall — tombstone, audit entry (actor `retention`, detail: policy)
// and "purge pending" in one transaction — and then hands the bytes to the purger
// (`on_deleted`, storage::Purger::Wake), so a crash mid-run loses nothing: deletions committed
// are purged after the restart, the rest are selected again by the next run.
//
// A dry run selects exactly what a run would delete now and changes nothing.
// Runs come from a schedule (Start: every `interval`), `callvault retention run [--dry-run]`,
// and `POST /api/v1/retention/run`; one run at a time (a second caller waits).
//
// Who calls it: app/ (the schedule, the CLI), http/ (the API). Thread-safety: thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/mutex.h"
#include "base/status.h"
#include "catalog/catalog.h"

namespace callvault::retention {

struct Policy {
  std::string name;
  std::chrono::milliseconds older_than{0};  // started more than this long ago; > 0
  std::optional<std::string> tenant;        // nullopt = any tenant
  std::vector<std::string> tags;            // any of; empty = any
  std::vector<CallState> states;            // any of; empty = any final state
};

// What a run did (or, dry, would do), per policy, in policy order.
struct PolicyReport {
  std::string policy;
  uint64_t selected = 0;
  uint64_t deleted = 0;  // 0 in a dry run
  uint64_t skipped = 0;  // held or deleted meanwhile
  uint64_t failed = 0;
};

struct Selected {
  std::string call_id;
  std::string policy;
  std::string tenant;
  int64_t started_ms = 0;
};

struct RunOptions {
  bool dry_run = false;
  // Calls read per catalog query. Default: 500.
  int batch = 500;
  // Keep the selected calls in the report (a dry run's listing), at most this many.
  size_t keep_selected = 100000;
  // Who the audit entries name.
  std::string actor = "retention";
  // Called after every batch (CLI progress). May be null.
  std::function<void(const PolicyReport&)> progress;
};

struct RunReport {
  bool dry_run = false;
  std::vector<PolicyReport> policies;
  std::vector<Selected> selected;  // up to keep_selected
  bool selected_truncated = false;
  uint64_t deleted() const;
  uint64_t failed() const;
};

class Retention {
 public:
  // REQUIRES: catalog and clock outlive this object; metrics may be null; `on_deleted` (may be
  // null) is called after each batch that deleted calls.
  Retention(std::vector<Policy> policies, catalog::Catalog* catalog, const Clock* clock,
            Registry* metrics, std::function<void()> on_deleted);
  ~Retention();  // Stop()s
  Retention(const Retention&) = delete;
  Retention& operator=(const Retention&) = delete;

  // Runs every policy once. Unavailable when the catalog is down (nothing half-done: the calls
  // deleted so far stay deleted, their purges pending). Failures of single calls are counted
  // in the report and logged, and the run goes on.
  Result<RunReport> Run(const RunOptions& options) EXCLUDES(run_mu_);

  // Runs every `interval` on a thread of its own (the first run one interval after Start).
  void Start(std::chrono::milliseconds interval, int batch);
  void Stop() EXCLUDES(mu_);

  const std::vector<Policy>& policies() const { return policies_; }

 private:
  Status RunPolicy(const Policy& policy, const RunOptions& options, RunReport* report);

  const std::vector<Policy> policies_;
  catalog::Catalog* const catalog_;
  const Clock* const clock_;
  const std::function<void()> on_deleted_;
  Counter* deletions_total_ = nullptr;
  Counter* failures_total_ = nullptr;

  Mutex run_mu_;  // one run at a time
  Mutex mu_;
  std::condition_variable cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// Policies from their configured form; InvalidArgument naming a bad state name.
Result<Policy> MakePolicy(std::string name, int older_than_days, const std::string& tenant,
                          std::vector<std::string> tags, const std::vector<std::string>& states);

}  // namespace callvault::retention
