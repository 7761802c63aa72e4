#include "base/time_format.h"

#include <gtest/gtest.h>

#include <ctime>

namespace callvault {
namespace {

constexpr int64_t kT = 1795593600000;  // 2026-11-25T08:00:00.000Z

TEST(FormatRfc3339MsTest, TheOneOutputForm) {
  EXPECT_EQ(FormatRfc3339Ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Ms(kT + 123), "2026-11-25T08:00:00.123Z");
  EXPECT_EQ(FormatRfc3339Ms(kT + 12), "2026-11-25T08:00:00.012Z");
  EXPECT_EQ(FormatRfc3339Ms(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339Ms(-1000), "1969-12-31T23:59:59.000Z");
  EXPECT_EQ(FormatRfc3339Ms(951782400000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Ms(253402300799999), "9999-12-31T23:59:59.999Z");
}

TEST(FormatRfc3339MsTest, ClockReadingsRoundTowardsThePast) {
  using std::chrono::nanoseconds;
  using std::chrono::system_clock;
  const system_clock::time_point t{
      std::chrono::duration_cast<system_clock::duration>(nanoseconds(kT * 1000000 + 123999999))};
  EXPECT_EQ(FormatRfc3339Ms(t), "2026-11-25T08:00:00.123Z");
  EXPECT_EQ(NsToMs(kT * 1000000 + 999999), kT);
  EXPECT_EQ(NsToMs(-1), -1);
  EXPECT_EQ(NsToMs(-1000000), -1);
  EXPECT_EQ(NsToMs(-1000001), -2);
}

// The calendar agrees with the C library's over a wide range (every ~11.6 days for 400 years
// on each side of the epoch, and every second of a day around a leap day).
TEST(ToUtcTimeTest, AgreesWithGmtime) {
  auto check = [](int64_t secs) {
    const time_t tt = static_cast<time_t>(secs);
    std::tm tm{};
    ASSERT_NE(gmtime_r(&tt, &tm), nullptr);
    const UtcTime t = ToUtcTime(secs);
    ASSERT_EQ(t.year, tm.tm_year + 1900) << secs;
    ASSERT_EQ(t.month, tm.tm_mon + 1) << secs;
    ASSERT_EQ(t.day, tm.tm_mday) << secs;
    ASSERT_EQ(t.hour, tm.tm_hour) << secs;
    ASSERT_EQ(t.minute, tm.tm_min) << secs;
    ASSERT_EQ(t.second, tm.tm_sec) << secs;
  };
  for (int64_t s = -400LL * 365 * 86400; s < 400LL * 365 * 86400; s += 1000003) check(s);
  for (int64_t s = 951782400 - 86400; s < 951782400 + 2 * 86400; s += 7) check(s);
}

TEST(ParseRfc3339Test, FormsWeWriteAndFormsWeAccept) {
  EXPECT_EQ(ParseRfc3339Ms("2026-11-25T08:00:00.000Z"), kT);
  EXPECT_EQ(ParseRfc3339Ms("2026-11-25T08:00:00Z"), kT);
  EXPECT_EQ(ParseRfc3339Ms("2026-11-25T08:00:00.1Z"), kT + 100);
  EXPECT_EQ(ParseRfc3339Ms("2026-11-25T08:00:00.012Z"), kT + 12);
  EXPECT_EQ(ParseRfc3339Ms("2026-11-25T08:00:00.123456Z"), kT + 123);
  EXPECT_EQ(ParseRfc3339Ms("2026-11-25t08:00:00.5z"), kT + 500);
  EXPECT_EQ(ParseRfc3339Ms("2026-11-25 08:00:00Z"), kT);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseRfc3339Ms("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(ParseRfc3339Ns("2026-11-25T08:00:00.123456789Z"), kT * 1000000 + 123456789);
  EXPECT_EQ(ParseRfc3339Ns("2026-11-25T08:00:00.1234567891234Z"), kT * 1000000 + 123456789);
  EXPECT_EQ(ParseRfc3339Ns("1969-12-31T23:59:59.999999999Z"), -1);
}

TEST(ParseRfc3339Test, Offsets) {
  EXPECT_EQ(ParseRfc3339Ms("2026-11-25T09:00:00.5+01:00"), kT + 500);
  EXPECT_EQ(ParseRfc3339Ms("2026-11-25T09:30:00.000+01:30"), kT);
  EXPECT_EQ(ParseRfc3339Ms("2026-11-25T03:00:00-05:00"), kT);
  EXPECT_EQ(ParseRfc3339Ms("2026-11-25T08:00:00+00:00"), kT);
  EXPECT_EQ(ParseRfc3339Ms("2026-11-25T08:00:00-00:00"), kT);
  EXPECT_EQ(ParseRfc3339Ms("2026-11-26T07:59:00+23:59"), kT);  // across midnight
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00:00+01:00"), -3600000);
}

TEST(ParseRfc3339Test, LeapYearsAndLeapSeconds) {
  EXPECT_EQ(ParseRfc3339Ms("2024-02-29T00:00:00Z"), 1709164800000);
  EXPECT_EQ(ParseRfc3339Ms("2000-02-29T00:00:00Z"), 951782400000);  // divisible by 400
  EXPECT_EQ(ParseRfc3339Ms("2025-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("1900-02-29T00:00:00Z"), std::nullopt);  // divisible by 100
  EXPECT_EQ(ParseRfc3339Ms("2024-02-30T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("2026-04-31T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("2026-12-31T23:59:60Z"), ParseRfc3339Ms("2027-01-01T00:00:00Z"));
}

TEST(ParseRfc3339Test, RoundTrips) {
  for (int64_t ms : {int64_t{0}, kT, kT + 1, kT + 999, int64_t{-1}, int64_t{951782399999},
                     int64_t{253402300799999}, int64_t{-62167219200000}}) {
    EXPECT_EQ(ParseRfc3339Ms(FormatRfc3339Ms(ms)), ms) << FormatRfc3339Ms(ms);
  }
  for (int64_t ms = -10LL * 365 * 86400000; ms < 100LL * 365 * 86400000; ms += 86399999 * 7) {
    ASSERT_EQ(ParseRfc3339Ms(FormatRfc3339Ms(ms)), ms) << FormatRfc3339Ms(ms);
    ASSERT_EQ(ParseRfc3339Ns(FormatRfc3339Ms(ms)), ms * 1000000) << FormatRfc3339Ms(ms);
  }
}

TEST(ParseRfc3339Test, BadInput) {
  for (std::string_view bad : {
           "",
           "2026",
           "2026-11-25",  // a date alone is not a date-time (http/ adds that form itself)
           "2026-11-25T08:00:00",
           "2026-11-25T08:00Z",
           "2026-11-25X08:00:00Z",
           "2026-11-25T08:00:00.Z",
           "2026-11-25T08:00:00Zjunk",
           "2026-11-25T08:00:00Z ",
           " 2026-11-25T08:00:00Z",
           "2026-11-25T08:00:00+0100",
           "2026-11-25T08:00:00+01",
           "2026-11-25T08:00:00+24:00",
           "2026-11-25T08:00:00+01:60",
           "2026-13-25T08:00:00Z",
           "2026-00-25T08:00:00Z",
           "2026-11-00T08:00:00Z",
           "2026-11-25T24:00:00Z",
           "2026-11-25T08:60:00Z",
           "2026-11-25T08:00:61Z",
           "2026-1-25T08:00:00Z",
           "+2026-11-25T08:00:00Z",
           "2026-11-25T08:00:00.12a3Z",
           "2026-11-25 nonsense",
       }) {
    EXPECT_EQ(ParseRfc3339Ms(bad), std::nullopt) << bad;
    EXPECT_EQ(ParseRfc3339Ns(bad), std::nullopt) << bad;
  }
}

TEST(ParseRfc3339Test, NanosecondsOutOfRange) {
  EXPECT_EQ(ParseRfc3339Ns("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
  EXPECT_EQ(ParseRfc3339Ns("2262-04-11T23:47:16.854775808Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ns("9999-12-31T23:59:59Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ns("0000-01-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339Ms("9999-12-31T23:59:59.999Z"), 253402300799999);
  EXPECT_EQ(ParseRfc3339Ms("0000-01-01T00:00:00Z"), -62167219200000);
}

}  // namespace
}  // namespace callvault
