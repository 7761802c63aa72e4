// A counter with one writer (the capture thread) and any number of readers (metrics): the
// writer adds without a locked instruction, readers load relaxed. Wider than pcap's 32-bit
// counters, so it never wraps in practice.
#pragma once

#include <atomic>
#include <cstdint>

namespace callvault::capture::internal {

class Counter {
 public:
  // REQUIRES: called from the single writer thread only.
  void Add(uint64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t Get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

}  // namespace callvault::capture::internal
