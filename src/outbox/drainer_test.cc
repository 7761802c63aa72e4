#include "outbox/drainer.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "base/time_format.h"
#include "outbox/testing/outbox_fixture.h"

namespace callvault::outbox {
namespace {

using std::chrono::milliseconds;
using testing::CallIdAt;
using testing::EntryFor;

constexpr uint64_t kT0 = 1764057600000;  // 2025-11-25T08:00:00Z

class DrainerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(box_.OpenQueue("q").ok()); }
  std::string Root() const { return tmp_.path() + "/outbox"; }
  std::string QueueDir() const { return Root() + "/q"; }

  // A drainer whose consumer records the call ids it is given and answers `outcome_`.
  std::unique_ptr<Drainer> Make(int batch = 200, milliseconds delay = milliseconds(0),
                                size_t max_deferred = 100000) {
    DrainerOptions o{.queue = "q", .consumer = "test", .batch = batch, .delay = delay,
                     .max_deferred = max_deferred};
    return std::make_unique<Drainer>(
        o, &box_, &clock_,
        [this](std::vector<Delivery>& b) -> Status {
          ++batches_;
          for (Delivery& d : b) {
            seen_.push_back(d.entry.call_id);
            if (down_) continue;  // leaves kRetry
            auto it = outcomes_.find(d.entry.call_id);
            d.outcome = it == outcomes_.end() ? Outcome::kDone : it->second;
            if (d.outcome == Outcome::kRejected) d.reason = "broken manifest";
            if (d.outcome == Outcome::kDropped) d.reason = "call deleted";
          }
          return down_ ? UnavailableError("database is down") : Status::Ok();
        },
        &metrics_);
  }
  // Runs rounds until one says there is nothing more (bounded).
  Status Drain(Drainer& d) {
    for (int i = 0; i < 100000; ++i) {
      bool more = false;
      CV_RETURN_IF_ERROR(d.RunOnce(&more));
      if (!more) return Status::Ok();
    }
    return InternalError("did not finish");
  }
  void Put(const std::string& id) { ASSERT_TRUE(box_.Put("q", EntryFor(id)).ok()); }
  void PutFinalized(const std::string& id, const std::string& finalized) {
    ASSERT_TRUE(box_.Put("q", EntryFor(id, finalized)).ok());
  }

  testing::TempDir tmp_;
  Registry metrics_;
  Outbox box_{Root(), DefaultFs(), &metrics_};
  FakeClock clock_;
  std::vector<std::string> seen_;
  std::map<std::string, Outcome> outcomes_;
  bool down_ = false;
  int batches_ = 0;
};

TEST_F(DrainerTest, DrainsOldestFirstAcrossBucketsInBatchesAndRemovesEmptyBuckets) {
  std::vector<std::string> ids;
  for (int i = 0; i < 25; ++i) ids.push_back(CallIdAt(kT0 + i * 30000, i));  // ~12 buckets
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) Put(*it);             // put newest first
  auto d = Make(/*batch=*/4);
  ASSERT_TRUE(Drain(*d).ok());
  EXPECT_EQ(seen_, ids);
  EXPECT_EQ(d->applied(), 25u);
  EXPECT_EQ(box_.backlog("q"), 0);
  // Only the newest bucket stays (Puts go there next); older empty ones were removed.
  std::vector<std::string> left = *DefaultFs()->ListDir(QueueDir());
  EXPECT_EQ(left, std::vector<std::string>{ids.back().substr(0, 8)});
  EXPECT_TRUE(DefaultFs()->ListDir(QueueDir() + "/" + left[0])->empty());
}

TEST_F(DrainerTest, AClosedGateDeliversNothingAndIsNotAnError) {
  bool open = false;
  DrainerOptions o{.queue = "q", .consumer = "test", .batch = 2};
  o.gate = [&open] { return open; };
  int calls = 0;
  Drainer d(o, &box_, &clock_,
            [&](std::vector<Delivery>& b) -> Status {
              // The window closes after the first delivery of a batch: the rest waits.
              for (size_t i = 0; i < b.size(); ++i) {
                ++calls;
                if (i == 0) b[i].outcome = Outcome::kDone;
              }
              open = false;
              return Status::Ok();
            },
            &metrics_);
  for (int i = 0; i < 3; ++i) Put(CallIdAt(kT0 + i * 1000, i));
  ASSERT_TRUE(Drain(d).ok());
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(box_.backlog("q"), 3);
  open = true;
  bool more = false;
  ASSERT_TRUE(d.RunOnce(&more).ok());  // one done, one left for the next window: no error
  EXPECT_EQ(box_.backlog("q"), 2);
  ASSERT_TRUE(Drain(d).ok());
  EXPECT_EQ(box_.backlog("q"), 2);
  open = true;
  ASSERT_TRUE(d.RunOnce(&more).ok());
  open = true;
  ASSERT_TRUE(d.RunOnce(&more).ok());
  EXPECT_EQ(box_.backlog("q"), 0);
}

