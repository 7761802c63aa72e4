// SessionLog with a GroupSync (group commit): what a sync acknowledged survives a power loss —
// the lines, the file's name in its new call directory — and what was never synced does not
// count as durable.
#include "media/session_log.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/fault_injecting_fs.h"
#include "base/fs.h"
#include "base/group_sync.h"

namespace callvault::media {
namespace {

class SessionLogGroupTest : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/session_log_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_P(SessionLogGroupTest, AcknowledgedStartLinesSurviveAPowerLoss) {
  FaultInjectingFs fs(DefaultFs());
  FakeClock clock;
  GroupSync group(&fs, {.batch_min = GetParam()});
  group.Start();
  const std::string root = dir_ + "/spool";
  ASSERT_TRUE(fs.CreateDirs(root).ok());
  constexpr int kCalls = 40;
  std::vector<std::shared_ptr<SessionLog>> logs;
  std::vector<std::promise<Status>> done(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    auto log = SessionLog::Open(&fs, &clock, root + "/c" + std::to_string(i), &group);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_TRUE((*log)->Append("start", {{"i", i}}).ok());
    (*log)->SyncAsync([&done, i](Status s) { done[i].set_value(std::move(s)); });
    logs.push_back(*log);
  }
  // A call whose decision was written but never synced (its INVITE got no 200).
  auto unsynced = SessionLog::Open(&fs, &clock, root + "/never", &group);
  ASSERT_TRUE(unsynced.ok());
  ASSERT_TRUE((*unsynced)->Append("start", {{"i", -1}}).ok());
  for (int i = 0; i < kCalls; ++i) {
    Status s = done[i].get_future().get();
    ASSERT_TRUE(s.ok()) << i << ": " << s.ToString();
  }
  // A later line synced through the blocking path of the same group.
  ASSERT_TRUE(logs[0]->Append("end", {{"reason", "bye"}}).ok());
  ASSERT_TRUE(logs[0]->Sync().ok());
  group.Stop();
  for (auto& log : logs) ASSERT_TRUE(log->Close().ok());
  ASSERT_TRUE((*unsynced)->Close().ok());

  ASSERT_TRUE(fs.SimulateCrash().ok());
  for (int i = 0; i < kCalls; ++i) {
    auto lines = ReadSessionLog(*DefaultFs(), root + "/c" + std::to_string(i) + "/session.jsonl");
    ASSERT_TRUE(lines.ok()) << i << ": " << lines.status().ToString();
    ASSERT_EQ(lines->size(), i == 0 ? 2u : 1u) << i;
    EXPECT_EQ((*lines)[0]["t"], "start");
    EXPECT_EQ((*lines)[0]["i"], i);
  }
  EXPECT_EQ((*ReadSessionLog(*DefaultFs(), root + "/c0/session.jsonl"))[1]["reason"], "bye");
  if (GetParam() == 0) {
    // Per-file rounds sync only what was asked: its name was never made durable. (A batched
    // round's syncfs makes everything on the filesystem durable, asked for or not.)
    EXPECT_FALSE(DefaultFs()->Exists(root + "/never/session.jsonl"));
  }
  EXPECT_EQ(group.stats().requests, uint64_t{kCalls} + 1);
}

// 0: every round syncs each log and its directories; 4: large rounds use one syncfs.
INSTANTIATE_TEST_SUITE_P(PerFileAndBatched, SessionLogGroupTest, ::testing::Values(0u, 4u));

// Issue 21: a disk that refuses an append keeps the line in memory; it is written, whole and in
// order, before the next line — never torn, never lost.
TEST(SessionLogTest, AFullDiskNeverTearsOrLosesALine) {
  std::string tmpl = ::testing::TempDir() + "/session_log_full_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  FaultInjectingFs fs(DefaultFs());
  FakeClock clock;
  auto log = SessionLog::Open(&fs, &clock, tmpl + "/call");
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->Append("start", {{"i", 1}}).ok());
  fs.InjectFault(FsOp::kAppend, tmpl, ENOSPC, 1, /*repeat=*/true);
  Status s = (*log)->Append("end", {{"reason", "bye"}});
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_TRUE((*log)->has_unwritten());
  EXPECT_FALSE((*log)->Sync().ok());  // still full: the sync says so
  EXPECT_FALSE((*log)->WriteUnwritten().ok());
  fs.ClearFaults();  // space returns
  ASSERT_TRUE((*log)->Sync().ok());
  EXPECT_FALSE((*log)->has_unwritten());
  ASSERT_TRUE((*log)->Append("after", {{"i", 3}}).ok());
  ASSERT_TRUE((*log)->Close().ok());
  int bad = -1;
  auto lines = ReadSessionLog(*DefaultFs(), tmpl + "/call/session.jsonl", &bad);
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 3u);
  EXPECT_EQ(bad, 0);
  EXPECT_EQ((*lines)[1]["t"], "end");
  EXPECT_EQ((*lines)[1]["reason"], "bye");
  EXPECT_EQ((*lines)[2]["t"], "after");
  std::filesystem::remove_all(tmpl);
}

// A line's time is now, unless the caller says when it happened (a passive copy: the capture
// time of the message that caused it).
TEST(SessionLogTest, ALineTakesTheCallersTimeWhenGiven) {
  std::string tmpl = ::testing::TempDir() + "/session_log_at_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  FakeClock clock;  // 2026-01-01T00:00:00Z
  auto log = SessionLog::Open(DefaultFs(), &clock, tmpl + "/call");
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->Append("start", {{"at", "2025-12-31T23:59:59.950Z"}}).ok());
  ASSERT_TRUE((*log)->Append("sdp", {{"at", 7}}).ok());  // not a time: now
  ASSERT_TRUE((*log)->Append("end").ok());
  ASSERT_TRUE((*log)->Close().ok());
  int bad = -1;
  auto lines = ReadSessionLog(*DefaultFs(), tmpl + "/call/session.jsonl", &bad);
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 3u);
  EXPECT_EQ((*lines)[0]["at"], "2025-12-31T23:59:59.950Z");
  EXPECT_EQ((*lines)[1]["at"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ((*lines)[2]["at"], "2026-01-01T00:00:00.000Z");
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace callvault::media
