#include "recording/disk_headroom.h"

#include <gtest/gtest.h>

#include <atomic>

namespace callvault::recording {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Disk {
  std::atomic<uint64_t> written{0};
  std::atomic<uint64_t> free{1000ull << 20};
};

DiskHeadroom Make(Disk* d, FakeClock* clock, seconds horizon = seconds(60)) {
  return DiskHeadroom(
      {.horizon = horizon, .window = seconds(10)}, clock, [d] { return d->written.load(); },
      [d]() -> Result<uint64_t> { return d->free.load(); });
}

// Writes `rate` bytes/s for `s` seconds in 200 ms steps, checking at each step; the last status.
Status Feed(DiskHeadroom& h, Disk* d, FakeClock* clock, uint64_t rate, int s, bool consume = true) {
  Status last;
  for (int i = 0; i < s * 5; ++i) {
    clock->Advance(milliseconds(200));
    d->written += rate / 5;
    if (consume) d->free -= std::min<uint64_t>(d->free, rate / 5);
    last = h.Check();
  }
  return last;
}

TEST(DiskHeadroomTest, IdleNodeWithLittleSpaceIsAccepted) {
  Disk d;
  d.free = 1 << 20;  // the fixed floor is another check's business
  FakeClock clock;
  DiskHeadroom h = Make(&d, &clock);
  EXPECT_TRUE(Feed(h, &d, &clock, 0, 3).ok());
}

TEST(DiskHeadroomTest, RefusesWhenTheEstimateFallsBelowTheHorizonAndAcceptsWhenSpaceReturns) {
  Disk d;
  d.free = 100ull << 20;  // 100 MiB at 1 MiB/s: 100 s, then less
  FakeClock clock;
  DiskHeadroom h = Make(&d, &clock, seconds(60));
  EXPECT_TRUE(Feed(h, &d, &clock, 1 << 20, 5).ok());  // ~95 s left
  EXPECT_NEAR(h.rate_bytes_per_s(), 1 << 20, 1);
  Status s = Feed(h, &d, &clock, 1 << 20, 40);  // ~55 s left
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("full in ~"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("disk_full_horizon_s = 60"), std::string::npos);
  d.free = 70ull << 20;  // above the horizon, below 1.25 × horizon: still refused (no flapping)
  EXPECT_FALSE(h.Check().ok());
  d.free = 500ull << 20;  // space returns
  EXPECT_TRUE(h.Check().ok());
  EXPECT_GT(h.seconds_to_full(), 400);
}

TEST(DiskHeadroomTest, AFullDiskStillShowsTheDemand) {
  Disk d;
  d.free = 0;
  FakeClock clock;
  DiskHeadroom h = Make(&d, &clock);
  // Nothing is accepted by the disk, yet the node is asked to write: refused.
  EXPECT_EQ(Feed(h, &d, &clock, 1 << 20, 3, /*consume=*/false).code(),
            StatusCode::kResourceExhausted);
  // The calls end: no demand over the window, accepted (min_free_disk_mb guards the floor).
  EXPECT_TRUE(Feed(h, &d, &clock, 0, 12).ok());
}

TEST(DiskHeadroomTest, ZeroHorizonIsOff) {
  Disk d;
  d.free = 0;
  FakeClock clock;
  DiskHeadroom h = Make(&d, &clock, seconds(0));
  EXPECT_TRUE(Feed(h, &d, &clock, 1 << 20, 3, false).ok());
}

TEST(DiskHeadroomTest, FreeSpaceErrorsAreReported) {
  FakeClock clock;
  DiskHeadroom h(
      {}, &clock, [] { return uint64_t{0}; },
      []() -> Result<uint64_t> { return IoError("statvfs", 5); });
  EXPECT_FALSE(h.Check().ok());
}

}  // namespace
}  // namespace callvault::recording