TEST_F(DrainerTest, AnEntryPutBehindTheCursorIsTakenNext) {
  auto d = Make(/*batch=*/1);
  Put(CallIdAt(kT0 + 600000, 1));
  Put(CallIdAt(kT0 + 900000, 2));
  bool more = false;
  ASSERT_TRUE(d->RunOnce(&more).ok());
  // A long call that started an hour ago ends now: its entry lands in an old bucket.
  const std::string old_call = CallIdAt(kT0 - 3600000, 3);
  Put(old_call);
  ASSERT_TRUE(Drain(*d).ok());
  EXPECT_EQ(seen_, (std::vector<std::string>{CallIdAt(kT0 + 600000, 1), old_call,
                                             CallIdAt(kT0 + 900000, 2)}));
  EXPECT_EQ(box_.backlog("q"), 0);
}

TEST_F(DrainerTest, RejectedEntriesAreSetAsideWithTheirReasonAndDroppedOnesRemoved) {
  const std::string good = CallIdAt(kT0, 1), broken = CallIdAt(kT0, 2), gone = CallIdAt(kT0, 3);
  Put(good);
  Put(broken);
  Put(gone);
  // Not an entry at all, and an entry naming another call: rejected by the drainer itself.
  const std::string bucket = QueueDir() + "/" + good.substr(0, 8);
  const std::string garbage = CallIdAt(kT0, 4), liar = CallIdAt(kT0, 5);
  ASSERT_TRUE(WriteFileDurably(*DefaultFs(), bucket + "/" + garbage + ".json", "{oops").ok());
  ASSERT_TRUE(
      WriteFileDurably(*DefaultFs(), bucket + "/" + liar + ".json", SerializeEntry(EntryFor(good)))
          .ok());
  outcomes_[broken] = Outcome::kRejected;
  outcomes_[gone] = Outcome::kDropped;
  auto d = Make();
  ASSERT_TRUE(Drain(*d).ok());
  EXPECT_EQ(seen_, (std::vector<std::string>{good, broken, gone}));
  EXPECT_EQ(d->applied(), 1u);
  EXPECT_EQ(d->dropped(), 1u);
  EXPECT_EQ(d->rejected(), 3u);
  const std::string rejected = QueueDir() + "/rejected/";
  EXPECT_EQ(*DefaultFs()->ReadFile(rejected + broken + ".reason"), "broken manifest\n");
  EXPECT_TRUE(DefaultFs()->Exists(rejected + broken + ".json"));
  EXPECT_EQ(*DefaultFs()->ReadFile(rejected + garbage + ".reason"),
            "outbox entry: not a JSON object\n");
  EXPECT_EQ(*DefaultFs()->ReadFile(rejected + liar + ".reason"),
            "the entry names call " + good + "\n");
  EXPECT_FALSE(DefaultFs()->Exists(rejected + gone + ".json"));
  EXPECT_FALSE(box_.Contains("q", gone));
  const std::string m = metrics_.Render();
  EXPECT_NE(m.find("callvault_outbox_rejected_total{queue=\"q\"} 3"), std::string::npos) << m;
  EXPECT_NE(m.find("callvault_outbox_dropped_total{queue=\"q\"} 1"), std::string::npos) << m;

  // The operator fixed the cause and moves one back (flat, as the format doc says).
  ASSERT_TRUE(
      DefaultFs()->Rename(rejected + broken + ".json", QueueDir() + "/" + broken + ".json").ok());
  outcomes_.clear();
  seen_.clear();
  ASSERT_TRUE(Drain(*d).ok());
  EXPECT_EQ(seen_, std::vector<std::string>{broken});
}

TEST_F(DrainerTest, WhileTheTargetIsDownNothingIsRemovedAndTheLagGrows) {
  clock_.SetWall(std::chrono::system_clock::time_point(std::chrono::milliseconds(kT0)));
  const std::string a = CallIdAt(kT0, 1);
  ASSERT_TRUE(box_.Put("q", EntryFor(a, "2025-11-25T07:59:00.000Z")).ok());
  down_ = true;
  auto d = Make();
  bool more = false;
  EXPECT_EQ(d->RunOnce(&more).code(), StatusCode::kUnavailable);
  EXPECT_EQ(d->last_error(), "Unavailable: database is down");
  // The consumer took the batch but left it for later: kept, delivered again.
  down_ = false;
  outcomes_[a] = Outcome::kRetry;
  EXPECT_EQ(d->RunOnce(&more).code(), StatusCode::kUnavailable);
  EXPECT_EQ(box_.backlog("q"), 1);
  EXPECT_TRUE(box_.Contains("q", a));
  EXPECT_NEAR(d->lag_seconds(), 60.0, 0.01);
  clock_.Advance(std::chrono::seconds(30));
  EXPECT_FALSE(d->RunOnce(&more).ok());
  EXPECT_NEAR(d->lag_seconds(), 90.0, 0.01);
  outcomes_.clear();
  ASSERT_TRUE(Drain(*d).ok());
  EXPECT_EQ(seen_, (std::vector<std::string>{a, a, a, a}));
  EXPECT_FALSE(box_.Contains("q", a));
  EXPECT_EQ(d->lag_seconds(), 0.0);
  EXPECT_EQ(d->last_error(), "");
}

