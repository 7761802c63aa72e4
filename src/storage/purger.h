// Purger: removes the bytes of deleted calls wherever they live. A deletion (DELETE
// /api/v1/calls/{id}, a retention policy) commits the tombstone, its audit entry and "purge
// pending" in one catalog transaction (Catalog::DeleteCall) and wakes the purger; the purger
// reads the pending purges (Catalog::PendingPurges), deletes each recording through the
// RecordingStore (TieredRecordingStore: the object in S3, the local manifest and audio), and
// only then marks it purged. A crash in between leaves the purge pending: the next round (at
// start, then every `poll`) does it again — every step is idempotent.
//
// Metrics: callvault_storage_purged_total, callvault_storage_purge_errors_total,
// callvault_storage_purge_pending (gauge, as of the last round).
//
// Who calls it: app/ (Start at start-up, Stop), http/ and retention/ (Wake after a deletion),
// tests (RunOnce). Thread-safety: Wake and the accessors are thread-safe; Start/Stop from one
// thread; RunOnce only while not started.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <thread>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/mutex.h"
#include "base/status.h"
#include "catalog/catalog.h"
#include "storage/recording_store.h"

namespace callvault::storage {

struct PurgerOptions {
  // Pending purges read per round. Default: 100.
  int batch = 100;
  // A round runs this often without a Wake (a deletion by another node, a failed purge).
  // Default: 30 s.
  std::chrono::milliseconds poll{30000};
};

class Purger {
 public:
  // REQUIRES: catalog, store and clock outlive the purger; metrics may be null.
  Purger(PurgerOptions options, catalog::Catalog* catalog, RecordingStore* store,
         const Clock* clock, Registry* metrics);
  ~Purger();  // Stop()s
  Purger(const Purger&) = delete;
  Purger& operator=(const Purger&) = delete;

  void Start();
  void Stop() EXCLUDES(mu_);
  // A deletion was committed: run a round now.
  void Wake() EXCLUDES(mu_);

  // One round: up to `batch` pending purges. Returns how many were purged; the first error
  // (the catalog unreachable; a store error, after trying the others).
  Result<int> RunOnce();

  // Purges one call now if its purge is pending (the API's DELETE, so the bytes are gone when
  // it answers): OK when purged or nothing was pending; an error leaves it pending for the
  // rounds.
  Status PurgeCall(const std::string& call_id);

  uint64_t purged() const { return purged_.load(); }
  uint64_t errors() const { return errors_.load(); }

 private:
  void Run() EXCLUDES(mu_);
  // Removes the bytes, marks the purge done; logs and counts.
  Status Purge(const catalog::RecordingLocation& loc);

  const PurgerOptions options_;
  catalog::Catalog* const catalog_;
  RecordingStore* const store_;
  const Clock* const clock_;
  std::thread thread_;
  std::atomic<uint64_t> purged_{0}, errors_{0};
  Counter* purged_total_ = nullptr;
  Counter* errors_total_ = nullptr;
  Gauge* pending_gauge_ = nullptr;

  Mutex mu_;
  std::condition_variable cv_;
  bool wake_ GUARDED_BY(mu_) = false;
  bool stop_ GUARDED_BY(mu_) = false;
};

}  // namespace callvault::storage
