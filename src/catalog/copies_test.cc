#include "catalog/copies.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace callvault::catalog {
namespace {

constexpr int64_t kT0 = 1'780'000'000'000;

RecordingCopy Copy(std::string id, std::string node, CallState state, std::string mode,
                   int64_t ended_after_ms, std::string primary = "") {
  RecordingCopy c;
  c.call_id = std::move(id);
  c.node_id = std::move(node);
  c.state = state;
  c.capture_mode = std::move(mode);
  c.primary_node_id = std::move(primary);
  c.started_ms = kT0;
  c.ended_ms = kT0 + ended_after_ms;
  c.duration_ms = ended_after_ms;
  return c;
}

TEST(CopiesTest, NothingToDoWithoutAPassiveCopyOrWithOneCopy) {
  EXPECT_FALSE(ChooseCopy({}));
  EXPECT_FALSE(ChooseCopy({Copy("a1", "a", CallState::kCompleted, "active", 30000)}));
  EXPECT_FALSE(ChooseCopy({Copy("b1", "b", CallState::kCompleted, "passive", 30000)}));
  // Two active copies (an SRC forking to two recorders on purpose) are not duplicates.
  EXPECT_FALSE(ChooseCopy({Copy("a1", "a", CallState::kCompleted, "active", 30000),
                           Copy("c1", "c", CallState::kCompleted, "active", 30000)}));
}

TEST(CopiesTest, ThePrimarysCopyWinsWhenItEnded) {
  for (CallState s : {CallState::kCompleted, CallState::kTimedOut}) {
    // Even when the spare's copy is a little longer (it saw packets after the primary's BYE).
    std::optional<CopyDecision> d =
        ChooseCopy({Copy("b1", "b", CallState::kCompleted, "passive", 30020, "a"),
                    Copy("a1", "a", s, "active", 30000)});
    ASSERT_TRUE(d);
    EXPECT_EQ(d->keep, "a1");
    EXPECT_EQ(d->drop, std::vector<std::string>{"b1"});
    EXPECT_EQ(d->reason, "the primary's copy ended normally");
  }
}

TEST(CopiesTest, TheSparesCopyWinsWhenThePrimaryCrashed) {
  std::optional<CopyDecision> d =
      ChooseCopy({Copy("a1", "a", CallState::kPartial, "active", 10000),
                  Copy("b1", "b", CallState::kCompleted, "passive", 30000, "a")});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->keep, "b1");
  EXPECT_EQ(d->drop, std::vector<std::string>{"a1"});
  EXPECT_EQ(d->reason, "the other copies were cut short by a crash");
}

TEST(CopiesTest, BetweenTwoPartialCopiesTheOneThatReachesFurther) {
  std::optional<CopyDecision> d =
      ChooseCopy({Copy("a1", "a", CallState::kPartial, "active", 10000),
                  Copy("b1", "b", CallState::kPartial, "passive", 20000, "a")});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->keep, "b1");
  d = ChooseCopy({Copy("a1", "a", CallState::kPartial, "active", 20000),
                  Copy("b1", "b", CallState::kPartial, "passive", 20000, "a")});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->keep, "a1");  // equal: the primary's
}

TEST(CopiesTest, EveryOrderGivesTheSameDecision) {
  std::vector<RecordingCopy> copies = {Copy("a1", "a", CallState::kPartial, "active", 10000),
                                       Copy("b1", "b", CallState::kCompleted, "passive", 30000),
                                       Copy("c1", "c", CallState::kCompleted, "passive", 30000)};
  std::optional<CopyDecision> first = ChooseCopy(copies);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->keep, "b1");  // equal spares: the smaller call id
  EXPECT_EQ(first->drop, (std::vector<std::string>{"a1", "c1"}));
  std::sort(copies.begin(), copies.end(),
            [](const RecordingCopy& x, const RecordingCopy& y) { return x.call_id > y.call_id; });
  std::optional<CopyDecision> reversed = ChooseCopy(copies);
  ASSERT_TRUE(reversed);
  EXPECT_EQ(reversed->keep, first->keep);
  EXPECT_EQ(reversed->drop, first->drop);
}

TEST(CopiesTest, OnlyThePrimaryTheSpareNamesAndOnlyTheSameCall) {
  // The spare names primary "a": an active copy on "c" is another recorder's, left alone.
  EXPECT_FALSE(ChooseCopy({Copy("b1", "b", CallState::kCompleted, "passive", 30000, "a"),
                           Copy("c1", "c", CallState::kPartial, "active", 10000)}));
  // Without a name, any active copy of the same call.
  EXPECT_TRUE(ChooseCopy({Copy("b1", "b", CallState::kCompleted, "passive", 30000),
                          Copy("c1", "c", CallState::kPartial, "active", 10000)}));
  // A Call-ID reused hours later is another call.
  RecordingCopy later = Copy("a2", "a", CallState::kCompleted, "active", 30000);
  later.started_ms += 3 * 3600 * 1000;
  EXPECT_FALSE(ChooseCopy({Copy("b1", "b", CallState::kCompleted, "passive", 30000, "a"), later}));
}

}  // namespace
}  // namespace callvault::catalog
