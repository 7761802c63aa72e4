// DescriptorBudget: refuses new calls before the process runs out of file descriptors (issue 18),
// so a call is never half-opened and a failed socket()/open() is never the reason for a 503.
//
// The process may hold `limit` descriptors (RLIMIT_NOFILE, raised to the hard limit at start).
// `reserve` of them are kept for what is not a call and may grow at any time: HTTP and SIP
// TCP/TLS connections, the catalog, the finalizer's files, outbox entries, logs. A new call
// needs `per_call` (a two-stream call with the defaults: 2 RTP sockets + media.spool +
// session.jsonl = 4). A call is admitted while
//     in_use + per_call <= limit - reserve
// where `in_use` = the last count of /proc/self/fd (taken by Refresh(), at most every
// `refresh`) + the change since that count in the descriptors calls hold (a lock-free counter
// the media engine and the recorder keep). So the per-INVITE check (Admit) reads two atomics and
// never lists a directory, yet follows every call opened or closed since the last count exactly.
//
// Who calls it: app/server.cc — Admit() from recorder workers for every new INVITE
// (RecorderOptions::admit_call), Check() as the recorder's `descriptors` readiness check
// (/readyz?role=recorder and SIP admission, every 200 ms), gauges on /metrics.
// Thread-safety: thread-safe; Configure() before the first call arrives.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"

namespace callvault::app {

// Descriptors in /proc/self/fd now (one directory listing); an error when it cannot be read.
Result<size_t> CountOpenDescriptors();

class DescriptorBudget {
 public:
  using CountFn = std::function<size_t()>;

  // `call_descriptors`: descriptors held by calls now (cheap, lock-free; e.g. the media
  // engine's sockets and spool files + one session log per active call). `count_open`: the
  // process's descriptors now (default CountOpenDescriptors; tests pass their own).
  // REQUIRES: `clock` outlives the budget.
  DescriptorBudget(const Clock* clock, CountFn call_descriptors,
                   std::function<Result<size_t>()> count_open = CountOpenDescriptors);

  // Sets the limits and counts once. `refresh`: how old the count may get before Check()
  // counts again.
  void Configure(size_t limit, size_t reserve, size_t per_call,
                 std::chrono::milliseconds refresh = std::chrono::seconds(1)) EXCLUDES(mu_);

  // Counts /proc/self/fd now (the call counter is read just before, so a call opened during the
  // listing is counted twice rather than not at all).
  Status Refresh() EXCLUDES(mu_);
  // OK when one more call fits; ResourceExhausted naming the figures otherwise. Cheap.
  Status Admit() const;
  // Refresh() when the count is older than `refresh`, then Admit(): the readiness check.
  Status Check() EXCLUDES(mu_);

  size_t limit() const { return limit_.load(std::memory_order_relaxed); }
  size_t reserve() const { return reserve_.load(std::memory_order_relaxed); }
  size_t per_call() const { return per_call_.load(std::memory_order_relaxed); }
  // Descriptors in use now (estimate, see the class comment).
  size_t in_use() const;
  // Calls that fit beside the ones open now: (limit - reserve - in_use) / per_call.
  size_t free_calls() const;

 private:
  const Clock* const clock_;
  const CountFn call_descriptors_;
  const std::function<Result<size_t>()> count_open_;

  std::atomic<size_t> limit_{0}, reserve_{0}, per_call_{1};
  // The last Refresh, published as one word so that readers never pair a new count with an old
  // call figure: /proc/self/fd entries << 32 | call_descriptors() read just before the listing.
  std::atomic<uint64_t> snapshot_{0};

  Mutex mu_;  // one Refresh at a time
  std::chrono::milliseconds refresh_ GUARDED_BY(mu_){1000};
  std::chrono::steady_clock::time_point counted_at_ GUARDED_BY(mu_){};
};

}  // namespace callvault::app
