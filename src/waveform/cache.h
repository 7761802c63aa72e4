// WaveformCache: waveform peaks (peaks.h) computed at most `max_concurrent` at a time and kept,
// bounded by bytes, keyed by the audio's SHA-256 and the number of points — a recording's bytes
// never change under its hash, so an entry never goes stale (a deleted call's entry just ages
// out). Reading a whole recording is the expensive part: a portal page opened by many users, or
// reloaded, costs it once.
//
// Who calls it: http/ (the waveform route). Thread-safety: thread-safe; Get may block for up to
// `wait` while other computations run, then answers Unavailable (the client retries).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "base/status.h"
#include "waveform/peaks.h"

namespace callvault::waveform {

struct WaveformCacheOptions {
  int max_concurrent = 2;
  size_t max_bytes = size_t{16} << 20;
  std::chrono::milliseconds wait{10000};
};

class WaveformCache {
 public:
  explicit WaveformCache(WaveformCacheOptions options = {}) : options_(options) {}

  using OpenFn = std::function<Result<std::unique_ptr<storage::AudioReader>>()>;
  // The peaks of the audio whose SHA-256 is `sha256` in `points` slices: from the cache, or
  // computed from the reader `open` returns (not cached when `sha256` is empty: unknown hash).
  Result<std::shared_ptr<const Peaks>> Get(const std::string& sha256, int points,
                                           const OpenFn& open);

  size_t bytes() const;
  size_t entries() const;
  uint64_t computed() const;  // computations run (misses)

 private:
  static size_t SizeOf(const Peaks& p);
  void Insert(const std::string& key, std::shared_ptr<const Peaks> peaks);

  const WaveformCacheOptions options_;
  mutable std::mutex mu_;
  std::condition_variable slot_free_;
  int running_ = 0;
  uint64_t computed_ = 0;
  size_t bytes_ = 0;
  // Most recently used first.
  std::list<std::pair<std::string, std::shared_ptr<const Peaks>>> lru_;
  std::unordered_map<std::string, decltype(lru_)::iterator> index_;
};

}  // namespace callvault::waveform
