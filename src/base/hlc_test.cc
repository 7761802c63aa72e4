#include "base/hlc.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <vector>

namespace callvault {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int64_t kStartMs = 1767225600000;  // FakeClock's 2026-01-01T00:00:00Z

TEST(HlcTest, TextIsFixedWidthAndRoundTrips) {
  EXPECT_EQ((Hlc{kStartMs, 7}).ToString(), "1767225600000.000007");
  EXPECT_EQ((Hlc{0, 0}).ToString(), "0000000000000.000000");
  EXPECT_EQ((Hlc{Hlc::kMaxWallMs, Hlc::kMaxLogical}).ToString(), "9999999999999.999999");
  for (const Hlc& h : {Hlc{0, 0}, Hlc{kStartMs, 0}, Hlc{kStartMs, 123456},
                       Hlc{Hlc::kMaxWallMs, Hlc::kMaxLogical}}) {
    Result<Hlc> back = ParseHlc(h.ToString());
    ASSERT_TRUE(back.ok()) << h.ToString();
    EXPECT_EQ(*back, h);
  }
}

TEST(HlcTest, TextSortsLikeValues) {
  std::vector<Hlc> values = {{kStartMs, 10}, {kStartMs, 9},    {kStartMs + 1, 0},
                             {999, 999999},  {1000, 0},        {kStartMs, 100000},
                             {0, 1},         {kStartMs - 1, 5}};
  for (const Hlc& a : values) {
    for (const Hlc& b : values) {
      EXPECT_EQ(a < b, a.ToString() < b.ToString()) << a.ToString() << " " << b.ToString();
    }
  }
}

TEST(HlcTest, ParseRefusesAnythingElse) {
  for (const char* bad : {"", "1767225600000", "1767225600000.00000", "1767225600000.0000000",
                          "176722560000.0000001", "1767225600000,000000", "176722560000a.000000",
                          "-767225600000.000000", "1767225600000.00000x", " 767225600000.000000"}) {
    EXPECT_EQ(ParseHlc(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(HlcClockTest, FollowsTheWallClockAndCountsWithinAMillisecond) {
  FakeClock clock;
  HlcClock hlc(&clock);
  EXPECT_EQ(hlc.Now(), (Hlc{kStartMs, 0}));
  EXPECT_EQ(hlc.Now(), (Hlc{kStartMs, 1}));
  EXPECT_EQ(hlc.Now(), (Hlc{kStartMs, 2}));
  clock.Advance(milliseconds(5));
  EXPECT_EQ(hlc.Now(), (Hlc{kStartMs + 5, 0}));
  EXPECT_EQ(hlc.Last(), (Hlc{kStartMs + 5, 0}));
}

TEST(HlcClockTest, NeverGoesBackWhenTheWallClockSteps) {
  FakeClock clock;
  HlcClock hlc(&clock);
  const Hlc first = hlc.Now();
  clock.SetWall(clock.WallNow() - seconds(30));  // NTP steps back
  const Hlc second = hlc.Now();
  EXPECT_GT(second, first);
  EXPECT_EQ(second, (Hlc{kStartMs, 1}));
}

TEST(HlcClockTest, LogicalOverflowMovesToTheNextMillisecond) {
  FakeClock clock;
  HlcClock hlc(&clock);
  hlc.Seed(Hlc{kStartMs, Hlc::kMaxLogical});
  EXPECT_EQ(hlc.Now(), (Hlc{kStartMs + 1, 0}));
  EXPECT_EQ(hlc.Now().ToString().size(), 20u);
}

TEST(HlcClockTest, ObserveMergesSoLaterStampsExceedTheRemote) {
  FakeClock clock;
  HlcClock hlc(&clock);
  hlc.Now();
  // A peer slightly ahead (within the skew): our next stamps follow it.
  const Hlc remote{kStartMs + 2000, 4};
  ASSERT_TRUE(hlc.Observe(remote, seconds(5)).ok());
  EXPECT_EQ(hlc.Last(), (Hlc{kStartMs + 2000, 5}));
  EXPECT_EQ(hlc.Now(), (Hlc{kStartMs + 2000, 6}));
  // Same millisecond on both sides: max(logical) + 1.
  ASSERT_TRUE(hlc.Observe(Hlc{kStartMs + 2000, 40}, seconds(5)).ok());
  EXPECT_EQ(hlc.Last(), (Hlc{kStartMs + 2000, 41}));
  // A remote stamp from the past only ticks the local one.
  ASSERT_TRUE(hlc.Observe(Hlc{kStartMs - 60000, 3}, seconds(5)).ok());
  EXPECT_EQ(hlc.Last(), (Hlc{kStartMs + 2000, 42}));
  // Once the wall clock passes everything, stamps follow it again.
  clock.Advance(seconds(3));
  ASSERT_TRUE(hlc.Observe(Hlc{kStartMs + 2500, 0}, seconds(5)).ok());
  EXPECT_EQ(hlc.Last(), (Hlc{kStartMs + 3000, 0}));
}

TEST(HlcClockTest, ObserveRefusesAStampTooFarAheadAndMergesNothing) {
  FakeClock clock;
  HlcClock hlc(&clock);
  const Hlc before = hlc.Now();
  Status s = hlc.Observe(Hlc{kStartMs + 60001, 0}, seconds(60));
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange) << s.ToString();
  EXPECT_EQ(hlc.Last(), before);
  // Exactly max_skew ahead is accepted.
  EXPECT_TRUE(hlc.Observe(Hlc{kStartMs + 60000, 0}, seconds(60)).ok());
  // A huge skew allowance does not overflow.
  EXPECT_TRUE(hlc.Observe(Hlc{Hlc::kMaxWallMs, 0}, milliseconds::max()).ok());
}

TEST(HlcClockTest, SeedOnlyRaises) {
  FakeClock clock;
  HlcClock hlc(&clock);
  hlc.Seed(Hlc{kStartMs + 10000, 3});
  EXPECT_EQ(hlc.Now(), (Hlc{kStartMs + 10000, 4}));
  hlc.Seed(Hlc{kStartMs, 0});
  EXPECT_EQ(hlc.Now(), (Hlc{kStartMs + 10000, 5}));
}

TEST(HlcClockTest, ConcurrentStampsAreUnique) {
  FakeClock clock;
  HlcClock hlc(&clock);
  std::vector<std::vector<Hlc>> got(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) got[t].push_back(hlc.Now());
    });
  }
  for (std::thread& th : threads) th.join();
  std::vector<Hlc> all;
  for (const auto& v : got) {
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
    all.insert(all.end(), v.begin(), v.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
}

}  // namespace
}  // namespace callvault