TEST_F(DrainerTest, TheThreadWakesOnPutAndWaitIdleReturnsWhenDrained) {
  DrainerOptions o{.queue = "q", .consumer = "test", .poll = milliseconds(60000)};
  Mutex mu;
  std::vector<std::string> got;
  Drainer d(
      o, &box_, &clock_,
      [&](std::vector<Delivery>& b) {
        MutexLock lock(&mu);
        for (Delivery& x : b) {
          got.push_back(x.entry.call_id);
          x.outcome = Outcome::kDone;
        }
        return Status::Ok();
      },
      nullptr);
  d.Start();
  ASSERT_TRUE(d.WaitIdle(milliseconds(5000)));
  for (int i = 0; i < 50; ++i) Put(CallIdAt(kT0 + i * 1000, i));
  // Poll is a minute: only the Puts' notices can have woken it.
  ASSERT_TRUE(d.WaitIdle(milliseconds(10000)));
  d.Stop();
  MutexLock lock(&mu);
  EXPECT_EQ(got.size(), 50u);
  EXPECT_EQ(box_.backlog("q"), 0);
}

// Regression: SIGHUP with a corrected S3 secret woke the relocation drainer with Wake(), which a
// backoff wait ignores, so the queue drained only when the backoff (up to 30 s) ran out.
// RetryNow() ends the wait at once; Wake() (notices, Puts) still does not.
TEST_F(DrainerTest, RetryNowEndsABackoffWaitButWakeDoesNot) {
  DrainerOptions o{.queue = "q",
                   .consumer = "test",
                   .poll = milliseconds(60000),
                   .first_backoff = milliseconds(60000),
                   .max_backoff = milliseconds(60000)};
  Mutex mu;
  bool down = true;
  int rounds = 0;
  Drainer d(
      o, &box_, &clock_,
      [&](std::vector<Delivery>& b) -> Status {
        MutexLock lock(&mu);
        ++rounds;
        if (down) return UnavailableError("auth: SignatureDoesNotMatch");
        for (Delivery& x : b) x.outcome = Outcome::kDone;
        return Status::Ok();
      },
      nullptr);
  Put(CallIdAt(kT0, 1));
  d.Start();
  auto rounds_now = [&] {
    MutexLock lock(&mu);
    return rounds;
  };
  for (int i = 0; i < 500 && rounds_now() == 0; ++i) std::this_thread::sleep_for(milliseconds(10));
  ASSERT_EQ(rounds_now(), 1);  // failed; now in a one-minute backoff
  {
    MutexLock lock(&mu);
    down = false;
  }
  d.Wake();
  Put(CallIdAt(kT0 + 1000, 2));
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(rounds_now(), 1) << "Wake/Put must not cut a backoff short";
  d.RetryNow();
  EXPECT_TRUE(d.WaitIdle(milliseconds(10000)));
  d.Stop();
  EXPECT_EQ(box_.backlog("q"), 0);
  EXPECT_GE(rounds_now(), 2);
}

TEST_F(DrainerTest, TheRoundHookRunsFirstAndItsErrorsBackOffLikeApplys) {
  int hook_calls = 0;
  bool hook_down = true;
  DrainerOptions o{.queue = "q", .consumer = "test"};
  Drainer d(
      o, &box_, &clock_,
      [&](std::vector<Delivery>& b) {
        for (Delivery& x : b) x.outcome = Outcome::kDone;
        return Status::Ok();
      },
      nullptr,
      [&](bool* more) -> Status {
        ++hook_calls;
        *more = false;
        return hook_down ? UnavailableError("notices: database is down") : Status::Ok();
      });
  Put(CallIdAt(kT0, 1));
  bool more = false;
  EXPECT_FALSE(d.RunOnce(&more).ok());
  EXPECT_EQ(box_.backlog("q"), 1);  // the batch waits for the hook
  hook_down = false;
  ASSERT_TRUE(d.RunOnce(&more).ok());
  EXPECT_EQ(box_.backlog("q"), 0);
  EXPECT_EQ(hook_calls, 2);
}

}  // namespace
}  // namespace callvault::outbox

