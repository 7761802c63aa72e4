// SpoolMemoryBudget: the node-wide bound on spool records held in memory (issue 21). Every
// call's CallSpoolWriter buffers its records between flushes; while the disk refuses writes the
// buffers grow, and a call that ends then still holds its records until the disk takes them
// (MediaEngine keeps such writers). All of it is charged here: a writer reserves in chunks of
// kChunk bytes as its buffer grows past what it holds, and gives back what it no longer needs
// after a write, so the shared counter is touched about once per flush per call, never per
// packet. Past the limit new records are dropped (and counted, CallSpoolWriter); records that
// must not be dropped (stream declarations, loss markers: a few dozen bytes) are charged with
// Force() and may overshoot the limit by that much.
//
// Who calls it: CallSpoolWriter (its owner thread), MediaEngine (gauges), app/ (configuration).
// Thread-safety: thread-safe, lock-free.
#pragma once

#include <atomic>
#include <cstddef>

namespace callvault::media {

class SpoolMemoryBudget {
 public:
  static constexpr size_t kChunk = 16 * 1024;

  explicit SpoolMemoryBudget(size_t limit_bytes) : limit_(limit_bytes) {}
  SpoolMemoryBudget(const SpoolMemoryBudget&) = delete;
  SpoolMemoryBudget& operator=(const SpoolMemoryBudget&) = delete;

  // Takes `n` bytes when they fit under the limit; false (nothing taken) otherwise.
  bool TryReserve(size_t n);
  // Takes `n` bytes whatever the limit.
  void Force(size_t n) { used_.fetch_add(n, std::memory_order_relaxed); }
  // Gives back `n` bytes taken before.
  void Release(size_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }

  size_t limit() const { return limit_; }
  size_t used() const { return used_.load(std::memory_order_relaxed); }

 private:
  const size_t limit_;
  std::atomic<size_t> used_{0};
};

}  // namespace callvault::media
