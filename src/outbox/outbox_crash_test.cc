// Crashes at every step of Put and of a drain (FaultInjectingFs: the step fails and everything
// after it too, then a power loss drops what was not synced), then a restart: no entry lost,
// none applied twice but the batch in flight at the crash.
#include <gtest/gtest.h>

#include <cerrno>
#include <set>

#include "base/fault_injecting_fs.h"
#include "outbox/drainer.h"
#include "outbox/testing/outbox_fixture.h"

namespace callvault::outbox {
namespace {

using testing::CallIdAt;
using testing::EntryFor;

constexpr uint64_t kT0 = 1764057600000;

class OutboxCrashTest : public ::testing::Test {
 protected:
  std::string Root() const { return tmp_.path() + "/outbox"; }
  // Removals come back after a crash unless their directory was synced: the drainer's one
  // sync per batch is what limits redelivery to the batch in flight.
  void SetUp() override { ffs_.set_removals_need_dir_sync(true); }
  testing::TempDir tmp_;
  FaultInjectingFs ffs_{DefaultFs()};
  FakeClock clock_;
};

TEST_F(OutboxCrashTest, APutCrashedAtAnyStepLeavesTheEntryWholeOrAbsentAndNothingElse) {
  for (int step = 1;; ++step) {
    ASSERT_TRUE(DefaultFs()->RemoveAll(Root()).ok());
    const std::string id = CallIdAt(kT0, step);
    Status put;
    int failures_before = 0;
    {
      Outbox box(Root(), &ffs_, nullptr);
      ASSERT_TRUE(box.OpenQueue("q").ok());
      ASSERT_TRUE(ffs_.SimulateCrash().ok());  // the queue directory itself is durable
      failures_before = ffs_.injected_failures();
      ffs_.InjectFault(FsOp::kAny, Root(), EIO, step, /*repeat=*/true);
      put = box.Put("q", EntryFor(id));
      ASSERT_TRUE(ffs_.SimulateCrash().ok());
      ffs_.ClearFaults();
    }
    Outbox box(Root(), &ffs_, nullptr);
    ASSERT_TRUE(box.OpenQueue("q").ok()) << "step " << step;
    if (put.ok()) {
      // Acknowledged: it must be there, whole.
      EXPECT_TRUE(box.Contains("q", id)) << "step " << step;
      EXPECT_EQ(box.backlog("q"), 1);
      EXPECT_EQ(*ParseEntry(*ffs_.ReadFile(box.EntryPath("q", id))), EntryFor(id));
      if (ffs_.injected_failures() == failures_before)
        break;  // no step left to fail: every step was tried
    } else if (box.Contains("q", id)) {
      EXPECT_EQ(*ParseEntry(*ffs_.ReadFile(box.EntryPath("q", id))), EntryFor(id))
          << "step " << step;
    }
    // No temp file, no half entry anywhere.
    const std::vector<std::string> buckets = ffs_.ListDir(box.QueueDir("q")).value();
    for (const std::string& b : buckets) {
      const std::vector<std::string> files = ffs_.ListDir(box.QueueDir("q") + "/" + b).value();
      for (const std::string& f : files)
        EXPECT_TRUE(f.ends_with(".json")) << "step " << step << ": " << f;
    }
    ASSERT_LT(step, 50);
  }
}

TEST_F(OutboxCrashTest, ADrainCrashedAtAnyStepLosesNothingAndRedeliversOnlyTheBatchInFlight) {
  constexpr int kEntries = 12, kBatch = 5;
  for (int step = 1;; ++step) {
    ASSERT_TRUE(DefaultFs()->RemoveAll(Root()).ok());
    std::vector<std::string> ids;
    {
      Outbox box(Root(), &ffs_, nullptr);
      ASSERT_TRUE(box.OpenQueue("q").ok());
      for (int i = 0; i < kEntries; ++i) {
        ids.push_back(CallIdAt(kT0 + i * 20000, i));  // several buckets
        ASSERT_TRUE(box.Put("q", EntryFor(ids.back())).ok());
      }
    }
    // The consumer's durable effect (the database): survives the crash.
    std::multiset<std::string> applied;
    std::set<std::string> in_flight_at_crash;
    std::vector<std::string> last_batch;
    auto apply = [&](std::vector<Delivery>& b) {
      last_batch.clear();
      for (Delivery& d : b) {
        applied.insert(d.entry.call_id);
        last_batch.push_back(d.entry.call_id);
        d.outcome = Outcome::kDone;
      }
      return Status::Ok();
    };
    bool crashed = false;
    {
      Outbox box(Root(), &ffs_, nullptr);
      ASSERT_TRUE(box.OpenQueue("q").ok());
      Drainer d({.queue = "q", .batch = kBatch}, &box, &clock_, apply, nullptr);
      const int failures_before = ffs_.injected_failures();
      ffs_.InjectFault(FsOp::kAny, Root(), EIO, step, /*repeat=*/true);
      for (int round = 0; round < 100; ++round) {
        bool more = false;
        Status s = d.RunOnce(&more);
        if (ffs_.injected_failures() > failures_before) {
          crashed = true;
          break;
        }
        ASSERT_TRUE(s.ok()) << s.ToString();
        if (!more) break;
      }
      in_flight_at_crash.insert(last_batch.begin(), last_batch.end());
      ASSERT_TRUE(ffs_.SimulateCrash().ok());
      ffs_.ClearFaults();
    }
    // Restart: drain the rest.
    Outbox box(Root(), &ffs_, nullptr);
    ASSERT_TRUE(box.OpenQueue("q").ok());
    Drainer d({.queue = "q", .batch = kBatch}, &box, &clock_, apply, nullptr);
    for (int round = 0; round < 100; ++round) {
      bool more = false;
      ASSERT_TRUE(d.RunOnce(&more).ok()) << "step " << step;
      if (!more) break;
    }
    EXPECT_EQ(box.backlog("q"), 0) << "step " << step;
    for (const std::string& id : ids) {
      EXPECT_GE(applied.count(id), 1u) << "step " << step << ": lost " << id;
      if (!in_flight_at_crash.count(id))
        EXPECT_EQ(applied.count(id), 1u) << "step " << step << ": applied twice " << id;
      else
        EXPECT_LE(applied.count(id), 2u) << "step " << step;
    }
    if (!crashed) break;  // the drain ran to its end without reaching `step`: all steps tried
    ASSERT_LT(step, 400);
  }
}

}  // namespace
}  // namespace callvault::outbox
