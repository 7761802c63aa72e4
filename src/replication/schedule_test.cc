#include "replication/schedule.h"

#include <gtest/gtest.h>

namespace callvault::replication {
namespace {

TEST(ScheduleTest, ContinuousIsAlwaysOpen) {
  for (std::string_view text : {"", "continuous", " continuous "}) {
    Result<Schedule> s = Schedule::Parse(text);
    ASSERT_TRUE(s.ok()) << text;
    EXPECT_TRUE(s->continuous());
    EXPECT_TRUE(s->IsOpenAt(0));
    EXPECT_TRUE(s->IsOpenAt(1439));
  }
}

TEST(ScheduleTest, AWindowAcrossMidnightIsOpenFromItsStartUntilBeforeItsEnd) {
  Result<Schedule> s = Schedule::Parse("22:00-06:00");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->continuous());
  EXPECT_FALSE(s->IsOpenAt(21 * 60 + 59));
  EXPECT_TRUE(s->IsOpenAt(22 * 60));
  EXPECT_TRUE(s->IsOpenAt(0));
  EXPECT_TRUE(s->IsOpenAt(5 * 60 + 59));
  EXPECT_FALSE(s->IsOpenAt(6 * 60));
  EXPECT_FALSE(s->IsOpenAt(12 * 60));
}

TEST(ScheduleTest, SeveralWindowsAndAWindowEndingAtMidnight) {
  Result<Schedule> s = Schedule::Parse("12:00-13:00, 20:00-24:00");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->IsOpenAt(12 * 60 + 30));
  EXPECT_FALSE(s->IsOpenAt(13 * 60));
  EXPECT_TRUE(s->IsOpenAt(23 * 60 + 59));
  EXPECT_FALSE(s->IsOpenAt(0));
}

TEST(ScheduleTest, MalformedWindowsAreRefusedNamingThePart) {
  for (std::string_view bad : {"22:00", "25:00-06:00", "22:60-06:00", "22-06", "10:00-10:00",
                               "10:00-11:00,", "x", "22:00-06:00;"}) {
    Result<Schedule> s = Schedule::Parse(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find("schedule"), std::string_view::npos);
  }
}

}  // namespace
}  // namespace callvault::replication
