// FinalizeQueue: the threads that turn ended calls' spools into recordings
// (recording::FinalizeCall), off the SIP and media paths. The spool itself is the durable queue
// (DESIGN.md rule 2): an entry here is only a hint; whatever is still in data/spool at start-up
// is finalized by RecoverAtStartup (ended calls with their state, crashed ones as `partial`).
// A failing finalization (disk full, unwritable recordings dir) is retried with backoff while
// the process runs, and again at the next start; the spool is never removed before the
// recording and its manifest are durable.
//
// Called by: app/ (Server: RecoverAtStartup, Start/Stop; LocalBackend::EndCall: Enqueue).
// Thread-safety: Enqueue and pending() are thread-safe; Start/Stop/RecoverAtStartup from one
// thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/fs.h"
#include "base/mutex.h"
#include "recording/finalizer.h"

namespace callvault::app {

class FinalizeQueue {
 public:
  // REQUIRES: fs and clock outlive the queue.
  FinalizeQueue(Fs* fs, const Clock* clock, recording::FinalizeOptions options, int workers);
  ~FinalizeQueue();  // Stop()s

  // Called on a worker thread with the manifest's state after each call is finalized (its
  // outbox entries exist), e.g. to wake the catalog ingester. REQUIRES: set before Start().
  void set_on_finalized(std::function<void(const std::string& state)> f) {
    on_finalized_ = std::move(f);
  }

  // Starts the workers, plus `extra_until_idle` more that exit once the queue is empty (start-up
  // recovery: finalizing is mostly waiting for fsync, so more threads finish a backlog sooner).
  void Start(int extra_until_idle = 0);
  // Finishes the request being worked on, then stops; queued requests stay in the spool for
  // the next start. Idempotent.
  void Stop() EXCLUDES(mu_);

  void Enqueue(recording::FinalizeRequest request) EXCLUDES(mu_);

  // Queues every unfinished spool directory under `spool_root` (oldest first); the finalizer
  // takes state, participants and metadata from each one's `end` line. Returns how many.
  // `recovered` (optional) gets each queued call's (SIP Call-ID, call id) from its `start` line
  // for calls without an `end` line (crashed while recording).
  Result<size_t> RecoverAtStartup(
      const std::string& spool_root,
      std::vector<std::pair<std::string, std::string>>* recovered = nullptr);

  size_t pending() const EXCLUDES(mu_);
  uint64_t finalized() const { return finalized_.load(); }
  uint64_t failures() const { return failures_.load(); }

 private:
  void Run(bool until_idle) EXCLUDES(mu_);
  // Finalizes with retries; false when stopping before it succeeded.
  bool Process(const recording::FinalizeRequest& request) EXCLUDES(mu_);

  Fs* const fs_;
  const Clock* const clock_;
  const recording::FinalizeOptions options_;
  const int workers_;
  std::function<void(const std::string& state)> on_finalized_;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> finalized_{0}, failures_{0};

  mutable Mutex mu_;
  std::condition_variable cv_;
  std::deque<recording::FinalizeRequest> queue_ GUARDED_BY(mu_);
  size_t busy_ GUARDED_BY(mu_) = 0;
  bool stop_ GUARDED_BY(mu_) = false;
};

}  // namespace callvault::app
