// Drainer: the one thread that hands a queue's entries (outbox.h) to their consumer, oldest
// first, in batches, and removes each entry only after the consumer says its effect is durable.
// The generic half of every consumer of finished calls: catalog ingest today, relocation to S3
// and replication to each peer next; a consumer only writes "apply one batch".
//
// Per round: the optional `before_round` hook (e.g. the catalog's active-call notices), then one
// batch. `apply` sets each delivery's outcome:
//   kDone      applied (its effect is durable): the entry is removed;
//   kDropped   nothing to do any more (its call was deleted meanwhile): removed, counted;
//   kRejected  unusable (a broken manifest…): moved to <queue>/rejected/<call id>.json with
//              <call id>.reason beside it, logged (`outbox.rejected`) and counted; an operator
//              fixes the cause and moves it back into the queue directory;
//   kRetry     not now: kept. `apply` returns an error when it leaves entries kRetry (the target
//              is down): the drainer backs off (doubling up to max_backoff) and retries.
// Entries the drainer cannot parse are rejected without reaching `apply`. Delivery is at least
// once: a crash after `apply` made an effect durable but before the removal was synced delivers
// that batch again, so consumers are idempotent (DESIGN.md rule 3). Removals are synced once per
// batch, so at most the batch in flight at a crash comes back.
//
// Delay: with `delay` set (relocation's `relocate_after_s`), an entry is delivered only once
// that long has passed since its call was finalized; entries not due yet are passed over, so a
// long call finalized late does not hold up the calls after it.
//
// Cost: the drainer lists one bucket at a time (outbox.h) and keeps only that listing in memory;
// a Put behind its position (a long call's old bucket) rewinds it. Gauges, labelled by queue:
// backlog (Outbox), `callvault_outbox_lag_seconds` (age of the oldest waiting entry since it
// was finalized).
//
// Called by: app/ (Start/Stop), consumers (e.g. catalog::Ingester owns one), tests (RunOnce).
// Thread-safety: Wake, WaitIdle and the accessors are thread-safe; Start/Stop from one thread;
// RunOnce only while not started.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/mutex.h"
#include "base/status.h"
#include "outbox/entry.h"
#include "outbox/outbox.h"

namespace callvault::outbox {

enum class Outcome : uint8_t { kRetry = 0, kDone, kDropped, kRejected };

struct Delivery {
  Entry entry;
  Outcome outcome = Outcome::kRetry;  // set by `apply`
  std::string reason;                 // why, for kDropped and kRejected (logged)
};

// Applies a batch (see above). REQUIRES: idempotent; called on the drainer's thread only.
using ApplyBatchFn = std::function<Status(std::vector<Delivery>& batch)>;
// Runs before each batch; `*more` = it has more to do right away. An error backs off like
// `apply`'s.
using RoundHookFn = std::function<Status(bool* more)>;

struct DrainerOptions {
  // The queue (REQUIRES: open in the Outbox). Required.
  std::string queue;
  // For log lines and metrics ("catalog"). Default: the queue's name.
  std::string consumer;
  // Entries per `apply`. Default: 200.
  int batch = 200;
  // How often the queue is looked at without a Put or Wake (entries put by another process).
  // Default: 1 s.
  std::chrono::milliseconds poll{1000};
  // After a wake-up (from idle, or one that came during the last round), how long to let entries
  // gather before the next round, so that a burst of Puts or Wakes (a mass hang-up, a setup
  // burst's active calls) is applied in a few large batches instead of one small transaction
  // and one directory sync per call. A full batch waiting goes at once. 0 = at once.
  // Default: 50 ms.
  std::chrono::milliseconds linger{50};
  // Backoff after an error: from first_backoff, doubling up to max_backoff. Defaults: 250 ms, 5 s.
  std::chrono::milliseconds first_backoff{250};
  std::chrono::milliseconds max_backoff{5000};
  // An entry is due `delay` after its call was finalized (the entry's `finalized` time, wall
  // clock): relocation waits `storage.relocate_after_s`. Entries not due yet are passed over
  // (remembered in memory, at most `max_deferred` of them; beyond that the scan stops at the
  // first one, so memory stays bounded) and delivered once due, in the round after. Entries
  // without a readable `finalized` time are due at once. Default: 0 (every entry due).
  std::chrono::milliseconds delay{0};
  size_t max_deferred = 100000;
  // When set and false, rounds deliver nothing (the hook still runs) and the queue waits, without
  // counting an error: a replication peer's schedule window is closed. Looked at before each
  // round; entries an `apply` leaves kRetry while the gate has closed are not an error either.
  // Called on the drainer's thread. Default: none (always open).
  std::function<bool()> gate;
};

class Drainer {
 public:
  // REQUIRES: outbox and clock outlive the drainer; the queue is open; metrics may be null.
  // Registers itself as the queue's Put listener.
  Drainer(DrainerOptions options, Outbox* outbox, const Clock* clock, ApplyBatchFn apply,
          Registry* metrics, RoundHookFn before_round = nullptr);
  ~Drainer();  // Stop()s
  Drainer(const Drainer&) = delete;
  Drainer& operator=(const Drainer&) = delete;

