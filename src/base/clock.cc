#include "base/clock.h"

#include "base/status.h"

namespace callvault {
namespace {

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() const override {
    return std::chrono::steady_clock::now();
  }
  std::chrono::system_clock::time_point WallNow() const override {
    return std::chrono::system_clock::now();
  }
};

// 2026-01-01T00:00:00Z.
constexpr std::chrono::seconds kDefaultFakeWall(1767225600);

}  // namespace

Clock* RealClock() {
  static SystemClock* const clock = new SystemClock();  // never destroyed: usable at exit
  return clock;
}

FakeClock::FakeClock() : FakeClock(std::chrono::system_clock::time_point(kDefaultFakeWall)) {}

FakeClock::FakeClock(std::chrono::system_clock::time_point wall)
    : now_(std::chrono::steady_clock::time_point() + std::chrono::hours(1)), wall_(wall) {}

std::chrono::steady_clock::time_point FakeClock::Now() const {
  MutexLock lock(&mu_);
  return now_;
}

std::chrono::system_clock::time_point FakeClock::WallNow() const {
  MutexLock lock(&mu_);
  return wall_;
}

void FakeClock::Advance(std::chrono::nanoseconds d) {
  CV_CHECK_MSG(d.count() >= 0, "FakeClock::Advance with a negative duration");
  MutexLock lock(&mu_);
  now_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(d);
  wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
}

void FakeClock::SetWall(std::chrono::system_clock::time_point wall) {
  MutexLock lock(&mu_);
  wall_ = wall;
}

}  // namespace callvault
