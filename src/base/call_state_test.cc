#include "base/call_state.h"

#include <gtest/gtest.h>

namespace callvault {
namespace {

TEST(CallStateTest, NumbersAreStoredNeverRenumbered) {
  EXPECT_EQ(static_cast<int>(CallState::kActive), 0);
  EXPECT_EQ(static_cast<int>(CallState::kCompleted), 1);
  EXPECT_EQ(static_cast<int>(CallState::kTimedOut), 2);
  EXPECT_EQ(static_cast<int>(CallState::kPartial), 3);
}

TEST(CallStateTest, NamesAreStoredNeverRenamed) {
  EXPECT_EQ(CallStateName(CallState::kActive), "active");
  EXPECT_EQ(CallStateName(CallState::kCompleted), "completed");
  EXPECT_EQ(CallStateName(CallState::kTimedOut), "timed_out");
  EXPECT_EQ(CallStateName(CallState::kPartial), "partial");
}

TEST(CallStateTest, ParseIsTheInverseOfName) {
  for (CallState s :
       {CallState::kActive, CallState::kCompleted, CallState::kTimedOut, CallState::kPartial}) {
    EXPECT_EQ(ParseCallState(CallStateName(s)), s);
  }
  for (std::string_view bad : {"", "Completed", "COMPLETED", "timed-out", "done", "completed "}) {
    EXPECT_EQ(ParseCallState(bad), std::nullopt) << bad;
  }
}

TEST(CallStateTest, FinalStates) {
  EXPECT_FALSE(IsFinalState(CallState::kActive));
  EXPECT_TRUE(IsFinalState(CallState::kCompleted));
  EXPECT_TRUE(IsFinalState(CallState::kTimedOut));
  EXPECT_TRUE(IsFinalState(CallState::kPartial));
}

}  // namespace
}  // namespace callvault