  void Start();
  // Finishes the batch in flight, then stops. Idempotent.
  void Stop() EXCLUDES(mu_);
  // Something to do (a notice for the round hook): run a round now. Does not cut a backoff
  // short: notices and Puts keep coming while the target is down and must not turn the backoff
  // into a busy retry loop.
  void Wake() EXCLUDES(mu_);
  // The cause of the last failure may be gone (e.g. corrected credentials after SIGHUP): ends a
  // backoff wait in progress and runs a round now. A failure again backs off as before.
  void RetryNow() EXCLUDES(mu_);
  // Waits until a round found nothing to do (queue empty, hook idle), or `timeout`; true if so.
  bool WaitIdle(std::chrono::milliseconds timeout) EXCLUDES(mu_);

  // One round on the caller's thread: the hook, then one batch. `*more` = call again.
  // REQUIRES: not started (tests, benchmarks).
  Status RunOnce(bool* more) EXCLUDES(mu_);

  uint64_t applied() const { return applied_.load(); }
  uint64_t dropped() const { return dropped_.load(); }
  uint64_t rejected() const { return rejected_.load(); }
  // Entries passed over because they are not due yet (options.delay).
  size_t deferred() const { return deferred_count_.load(); }
  // Seconds since the oldest waiting entry was finalized (0 when none is waiting).
  double lag_seconds() const { return lag_seconds_.load(); }
  // The last error of `apply`, the hook or the disk ("" after a success).
  std::string last_error() const EXCLUDES(mu_);

 private:
  void Run() EXCLUDES(mu_);
  Status Round(bool* more) EXCLUDES(mu_);
  Status DrainBatch(bool* more) EXCLUDES(mu_);
  // Up to `n` call ids of the bucket at the cursor (moving the cursor on as buckets empty).
  Result<std::vector<std::string>> NextIds(size_t n) EXCLUDES(mu_);
  Result<std::vector<std::string>> ListBuckets();
  void OnPut(std::string_view call_id) EXCLUDES(mu_);
  // Moves <dir>/<stem>.json to rejected/ with <stem>.reason beside it ("" dir = the cursor's
  // bucket). False when it could not be moved (logged).
  bool Reject(const std::string& stem, const std::string& reason, std::string dir = "");
  void SetLag(const std::vector<Delivery>& batch);
  // When `entry` is due (options_.delay after it was finalized); nullopt = now.
  std::optional<std::chrono::system_clock::time_point> DueTime(const Entry& entry) const;
  // Up to `n` deferred call ids that are due now (removed from deferred_).
  std::vector<std::string> TakeDue(size_t n);

  const DrainerOptions options_;
  Outbox* const outbox_;
  Fs* const fs_;
  const Clock* const clock_;
  const ApplyBatchFn apply_;
  const RoundHookFn before_round_;
  const std::string queue_dir_;
  std::thread thread_;

  // The cursor: owned by the thread running rounds.
  std::string bucket_;              // "" = not positioned
  std::deque<std::string> cached_;  // listed, not yet delivered call ids of bucket_
  bool listed_ = false;             // bucket_ was listed since it became the cursor
  // Buckets after bucket_ from the last listing of the queue's top level (oldest first); the
  // top level is listed again only once these are used up.
  std::deque<std::string> ahead_;
  // Entries passed over as not due yet: call id → due time (options_.delay).
  std::map<std::string, std::chrono::system_clock::time_point> deferred_;
  std::atomic<size_t> deferred_count_{0};

  std::atomic<uint64_t> applied_{0}, dropped_{0}, rejected_{0};
  std::atomic<double> lag_seconds_{0};
  Counter* applied_total_ = nullptr;
  Counter* dropped_total_ = nullptr;
  Counter* rejected_total_ = nullptr;
  Counter* errors_total_ = nullptr;
  Gauge* lag_gauge_ = nullptr;

  mutable Mutex mu_;
  std::condition_variable cv_;
  std::optional<std::string> rewind_ GUARDED_BY(mu_);  // smallest bucket put behind the cursor
  bool wake_ GUARDED_BY(mu_) = false;
  bool retry_now_ GUARDED_BY(mu_) = false;  // RetryNow(): end the backoff wait
  // An idle poll: scan again from the oldest bucket (entries another process put behind the
  // cursor send no notice), and now and then recount the backlog.
  bool rescan_ GUARDED_BY(mu_) = false;
  std::chrono::steady_clock::time_point last_recount_{};  // the drainer's thread
  bool stop_ GUARDED_BY(mu_) = false;
  bool idle_ GUARDED_BY(mu_) = false;
  std::string last_error_ GUARDED_BY(mu_);
};

}  // namespace callvault::outbox
