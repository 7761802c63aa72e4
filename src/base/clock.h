// Clock: the time seam (STYLE.md §2, §8). Code that reads the time takes a `const Clock&` so tests
// can drive it with a FakeClock instead of sleeping.
//
// Now() is monotonic (std::chrono::steady_clock): use it for timeouts, durations and timers.
// WallNow() is civil time (std::chrono::system_clock): use it only for what a human or another
// node reads (timestamps in logs, manifests, UUIDv7 call ids); it may jump.
//
// Who calls it: every module with timers or timestamps; app/ passes RealClock() in.
// Thread-safety: RealClock() and FakeClock are safe to use from any thread.
#pragma once

#include <chrono>

#include "base/mutex.h"

namespace callvault {

class Clock {
 public:
  virtual ~Clock() = default;

  // Monotonic time, for measuring intervals.
  virtual std::chrono::steady_clock::time_point Now() const = 0;
  // Wall-clock (UTC) time, for timestamps.
  virtual std::chrono::system_clock::time_point WallNow() const = 0;
};

// The process's real clock. Never null; lives for the whole process.
Clock* RealClock();

// A clock that moves only when told to. Starts at steady time_point{} + 1h (so that subtracting a
// small duration stays positive) and wall time 2026-01-01T00:00:00Z unless given one.
class FakeClock : public Clock {
 public:
  FakeClock();
  explicit FakeClock(std::chrono::system_clock::time_point wall);

  std::chrono::steady_clock::time_point Now() const override EXCLUDES(mu_);
  std::chrono::system_clock::time_point WallNow() const override EXCLUDES(mu_);

  // Moves both clocks forward by `d`. REQUIRES: d >= 0 (steady time never goes back).
  void Advance(std::chrono::nanoseconds d) EXCLUDES(mu_);
  // Sets the wall clock only (models an NTP step, forwards or backwards); Now() is unchanged.
  void SetWall(std::chrono::system_clock::time_point wall) EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  std::chrono::steady_clock::time_point now_ GUARDED_BY(mu_);
  std::chrono::system_clock::time_point wall_ GUARDED_BY(mu_);
};

}  // namespace callvault
