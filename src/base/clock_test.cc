#include "base/clock.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace callvault {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ClockTest, RealClockIsMonotonicAndCloseToSystemTime) {
  Clock* clock = RealClock();
  ASSERT_NE(clock, nullptr);
  EXPECT_EQ(clock, RealClock());
  auto a = clock->Now();
  auto b = clock->Now();
  EXPECT_LE(a, b);
  auto diff = clock->WallNow() - std::chrono::system_clock::now();
  EXPECT_LT(std::chrono::abs(diff), seconds(5));
}

TEST(FakeClockTest, StartsAtFixedWallTime) {
  FakeClock clock;
  EXPECT_EQ(clock.WallNow().time_since_epoch(), seconds(1767225600));  // 2026-01-01T00:00:00Z
  FakeClock other(std::chrono::system_clock::time_point(seconds(42)));
  EXPECT_EQ(other.WallNow().time_since_epoch(), seconds(42));
}

TEST(FakeClockTest, AdvanceMovesBothClocks) {
  FakeClock clock;
  auto now = clock.Now();
  auto wall = clock.WallNow();
  clock.Advance(milliseconds(1500));
  EXPECT_EQ(clock.Now() - now, milliseconds(1500));
  EXPECT_EQ(clock.WallNow() - wall, milliseconds(1500));
}

TEST(FakeClockTest, SetWallLeavesSteadyClockAlone) {
  FakeClock clock;
  auto now = clock.Now();
  auto earlier = clock.WallNow() - seconds(3600);
  clock.SetWall(earlier);  // an NTP step backwards
  EXPECT_EQ(clock.WallNow(), earlier);
  EXPECT_EQ(clock.Now(), now);
}

TEST(FakeClockTest, ConcurrentAdvanceIsNotLost) {
  FakeClock clock;
  auto start = clock.Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&clock] {
      for (int i = 0; i < 1000; ++i) clock.Advance(milliseconds(1));
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(clock.Now() - start, milliseconds(4000));
}

TEST(FakeClockDeathTest, NegativeAdvanceCrashes) {
  FakeClock clock;
  EXPECT_DEATH(clock.Advance(milliseconds(-1)), "negative duration");
}

}  // namespace
}  // namespace callvault