namespace callvault::outbox {
namespace {

class DrainerDelayTest : public DrainerTest {
 protected:
  void SetUp() override {
    DrainerTest::SetUp();
    clock_.SetWall(*ParseRfc3339("2026-11-25T08:05:00.000Z"));
  }
  static std::optional<std::chrono::system_clock::time_point> ParseRfc3339(const std::string& t) {
    std::optional<int64_t> ms = ParseRfc3339Ms(t);
    if (!ms) return std::nullopt;
    return std::chrono::system_clock::time_point(milliseconds(*ms));
  }
};

TEST_F(DrainerDelayTest, EntriesWaitTheirDelayAfterFinalizingWithoutHoldingUpLaterOnes) {
  const std::string a = CallIdAt(kT0, 1), b = CallIdAt(kT0 + 1000, 2), c = CallIdAt(kT0 + 2000, 3);
  PutFinalized(a, "2026-11-25T08:04:00.000Z");  // due 08:05:00: now
  PutFinalized(b, "2026-11-25T08:04:30.000Z");  // a long call: due 08:05:30
  PutFinalized(c, "2026-11-25T08:03:00.000Z");  // due since 08:04:00
  auto d = Make(/*batch=*/200, /*delay=*/milliseconds(60000));
  ASSERT_TRUE(Drain(*d).ok());
  EXPECT_EQ(seen_, (std::vector<std::string>{a, c}));
  EXPECT_EQ(d->deferred(), 1u);
  EXPECT_EQ(box_.backlog("q"), 1);
  ASSERT_TRUE(Drain(*d).ok());  // still not due: not delivered again
  EXPECT_EQ(seen_.size(), 2u);
  clock_.Advance(std::chrono::seconds(31));
  ASSERT_TRUE(Drain(*d).ok());
  EXPECT_EQ(seen_, (std::vector<std::string>{a, c, b}));
  EXPECT_EQ(d->deferred(), 0u);
  EXPECT_EQ(box_.backlog("q"), 0);
}

TEST_F(DrainerDelayTest, BeyondMaxDeferredTheScanWaitsInOrder) {
  const std::string a = CallIdAt(kT0, 1), b = CallIdAt(kT0 + 1000, 2), c = CallIdAt(kT0 + 2000, 3);
  PutFinalized(a, "2026-11-25T08:04:00.000Z");
  PutFinalized(b, "2026-11-25T08:04:30.000Z");
  PutFinalized(c, "2026-11-25T08:03:00.000Z");
  auto d = Make(/*batch=*/200, milliseconds(60000), /*max_deferred=*/0);
  ASSERT_TRUE(Drain(*d).ok());
  EXPECT_EQ(seen_, std::vector<std::string>{a});
  EXPECT_EQ(box_.backlog("q"), 2);
  clock_.Advance(std::chrono::seconds(31));
  ASSERT_TRUE(Drain(*d).ok());
  EXPECT_EQ(seen_, (std::vector<std::string>{a, b, c}));
  EXPECT_EQ(box_.backlog("q"), 0);
}

TEST_F(DrainerDelayTest, TheLagGaugeDoesNotCountTheDelay) {
  const std::string a = CallIdAt(kT0, 1);
  PutFinalized(a, "2026-11-25T08:03:00.000Z");  // finalized 120 s ago, delay 60 s
  down_ = true;
  auto d = Make(/*batch=*/200, milliseconds(60000));
  bool more = false;
  EXPECT_FALSE(d->RunOnce(&more).ok());
  EXPECT_NEAR(d->lag_seconds(), 60.0, 0.01);
}

}  // namespace
}  // namespace callvault::outbox

namespace callvault::outbox {
namespace {

TEST_F(DrainerTest, EntriesAnotherProcessPutsBehindTheCursorAreFoundByThePoll) {
  auto d = Make(/*batch=*/10);
  d->Start();
  Put(CallIdAt(kT0 + 900000, 1));
  ASSERT_TRUE(d->WaitIdle(std::chrono::seconds(5)));
  // `callvault cluster backfill` writes an old call's entry from its own Outbox: no notice.
  Outbox other(Root(), DefaultFs(), nullptr);
  ASSERT_TRUE(other.AttachQueue("q").ok());
  const std::string old_call = CallIdAt(kT0 - 86400000, 2);
  ASSERT_TRUE(other.Put("q", EntryFor(old_call)).ok());
  for (int i = 0; i < 100 && std::find(seen_.begin(), seen_.end(), old_call) == seen_.end(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  d->Stop();
  EXPECT_NE(std::find(seen_.begin(), seen_.end(), old_call), seen_.end());
  EXPECT_EQ(box_.backlog("q"), 0);
}

}  // namespace
}  // namespace callvault::outbox
