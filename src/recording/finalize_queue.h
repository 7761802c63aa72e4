// FinalizeQueue: the pool of threads that turn ended calls' spools into recordings
// (FinalizeCall), off the SIP and media paths. The spool itself is the durable queue (DESIGN.md
// rule 2): a request here is only a hint; whatever is still in data/spool at start-up is queued
// again by RecoverAtStartup (ended calls with their state, crashed ones as `partial`).
//
// Parallel, per call in order: up to `workers` calls are finalized at once (finalizing is mostly
// waiting for fsync, so more threads than cores finish a mass hang-up sooner); two requests for
// one call never run at the same time, and run in the order they were queued. A failing
// finalization (disk full, unwritable recordings dir) goes back into the queue with a backoff
// (doubling from first_backoff to max_backoff, timed by the Clock) while the others go on; the
// spool is never removed before the recording, its manifest and its outbox entries are durable.
// A start-up backlog is finalized by the same pool.
//
// Called by: app/ (RecoverAtStartup, Start/Stop), LocalBackend::EndCall (Enqueue).
// Thread-safety: Enqueue, Wake and the accessors are thread-safe; Start/Stop/RecoverAtStartup
// from one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/fs.h"
#include "base/mutex.h"
#include "recording/finalizer.h"

namespace callvault::recording {

struct FinalizeQueueOptions {
  // Finalizer threads; 0 = DefaultFinalizeWorkers(). Default: 0.
  int workers = 0;
  // Backoff of a failing finalization. Defaults: 1 s doubling up to 60 s.
  std::chrono::milliseconds first_backoff{1000};
  std::chrono::milliseconds max_backoff{60000};
  // Asked before each attempt (on a worker thread, no lock held): true while the call's spool
  // still holds data in memory that the disk has not taken yet (a full disk at the end of the
  // call: media::MediaEngine::SpoolPending, the session log's `end` line; issue 21). The
  // attempt is then put off by `pending_poll`, not counted as a failure (one
  // `finalize.waiting_for_spool` line per call). Null: never waits.
  std::function<bool(const std::string& call_id)> spool_pending;
  std::chrono::milliseconds pending_poll{250};
};

// 4 per core (the work waits on fsync), at least 4, at most 16.
int DefaultFinalizeWorkers();

class FinalizeQueue {
 public:
  // REQUIRES: fs and clock outlive the queue.
  FinalizeQueue(Fs* fs, const Clock* clock, FinalizeOptions options,
                FinalizeQueueOptions queue_options = {});
  ~FinalizeQueue();  // Stop()s

  // Called on a worker thread after each call is finalized by this run (its outbox entries
  // exist), e.g. to count it. REQUIRES: set before Start().
  void set_on_finalized(std::function<void(const FinalizeResult&)> f) {
    on_finalized_ = std::move(f);
  }

  void Start();
  // Finishes the requests being worked on, then stops; queued requests stay in the spool for
  // the next start. Idempotent.
  void Stop() EXCLUDES(mu_);

  void Enqueue(FinalizeRequest request) EXCLUDES(mu_);
  // Looks at delayed retries now (tests with a FakeClock advance it, then Wake()).
  void Wake() EXCLUDES(mu_);

  // Queues every unfinished spool directory under `spool_root` (oldest first); the finalizer
  // takes state, participants and metadata from each one's `end` line. Returns how many.
  // `recovered` (optional) gets each queued call's (SIP Call-ID, call id) from its `start` line
  // for calls without an `end` line (crashed while recording).
  Result<size_t> RecoverAtStartup(
      const std::string& spool_root,
      std::vector<std::pair<std::string, std::string>>* recovered = nullptr);

  int workers() const { return workers_; }
  // Requests queued, waiting for a retry, or being worked on.
  size_t pending() const EXCLUDES(mu_);
  uint64_t finalized() const { return finalized_.load(); }
  uint64_t failures() const { return failures_.load(); }
  // Audio bytes written by the finalizations of this run (for disk headroom estimates).
  uint64_t bytes_written() const { return bytes_written_.load(); }

 private:
  struct Item {
    FinalizeRequest request;
    std::string call_id;
    std::chrono::steady_clock::time_point not_before{};  // by clock_
    std::chrono::milliseconds backoff{0};
    bool waiting_logged = false;  // finalize.waiting_for_spool said once
  };

  void Run() EXCLUDES(mu_);
  // The first queued item that is due and whose call is not being finalized; queue_.end() if none.
  std::deque<Item>::iterator NextLocked() REQUIRES(mu_);
  // One attempt; true when the item is done (finalized, or nothing left to do).
  bool Attempt(const Item& item);

  Fs* const fs_;
  const Clock* const clock_;
  const FinalizeOptions options_;
  const FinalizeQueueOptions queue_options_;
  const int workers_;
  std::function<void(const FinalizeResult&)> on_finalized_;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> finalized_{0}, failures_{0}, bytes_written_{0};

  mutable Mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_ GUARDED_BY(mu_);
  std::set<std::string> busy_ GUARDED_BY(mu_);  // call ids being finalized
  bool stop_ GUARDED_BY(mu_) = false;
};

}  // namespace callvault::recording
