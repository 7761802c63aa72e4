#include "base/uuid.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace callvault {
namespace {

using std::chrono::milliseconds;

TEST(UuidTest, FormatVersionAndVariant) {
  std::string id = NewUuidV7(*RealClock());
  ASSERT_EQ(id.size(), 36u);
  EXPECT_TRUE(IsUuid(id)) << id;
  EXPECT_EQ(id[14], '7');                                                // version
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // variant 10
  for (char c : id) EXPECT_TRUE(c == '-' || std::islower(c) || std::isdigit(c)) << id;
}

TEST(UuidTest, EmbedsTheWallClockMillisecond) {
  FakeClock clock;  // 2026-01-01T00:00:00Z
  clock.Advance(milliseconds(123));
  UuidV7Generator gen;
  std::string id = gen.Next(clock);
  EXPECT_EQ(id.substr(0, 13), "019b76da-a87b") << id;  // 1767225600123 = 0x019b76daa87b
  auto t = UuidV7Time(id);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, clock.WallNow());
}

TEST(UuidTest, MonotonicWithinAMillisecondAndWhenTheClockStepsBack) {
  FakeClock clock;
  UuidV7Generator gen;
  std::vector<std::string> ids;
  for (int i = 0; i < 10000; ++i) ids.push_back(gen.Next(clock));  // same ms: counter overflows
  clock.SetWall(clock.WallNow() - std::chrono::seconds(10));       // NTP step back
  for (int i = 0; i < 10; ++i) ids.push_back(gen.Next(clock));
  for (size_t i = 1; i < ids.size(); ++i) ASSERT_LT(ids[i - 1], ids[i]) << i;
  // 10000 ids in one ms borrowed at most 10000 / 2048 + 1 following milliseconds.
  auto first = UuidV7Time(ids.front()).value();
  auto last = UuidV7Time(ids.back()).value();
  EXPECT_LE(last - first, milliseconds(6));
}

TEST(UuidTest, UniqueAndOrderedAcrossThreads) {
  std::vector<std::vector<std::string>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& out : per_thread) {
    threads.emplace_back([&out] {
      for (int i = 0; i < 5000; ++i) out.push_back(NewUuidV7(*RealClock()));
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& out : per_thread) {
    for (size_t i = 1; i < out.size(); ++i) ASSERT_LT(out[i - 1], out[i]);
    all.insert(out.begin(), out.end());
  }
  EXPECT_EQ(all.size(), 20000u);
}

TEST(UuidTest, IsUuidAndUuidV7Time) {
  EXPECT_TRUE(IsUuid("0190a6f2-7c3e-7b1a-9f2d-3e4c5b6a7d8e"));
  EXPECT_TRUE(IsUuid("00000000-0000-4000-8000-000000000000"));   // any version
  EXPECT_FALSE(IsUuid("0190A6F2-7C3E-7B1A-9F2D-3E4C5B6A7D8E"));  // not canonical
  EXPECT_FALSE(IsUuid("0190a6f27c3e7b1a9f2d3e4c5b6a7d8e"));
  EXPECT_FALSE(IsUuid("0190a6f2-7c3e-7b1a-9f2d-3e4c5b6a7d8"));
  EXPECT_FALSE(IsUuid("0190a6f2-7c3e-7b1a-9f2d_3e4c5b6a7d8e"));
  EXPECT_FALSE(IsUuid("0190a6f2-7c3e-7b1a-9f2d-3e4c5b6a7d8g"));
  EXPECT_FALSE(IsUuid(""));
  EXPECT_EQ(UuidV7Time("00000000-0000-4000-8000-000000000000").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(UuidV7Time("0190a6f2-7c3e-7b1a-cf2d-3e4c5b6a7d8e").ok());  // variant 110
  EXPECT_EQ(UuidV7Time("0190a6f2-7c3e-7b1a-9f2d-3e4c5b6a7d8e").value().time_since_epoch(),
            milliseconds(0x0190a6f27c3e));
}

}  // namespace
}  // namespace callvault
