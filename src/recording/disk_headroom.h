// DiskHeadroom: "will the disk be full before the calls already answered can finish?" (issue
// 21). Besides a fixed floor of free space (http.min_free_disk_mb), the recorder refuses new calls
// when the time left until the spool's filesystem is full — free bytes divided by the rate at
// which the node asks it to write (the spool's demand: every datagram received, written or not,
// plus the finalizer's audio) over the last `window` — falls below `horizon`. The rate is the
// demand, not what the disk accepted, so a disk that is already refusing writes does not look
// idle. Once refusing, calls are accepted again when the estimate is back above 1.25 × horizon
// (or nothing is being written), so admission does not flap at the boundary.
//
// Who calls it: app/ (the recorder's `disk_headroom` readiness check: SIP 503 + Warning and
// /readyz?role=recorder). Thread-safety: thread-safe (Check may be called from the availability
// thread and HTTP threads at once).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <utility>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"

namespace callvault::recording {

struct DiskHeadroomOptions {
  // Refuse new calls when the disk would be full sooner than this. 0 = never (the check passes).
  // Default: 300 s.
  std::chrono::seconds horizon{300};
  // The write rate is measured over this much recent time. Default: 10 s.
  std::chrono::seconds window{10};
};

class DiskHeadroom {
 public:
  // `written()`: bytes asked to be written since start (monotonic); `free_bytes()`: free bytes on
  // the filesystem now. REQUIRES: `clock` outlives this; both functions are thread-safe.
  DiskHeadroom(DiskHeadroomOptions options, const Clock* clock, std::function<uint64_t()> written,
               std::function<Result<uint64_t>()> free_bytes);

  // Takes a sample and decides: OK, or ResourceExhausted naming the free space, the rate and the
  // estimated time to full; the free-space function's error as it is.
  Status Check() EXCLUDES(mu_);

  // The last sample's figures (0 when unknown).
  double rate_bytes_per_s() const EXCLUDES(mu_);
  double seconds_to_full() const EXCLUDES(mu_);

 private:
  const DiskHeadroomOptions options_;
  const Clock* const clock_;
  const std::function<uint64_t()> written_;
  const std::function<Result<uint64_t>()> free_bytes_;

  mutable Mutex mu_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, uint64_t>> samples_ GUARDED_BY(mu_);
  double rate_ GUARDED_BY(mu_) = 0;
  double seconds_to_full_ GUARDED_BY(mu_) = 0;
  bool refusing_ GUARDED_BY(mu_) = false;
};

}  // namespace callvault::recording
