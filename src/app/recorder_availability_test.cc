#include "app/recorder_availability.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace callvault::app {
namespace {

TEST(RecorderAvailabilityTest, TheFirstFailingRecorderCheckIsTheWarningAndRecoveryReopens) {
  std::atomic<bool> disk_full{false}, drained{false};
  std::vector<http::ReadinessCheck> checks = {
      {"disk_space", "recorder",
       [&] { return disk_full ? ResourceExhaustedError("3 MiB free") : Status::Ok(); }},
      {"sip_accepting", "recorder",
       [&] { return drained ? UnavailableError("drained by an operator") : Status::Ok(); }},
      {"catalog", "web", [] { return UnavailableError("the database is down"); }},  // ignored
  };
  std::vector<sip::Availability> applied;
  RecorderAvailability a(
      checks, [&](const sip::Availability& v) { applied.push_back(v); },
      std::chrono::milliseconds(10), 10);
  EXPECT_TRUE(a.RunOnce());  // the web role's failure does not stop recording
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_TRUE(applied[0].accept_calls);
  EXPECT_TRUE(a.RunOnce());
  EXPECT_EQ(applied.size(), 1u);  // unchanged: not applied again
  drained = true;
  disk_full = true;
  EXPECT_FALSE(a.RunOnce());
  ASSERT_EQ(applied.size(), 2u);
  EXPECT_FALSE(applied[1].accept_calls);
  EXPECT_EQ(applied[1].retry_after_s, 10);
  EXPECT_EQ(applied[1].reason, "disk_space: 3 MiB free");
  disk_full = false;
  EXPECT_FALSE(a.RunOnce());
  EXPECT_EQ(applied.back().reason, "sip_accepting: drained by an operator");
  drained = false;
  EXPECT_TRUE(a.RunOnce());
  EXPECT_TRUE(applied.back().accept_calls);
}

TEST(RecorderAvailabilityTest, TheThreadAppliesAChangeWithinItsInterval) {
  std::atomic<bool> full{false};
  std::atomic<int> refusals{0};
  RecorderAvailability a(
      {{"disk_space", "recorder",
        [&] { return full ? ResourceExhaustedError("full") : Status::Ok(); }}},
      [&](const sip::Availability& v) {
        if (!v.accept_calls) refusals++;
      },
      std::chrono::milliseconds(20), 10);
  a.Start();
  full = true;
  for (int i = 0; i < 200 && refusals.load() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  a.Stop();
  EXPECT_EQ(refusals.load(), 1);
}

}  // namespace
}  // namespace callvault::app
