// The finalizer pool: calls finalized in parallel, one call never by two workers at once,
// failures retried with a backoff timed by the Clock while the rest goes on, recovery.
#include "recording/finalize_queue.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <thread>

#include "base/fault_injecting_fs.h"
#include "codec/codec.h"
#include "recording/testing/finalizer_fixture.h"

namespace callvault::recording {
namespace {

using std::chrono::milliseconds;
using testing::FinalizerTest;

std::string Id(int n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "0193a000-0000-7000-8000-%012d", n);
  return buf;
}

// Waits (bounded) until `done` holds.
template <typename F>
bool Eventually(F done, milliseconds limit = milliseconds(20000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

class FinalizeQueueTest : public FinalizerTest {
 protected:
  // Options whose decoders take a while to make and record how many renders overlap.
  FinalizeOptions SlowOptions() {
    FinalizeOptions o = Options();
    o.decoder_factory = [this](const codec::CodecSpec& spec) {
      const int now = ++rendering_;
      int seen = max_rendering_.load();
      while (now > seen && !max_rendering_.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(milliseconds(40));
      --rendering_;
      return codec::NewDecoder(spec);
    };
    return o;
  }
  std::atomic<int> rendering_{0}, max_rendering_{0};
};

TEST_F(FinalizeQueueTest, CallsAreFinalizedInParallel) {
  for (int i = 0; i < 8; ++i) TwoToneCall(Id(i), 1);
  FinalizeQueue q(&fs_, &clock_, SlowOptions(), {.workers = 4});
  std::atomic<int> callbacks{0};
  q.set_on_finalized([&](const FinalizeResult&) { ++callbacks; });
  q.Start();
  for (int i = 0; i < 8; ++i) q.Enqueue({.spool_dir = Spool(Id(i))});
  ASSERT_TRUE(Eventually([&] { return q.pending() == 0; }));
  EXPECT_EQ(q.finalized(), 8u);
  EXPECT_EQ(callbacks.load(), 8);
  EXPECT_GE(max_rendering_.load(), 2);  // several calls at once
  EXPECT_LE(max_rendering_.load(), 4);  // never more than the workers
  for (int i = 0; i < 8; ++i) EXPECT_FALSE(fs_.Exists(Spool(Id(i))));
}

TEST_F(FinalizeQueueTest, OneCallIsNeverFinalizedByTwoWorkersAtOnce) {
  TwoToneCall(Id(1), 1);
  FinalizeQueue q(&fs_, &clock_, SlowOptions(), {.workers = 4});
  // Queued three times (an end notice racing recovery, a retry): one finalization, then two
  // that find nothing left to do — never an "is being finalized" collision.
  for (int i = 0; i < 3; ++i) q.Enqueue({.spool_dir = Spool(Id(1))});
  q.Start();
  ASSERT_TRUE(Eventually([&] { return q.pending() == 0; }));
  EXPECT_EQ(q.finalized(), 1u);
  EXPECT_EQ(max_rendering_.load(), 1);
}

TEST_F(FinalizeQueueTest, AFailingCallIsRetriedAfterItsBackoffWhileOthersGoOn) {
  FaultInjectingFs ffs(&fs_);
  TwoToneCall(Id(1), 1);
  TwoToneCall(Id(2), 1);
  FinalizeOptions o = Options();
  // Call 1's audio cannot be written: its recordings directory is full.
  ffs.InjectFault(FsOp::kOpen, o.recordings_dir, ENOSPC, 1, /*repeat=*/true);
  FinalizeQueue q(&ffs, &clock_, o, {.workers = 2, .first_backoff = milliseconds(1000)});
  q.Start();
  q.Enqueue({.spool_dir = Spool(Id(1))});
  ASSERT_TRUE(Eventually([&] { return q.failures() >= 1; }));
  ffs.ClearFaults();
  q.Enqueue({.spool_dir = Spool(Id(2))});
  ASSERT_TRUE(Eventually([&] { return q.finalized() == 1; }));  // call 2 did not wait
  EXPECT_TRUE(fs_.Exists(Spool(Id(1))));
  // Real time passes, the Clock does not: no retry yet.
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(q.failures(), 1u);
  EXPECT_EQ(q.pending(), 1u);
  clock_.Advance(std::chrono::seconds(1));
  q.Wake();
  ASSERT_TRUE(Eventually([&] { return q.pending() == 0; }));
  EXPECT_EQ(q.finalized(), 2u);
  EXPECT_FALSE(fs_.Exists(Spool(Id(1))));
}

TEST_F(FinalizeQueueTest, StopLeavesWhatIsQueuedInTheSpoolAndRecoveryQueuesItAgain) {
  for (int i = 0; i < 3; ++i) TwoToneCall(Id(i), 1, nullptr, /*end=*/i != 1);  // 1 crashed
  {
    FinalizeQueue q(&fs_, &clock_, Options(), {.workers = 1});
    for (int i = 0; i < 3; ++i) q.Enqueue({.spool_dir = Spool(Id(i))});
    q.Stop();  // never started: all three stay
  }
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(fs_.Exists(Spool(Id(i))));
  FinalizeQueue q(&fs_, &clock_, Options(), {.workers = 2});
  std::vector<std::pair<std::string, std::string>> crashed;
  Result<size_t> n = q.RecoverAtStartup(tmp_.path() + "/spool", &crashed);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 3u);
  ASSERT_EQ(crashed.size(), 1u);
  q.Start();
  ASSERT_TRUE(Eventually([&] { return q.pending() == 0; }));
  EXPECT_EQ(q.finalized(), 3u);
}

TEST(FinalizeQueueDefaults, WorkersScaleWithTheCores) {
  EXPECT_GE(DefaultFinalizeWorkers(), 4);
  EXPECT_LE(DefaultFinalizeWorkers(), 16);
}

// Issue 21: a call whose spool is still partly in memory (a full disk at its end) waits, without
// a failure or a backoff, until the disk has taken it; the others go on.
TEST_F(FinalizeQueueTest, ACallWhoseSpoolIsStillInMemoryWaitsWithoutFailing) {
  TwoToneCall(Id(1), 1);
  TwoToneCall(Id(2), 1);
  std::atomic<bool> pending{true};
  std::atomic<int> asked{0};
  FinalizeQueue q(&fs_, &clock_, Options(),
                  {.workers = 2,
                   .spool_pending =
                       [&](const std::string& call_id) {
                         ++asked;
                         return call_id == Id(1) && pending.load();
                       },
                   .pending_poll = milliseconds(10)});
  q.Start();
  q.Enqueue({.spool_dir = Spool(Id(1))});
  q.Enqueue({.spool_dir = Spool(Id(2))});
  ASSERT_TRUE(Eventually([&] { return q.finalized() == 1; }));
  EXPECT_TRUE(fs_.Exists(Spool(Id(1))));  // not touched
  for (int i = 0; i < 5; ++i) {           // polled as the clock moves, never failed
    clock_.Advance(milliseconds(20));
    q.Wake();
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_GT(asked.load(), 3);
  EXPECT_EQ(q.failures(), 0u);
  EXPECT_EQ(q.pending(), 1u);
  pending = false;  // the disk took it
  clock_.Advance(milliseconds(20));
  q.Wake();
  ASSERT_TRUE(Eventually([&] { return q.pending() == 0; }));
  EXPECT_EQ(q.finalized(), 2u);
  EXPECT_EQ(q.failures(), 0u);
  EXPECT_GT(q.bytes_written(), 2u * 16000);  // two 1 s stereo WAVs
}

}  // namespace
}  // namespace callvault::recording
