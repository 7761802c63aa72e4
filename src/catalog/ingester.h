// Ingester: the catalog's asynchronous, idempotent consumer of the recorder's hand-off.
// Finished calls arrive as outbox entries (docs/formats/outbox.md) naming their manifests;
// active calls as in-memory notices from the recorder (CallActive / CallAborted). One thread
// applies them to the Catalog in batches, oldest first, and removes an outbox entry only after
// the transaction that applied it committed. While the database is down nothing is lost and
// nothing upstream waits (DESIGN.md rule 1): entries stay in the outbox, notices in a bounded
// queue (when it overflows the oldest notices go: the manifest still brings the call), and the
// thread retries with backoff; it catches up when the database answers.
//
// Reconciliation: an `active` row of this node whose call has neither a spool directory nor an
// outbox entry (its INVITE was refused after the notice, or the notice raced a restart) is
// removed — nothing stays `active` forever. It runs when the database (re)connects and every
// `reconcile_every`.
//
// Called by: app/ (Start/Stop; LocalBackend: CallActive/CallAborted; FinalizeQueue: Notify).
// Thread-safety: CallActive, CallAborted, Notify and the accessors are thread-safe; Start and
// Stop from one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "base/clock.h"
#include "base/fs.h"
#include "base/metrics.h"
#include "base/mutex.h"
#include "catalog/catalog.h"

namespace callvault::catalog {

struct IngesterOptions {
  // The outbox this consumer drains (<data>/outbox/catalog). Required.
  std::string outbox_dir;
  // Manifest paths in entries are relative to it. Required.
  std::string recordings_dir;
  // This node (reconciliation looks only at its own active rows). Required.
  std::string node_id;
  // The spool root (<data>/spool): a call with a directory there is still alive. Required.
  std::string spool_dir;
  // Manifests per transaction. Default: 200.
  int batch = 200;
  // How often the outbox is scanned without a Notify. Default: 1 s.
  std::chrono::milliseconds poll{1000};
  // Backoff after a database error: doubles from 250 ms up to this. Default: 5 s.
  std::chrono::milliseconds max_backoff{5000};
  // Default: 60 s.
  std::chrono::milliseconds reconcile_every{60000};
  // Queued active-call notices kept while the database is down. Default: 10 000.
  size_t max_notices = 10000;
};

class Ingester {
 public:
  // REQUIRES: fs, clock, catalog outlive the ingester; metrics may be null.
  Ingester(IngesterOptions options, Fs* fs, const Clock* clock, Catalog* catalog,
           Registry* metrics);
  ~Ingester();  // Stop()s

  void Start();
  // Finishes the batch in flight and stops. Idempotent.
  void Stop() EXCLUDES(mu_);

  // A new outbox entry exists: scan now instead of at the next poll.
  void Notify() EXCLUDES(mu_);
  void CallActive(ActiveCall call) EXCLUDES(mu_);
  void CallAborted(std::string call_id) EXCLUDES(mu_);

  // Waits until the outbox is empty and every notice is applied, or `timeout`; true if so
  // (tests, drain at shutdown).
  bool WaitIdle(std::chrono::milliseconds timeout) EXCLUDES(mu_);

  uint64_t ingested() const { return ingested_.load(); }
  uint64_t rejected() const { return rejected_.load(); }
  size_t backlog() const { return backlog_.load(); }
  // Seconds since the oldest waiting entry was finalized (0 when none).
  double lag_seconds() const { return lag_seconds_.load(); }
  // The last database error ("" after a success).
  std::string last_error() const EXCLUDES(mu_);

 private:
  struct Remove {
    std::string call_id;
  };
  using Notice = std::variant<ActiveCall, Remove>;

  void Run() EXCLUDES(mu_);
  // One round: notices, then one batch of the outbox. OK when the database took everything it
  // was given (an empty round is OK); the error otherwise.
  Status Round(bool* more) EXCLUDES(mu_);
  Status ApplyNotices() EXCLUDES(mu_);
  Status ApplyOutboxBatch(bool* more);
  Status Reconcile();
  // Moves an unusable entry to <outbox>/rejected/ and logs why.
  void Reject(const std::string& name, const std::string& why);
  void UpdateGauges(const std::vector<std::string>& entries);

  const IngesterOptions options_;
  Fs* const fs_;
  const Clock* const clock_;
  Catalog* const catalog_;
  std::thread thread_;

  std::atomic<uint64_t> ingested_{0}, rejected_{0};
  std::atomic<size_t> backlog_{0};
  std::atomic<double> lag_seconds_{0};
  Counter* ingested_total_ = nullptr;
  Counter* rejected_total_ = nullptr;
  Counter* errors_total_ = nullptr;
  Gauge* backlog_gauge_ = nullptr;
  Gauge* lag_gauge_ = nullptr;

  mutable Mutex mu_;
  std::condition_variable cv_;
  std::deque<Notice> notices_ GUARDED_BY(mu_);
  bool wake_ GUARDED_BY(mu_) = false;
  bool stop_ GUARDED_BY(mu_) = false;
  bool idle_ GUARDED_BY(mu_) = false;  // the last round left nothing behind
  std::string last_error_ GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point next_reconcile_ GUARDED_BY(mu_){};
  bool reconcile_due_ GUARDED_BY(mu_) = true;  // at start and after an outage
};

}  // namespace callvault::catalog
