#include "http/login_throttle.h"

#include <gtest/gtest.h>

namespace callvault::http {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

class LoginThrottleTest : public ::testing::Test {
 protected:
  LoginThrottle::TimePoint t0_ = std::chrono::steady_clock::now();
  LoginThrottle throttle_;
  void FailTimes(int n, const char* user, const char* addr, LoginThrottle::TimePoint at) {
    for (int i = 0; i < n; ++i) throttle_.Failed(user, addr, at);
  }
};

TEST_F(LoginThrottleTest, FiveFailuresLockTheUserAndTheAddressEvenForTheRightPassword) {
  FailTimes(4, "alice", "10.0.0.1", t0_);
  EXPECT_EQ(throttle_.Check("alice", "10.0.0.1", t0_), seconds(0));
  throttle_.Failed("alice", "10.0.0.1", t0_ + seconds(1));
  EXPECT_EQ(throttle_.Check("alice", "10.0.0.1", t0_ + seconds(1)), seconds(60));
  EXPECT_EQ(throttle_.Check("alice", "10.9.9.9", t0_ + seconds(2)), seconds(59));  // the user
  EXPECT_EQ(throttle_.Check("bob", "10.0.0.1", t0_ + seconds(2)), seconds(59));    // the address
  EXPECT_EQ(throttle_.Check("bob", "10.0.0.2", t0_ + seconds(2)), seconds(0));
  throttle_.Succeeded("alice", t0_ + seconds(3));  // refused before: the lock stays
  EXPECT_GT(throttle_.Check("alice", "10.9.9.9", t0_ + seconds(3)), seconds(0));
  EXPECT_EQ(throttle_.Check("alice", "10.9.9.9", t0_ + seconds(61)), seconds(0));
}

TEST_F(LoginThrottleTest, EachFurtherLockDoublesUpToFifteenMinutes) {
  auto t = t0_;
  const seconds expected[] = {seconds(60),  seconds(120), seconds(240),
                              seconds(480), seconds(900), seconds(900)};
  for (seconds want : expected) {
    FailTimes(5, "mallory", "10.6.6.6", t);
    EXPECT_EQ(throttle_.Check("mallory", "10.6.6.6", t), want);
    t += want;  // the lock ends; guessing goes on at once
  }
}

TEST_F(LoginThrottleTest, FailuresOutsideTheWindowDoNotCountAndQuietKeysStartOver) {
  FailTimes(4, "carol", "10.0.0.3", t0_);
  throttle_.Failed("carol", "10.0.0.3", t0_ + minutes(16));  // the first four have expired
  EXPECT_EQ(throttle_.Check("carol", "10.0.0.3", t0_ + minutes(16)), seconds(0));
  // Locked once, then quiet for a window: the next lock is a first one again.
  FailTimes(5, "dave", "10.0.0.4", t0_);
  FailTimes(5, "dave", "10.0.0.4", t0_ + minutes(1));
  EXPECT_EQ(throttle_.Check("dave", "10.0.0.4", t0_ + minutes(1)), seconds(120));
  const auto later = t0_ + minutes(3) + minutes(16);
  FailTimes(5, "dave", "10.0.0.4", later);
  EXPECT_EQ(throttle_.Check("dave", "10.0.0.4", later), seconds(60));
}

TEST_F(LoginThrottleTest, ASuccessForgetsTheUsersFailuresNotTheAddresss) {
  FailTimes(4, "erin", "10.0.0.5", t0_);
  throttle_.Succeeded("erin", t0_);
  throttle_.Failed("erin", "10.0.0.9", t0_);  // the user starts from 1
  EXPECT_EQ(throttle_.Check("erin", "10.0.0.9", t0_), seconds(0));
  throttle_.Failed("frank", "10.0.0.5", t0_);  // the address was at 4: now locked
  EXPECT_EQ(throttle_.Check("nobody", "10.0.0.5", t0_), seconds(60));
}

TEST(LoginThrottleBoundTest, MemoryIsBoundedKeepingWhatIsEnforced) {
  LoginThrottle t({.max_keys = 100});
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) t.Failed("victim", "10.1.1.1", t0);  // locked: must survive
  for (int i = 0; i < 1000; ++i)
    t.Failed("u" + std::to_string(i), "10.2." + std::to_string(i), t0 + seconds(1));
  EXPECT_LE(t.keys(), 100u);
  EXPECT_EQ(t.Check("victim", "10.3.3.3", t0 + seconds(2)), seconds(58));
}

}  // namespace
}  // namespace callvault::http
