// Ingester: the catalog's consumer of finished calls, and the keeper of active-call rows.
// Finished calls arrive through the outbox queue `catalog` (outbox/outbox.h,
// docs/formats/outbox.md); an outbox::Drainer hands them here in batches and removes each entry
// once the transaction that applied its manifest committed. Active calls arrive as in-memory
// notices from the recorder (CallActive / CallAborted), applied by the same thread before each
// batch. While the database is down nothing is lost and nothing upstream waits (DESIGN.md rule
// 1): entries stay in the outbox, notices in a bounded queue (when it overflows the oldest
// notices go: the manifest still brings the call), and the drainer retries with backoff.
//
// An entry whose manifest is gone because the call was deleted meanwhile (a tombstone in the
// catalog) is dropped; a missing manifest of a call that is not deleted, a manifest that is not
// a version-1 manifest of that call, are set aside in `rejected/` for an operator.
//
// Reconciliation: an `active` row of this node whose call has neither a spool directory nor an
// outbox entry (its INVITE was refused after the notice, or the notice raced a restart) is
// removed — nothing stays `active` forever. It runs when the database (re)connects and every
// `reconcile_every`.
//
// Copies: when a batch brings a recording whose SIP Call-ID another catalogued recording shares
// and one of them is a passive hot spare's copy, CopyReconciler keeps one (catalog/copies.h) —
// right after the batch, and in the same periodic sweep (which catches what failed or what a
// restart interrupted). A failure there never fails the batch: the manifests are catalogued.
//
// Called by: app/ (Start/Stop, Notify), recording::LocalBackend (CallActive/CallAborted, as its
// ActiveCallListener).
// Thread-safety: CallActive, CallAborted, Notify and the accessors are thread-safe; Start and
// Stop from one thread; ApplyBatch on the drainer's thread only.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <string>
#include <variant>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/mutex.h"
#include "catalog/catalog.h"
#include "catalog/copy_reconciler.h"
#include "outbox/drainer.h"
#include "outbox/outbox.h"
#include "recording/active_call.h"

namespace callvault::catalog {

struct IngesterOptions {
  // The outbox queue this consumer drains (REQUIRES: open). Default: "catalog".
  std::string queue = "catalog";
  // Manifest paths in entries are relative to it. Required.
  std::string recordings_dir;
  // This node (reconciliation looks only at its own active rows). Required.
  std::string node_id;
  // The spool root (<data>/spool): a call with a directory there is still alive. Required.
  std::string spool_dir;
  // Manifests per transaction. Default: 200.
  int batch = 200;
  // How often the outbox is looked at without a Notify. Default: 1 s.
  std::chrono::milliseconds poll{1000};
  // Backoff after a database error: doubles from 250 ms up to this. Default: 5 s.
  std::chrono::milliseconds max_backoff{5000};
  // Default: 60 s.
  std::chrono::milliseconds reconcile_every{60000};
  // Queued active-call notices kept while the database is down. Default: 10 000.
  size_t max_notices = 10000;
  // Reconciling a passive spare's copies with the primary's.
  CopyReconcilerOptions copies;
};

class Ingester final : public recording::ActiveCallListener {
 public:
  // REQUIRES: outbox (with options.queue open), clock, catalog outlive the ingester; metrics
  // may be null.
  Ingester(IngesterOptions options, outbox::Outbox* outbox, const Clock* clock, Catalog* catalog,
           Registry* metrics);
  ~Ingester() override;  // Stop()s

  void Start();
  // Finishes the batch in flight and stops. Idempotent.
  void Stop();

  // A new outbox entry exists: look now instead of at the next poll. (A Put into the queue
  // of the same Outbox already wakes the drainer; this is for entries written otherwise.)
  void Notify();
  // recording::ActiveCallListener: queued, applied by the drainer's thread.
  void CallActive(const ActiveCall& call) override EXCLUDES(mu_);
  void CallAborted(const std::string& call_id) override EXCLUDES(mu_);

  // Waits until the queue is empty and every notice is applied, or `timeout`; true if so
  // (tests, drain at shutdown).
  bool WaitIdle(std::chrono::milliseconds timeout);

  // The drainer's apply: one batch of entries → manifests → one catalog transaction.
  Status ApplyBatch(std::vector<outbox::Delivery>& batch);

  uint64_t ingested() const { return ingested_.load(); }
  // Duplicate copies deleted (drainer thread's count; tests read it once idle).
  uint64_t copies_dropped() const { return copies_.dropped(); }
  uint64_t rejected() const { return drainer_.rejected(); }
  uint64_t dropped() const { return drainer_.dropped(); }
  size_t backlog() const;
  // Seconds since the oldest waiting entry was finalized (0 when none).
  double lag_seconds() const { return drainer_.lag_seconds(); }
  // The last database error ("" after a success).
  std::string last_error() const { return drainer_.last_error(); }

 private:
  struct Remove {
    std::string call_id;
  };
  using Notice = std::variant<ActiveCall, Remove>;

  // The drainer's round hook: notices, then reconciliation when due.
  Status BeforeRound(bool* more) EXCLUDES(mu_);
  Status ApplyNotices(bool* more) EXCLUDES(mu_);
  Status Reconcile();
  void UpdateGauges();

  const IngesterOptions options_;
  outbox::Outbox* const outbox_;
  Fs* const fs_;
  const Clock* const clock_;
  Catalog* const catalog_;
  CopyReconciler copies_;  // drainer thread only

  std::atomic<uint64_t> ingested_{0};
  Counter* ingested_total_ = nullptr;
  Gauge* backlog_gauge_ = nullptr;
  Gauge* lag_gauge_ = nullptr;

  mutable Mutex mu_;
  std::deque<Notice> notices_ GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point next_reconcile_ GUARDED_BY(mu_){};
  bool reconcile_due_ GUARDED_BY(mu_) = true;  // at start and after an outage

  outbox::Drainer drainer_;  // last: its thread calls into the members above
};

}  // namespace callvault::catalog
