#include "base/group_sync.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/fault_injecting_fs.h"

namespace callvault {
namespace {

// An Fs that forwards to another and numbers the syncs it sees: every SyncFilesystem and
// SyncDir gets a sequence number from the shared counter when it *starts*, so a test can tell
// whether a sync began after a request was submitted.
class CountingFs final : public Fs {
 public:
  explicit CountingFs(Fs* base) : base_(base) {}

  std::atomic<uint64_t> seq{0};
  // Start numbers of the SyncFilesystem calls that completed OK, as a running maximum.
  std::atomic<uint64_t> last_good_syncfs_start{0};
  std::atomic<int> syncfs_calls{0};
  std::atomic<int> syncdir_calls{0};

  Status CreateDirs(const std::string& p) override { return base_->CreateDirs(p); }
  Result<std::vector<std::string>> ListDir(const std::string& d) override {
    return base_->ListDir(d);
  }
  Result<uint64_t> FileSize(const std::string& p) override { return base_->FileSize(p); }
  bool Exists(const std::string& p) override { return base_->Exists(p); }
  Status Remove(const std::string& p) override { return base_->Remove(p); }
  Status RemoveAll(const std::string& p) override { return base_->RemoveAll(p); }
  Status Rename(const std::string& a, const std::string& b) override {
    return base_->Rename(a, b);
  }
  Status SyncDir(const std::string& d) override {
    ++syncdir_calls;
    ++seq;
    return base_->SyncDir(d);
  }
  Status SyncFilesystem(const std::string& p) override {
    ++syncfs_calls;
    const uint64_t start = ++seq;
    Status s = base_->SyncFilesystem(p);
    if (s.ok()) {
      uint64_t prev = last_good_syncfs_start.load();
      while (prev < start && !last_good_syncfs_start.compare_exchange_weak(prev, start)) {
      }
    }
    return s;
  }
  Result<std::string> ReadFile(const std::string& p) override { return base_->ReadFile(p); }
  Result<std::unique_ptr<AppendableFile>> NewAppendableFile(const std::string& p) override {
    return base_->NewAppendableFile(p);
  }
  Result<std::unique_ptr<AppendableFile>> NewWritableFile(const std::string& p) override {
    return base_->NewWritableFile(p);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& p) override {
    return base_->NewRandomAccessFile(p);
  }
  Result<uint64_t> FreeBytes(const std::string& p) override { return base_->FreeBytes(p); }

 private:
  Fs* const base_;
};

// A one-shot gate a sync function can block on.
class Gate {
 public:
  void Open() { promise_.set_value(); }
  void Wait() { future_.wait(); }

 private:
  std::promise<void> promise_;
  std::shared_future<void> future_{promise_.get_future().share()};
};

class GroupSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/group_sync_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  // A file `name` under a new directory of the root, with `text` appended (not synced).
  std::unique_ptr<AppendableFile> Write(Fs& fs, const std::string& name, const std::string& text) {
    EXPECT_TRUE(fs.CreateDirs(root_ + "/" + name).ok());
    auto f = fs.NewAppendableFile(root_ + "/" + name + "/log");
    EXPECT_TRUE(f.ok());
    EXPECT_TRUE((*f)->Append(text).ok());
    EXPECT_TRUE((*f)->Flush().ok());
    return std::move(*f);
  }

  GroupSync::Request For(AppendableFile* file, const std::string& name,
                         std::function<void(Status)> done) {
    GroupSync::Request r;
    r.root = root_;
    r.sync = [file] { return file->Sync(); };
    r.dirs = {root_ + "/" + name, root_};
    r.done = std::move(done);
    return r;
  }

  std::string root_;
};

TEST_F(GroupSyncTest, RequestWaitsForARoundThatStartedAfterIt) {
  CountingFs fs(DefaultFs());
  GroupSync group(&fs, {.batch_min = 0});
  group.Start();
  Gate in_round, release;
  std::vector<std::string> events;  // appended under the sync thread / the test, in order
  Mutex mu;
  auto note = [&](const std::string& e) {
    MutexLock lock(&mu);
    events.push_back(e);
  };
  // Round 1 holds request A inside its sync while B is submitted.
  GroupSync::Request a;
  a.root = root_;
  a.sync = [&] {
    note("sync A");
    in_round.Open();
    release.Wait();
    return Status::Ok();
  };
  a.done = [&](Status s) { note("done A " + std::string(s.ok() ? "ok" : "error")); };
  group.Submit(std::move(a));
  in_round.Wait();
  note("submit B");
  std::promise<Status> b_done;
  GroupSync::Request b;
  b.root = root_;
  b.sync = [&] {
    note("sync B");
    return Status::Ok();
  };
  b.done = [&](Status s) {
    note("done B");
    b_done.set_value(s);
  };
  group.Submit(std::move(b));
  release.Open();
  EXPECT_TRUE(b_done.get_future().get().ok());
  group.Stop();
  const std::vector<std::string> want = {"sync A", "submit B", "done A ok", "sync B", "done B"};
  EXPECT_EQ(events, want);
  EXPECT_EQ(group.stats().rounds, 2u);
  EXPECT_EQ(group.stats().requests, 2u);
}

TEST_F(GroupSyncTest, ManyPendingRequestsShareOneSyncFilesystem) {
  CountingFs fs(DefaultFs());
  GroupSync group(&fs, {.batch_min = 4});
  group.Start();
  Gate in_round, release;
  GroupSync::Request blocker;
  blocker.root = root_;
  blocker.sync = [&] {
    in_round.Open();
    release.Wait();
    return Status::Ok();
  };
  blocker.done = [](Status) {};
  group.Submit(std::move(blocker));
  in_round.Wait();
  constexpr int kCalls = 20;
  std::vector<std::unique_ptr<AppendableFile>> files;
  std::vector<std::promise<Status>> done(kCalls);
  std::vector<uint64_t> submitted(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    files.push_back(Write(fs, "c" + std::to_string(i), "start " + std::to_string(i) + "\n"));
    submitted[i] = fs.seq.load();
    group.Submit(For(files.back().get(), "c" + std::to_string(i),
                     [&done, i](Status s) { done[i].set_value(s); }));
  }
  const int syncfs_before = fs.syncfs_calls.load();
  const int syncdir_before = fs.syncdir_calls.load();
  release.Open();
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(done[i].get_future().get().ok()) << i;
    EXPECT_GT(fs.last_good_syncfs_start.load(), submitted[i]) << i;
  }
  group.Stop();
  EXPECT_EQ(fs.syncfs_calls.load() - syncfs_before, 1);  // one syncfs for all 20
  EXPECT_EQ(fs.syncdir_calls.load() - syncdir_before, 0);
  EXPECT_EQ(group.stats().batched_rounds, 1u);
  EXPECT_EQ(group.stats().rounds, 2u);
}

TEST_F(GroupSyncTest, SmallRoundSyncsEachFileAndEachDirectoryOnce) {
  CountingFs fs(DefaultFs());
  GroupSync group(&fs, {.batch_min = 8});  // not started: each Submit runs inline
  auto f1 = Write(fs, "a", "x\n");
  auto f2 = Write(fs, "b", "y\n");
  Status s1 = group.Sync(For(f1.get(), "a", nullptr));
  EXPECT_TRUE(s1.ok()) << s1.ToString();
  EXPECT_EQ(fs.syncdir_calls.load(), 2);  // root/a and root
  EXPECT_EQ(fs.syncfs_calls.load(), 0);
  // Two requests naming the same root in one round: the root is synced once.
  group.Start();
  Gate in_round, release;
  GroupSync::Request blocker;
  blocker.root = root_;
  blocker.sync = [&] {
    in_round.Open();
    release.Wait();
    return Status::Ok();
  };
  blocker.done = [](Status) {};
  group.Submit(std::move(blocker));
  in_round.Wait();
  const int before = fs.syncdir_calls.load();
  std::promise<Status> d1, d2;
  group.Submit(For(f1.get(), "a", [&](Status s) { d1.set_value(s); }));
  group.Submit(For(f2.get(), "b", [&](Status s) { d2.set_value(s); }));
  release.Open();
  EXPECT_TRUE(d1.get_future().get().ok());
  EXPECT_TRUE(d2.get_future().get().ok());
  EXPECT_EQ(fs.syncdir_calls.load() - before, 3);  // root/a, root/b, root once
}

TEST_F(GroupSyncTest, FailureReachesExactlyTheRequestsOfTheFailedRound) {
  FaultInjectingFs faulty(DefaultFs());
  for (size_t batch_min : {size_t{0}, size_t{2}}) {
    SCOPED_TRACE("batch_min=" + std::to_string(batch_min));
    GroupSync group(&faulty, {.batch_min = batch_min});
    std::vector<std::unique_ptr<AppendableFile>> files;
    for (int i = 0; i < 4; ++i) {
      files.push_back(Write(faulty, "f" + std::to_string(batch_min) + std::to_string(i), "x\n"));
    }
    const std::string bad = "f" + std::to_string(batch_min) + "1";
    // The file of request 1 fails its fdatasync; a batched round's syncfs fails too, so the
    // round falls back to per-file syncs and only request 1 learns of an error.
    faulty.InjectFault(FsOp::kSync, root_ + "/" + bad + "/", EIO);
    faulty.InjectFault(FsOp::kSyncFilesystem, "", EIO);
    group.Start();
    Gate in_round, release;
    GroupSync::Request blocker;
    blocker.root = root_;
    blocker.sync = [&] {
      in_round.Open();
      release.Wait();
      return Status::Ok();
    };
    blocker.done = [](Status) {};
    group.Submit(std::move(blocker));
    in_round.Wait();
    std::vector<std::promise<Status>> done(4);
    for (int i = 0; i < 4; ++i) {
      group.Submit(For(files[i].get(), "f" + std::to_string(batch_min) + std::to_string(i),
                       [&done, i](Status s) { done[i].set_value(s); }));
    }
    release.Open();
    for (int i = 0; i < 4; ++i) {
      Status s = done[i].get_future().get();
      if (i == 1) {
        EXPECT_EQ(s.code(), StatusCode::kIoError) << s.ToString();
      } else {
        EXPECT_TRUE(s.ok()) << i << ": " << s.ToString();
      }
    }
    // The next round (the fault was spent) succeeds for the same file.
    EXPECT_TRUE(group.Sync(For(files[1].get(), bad, nullptr)).ok());
    // A failed directory sync fails the requests that named it, not the others.
    faulty.InjectFault(FsOp::kSyncDir, root_ + "/" + bad, EIO);
    EXPECT_EQ(group.Sync(For(files[1].get(), bad, nullptr)).code(), StatusCode::kIoError);
    EXPECT_TRUE(group.Sync(For(files[2].get(), "f" + std::to_string(batch_min) + "2", nullptr))
                    .ok());
    group.Stop();
    faulty.ClearFaults();
  }
}

TEST_F(GroupSyncTest, StopCompletesPendingRequestsAndLaterOnesRunInline) {
  CountingFs fs(DefaultFs());
  GroupSync group(&fs, {.batch_min = 0});
  group.Start();
  Gate in_round, release;
  std::atomic<int> completed{0};
  GroupSync::Request blocker;
  blocker.root = root_;
  blocker.sync = [&] {
    in_round.Open();
    release.Wait();
    return Status::Ok();
  };
  blocker.done = [&](Status s) {
    EXPECT_TRUE(s.ok());
    ++completed;
  };
  group.Submit(std::move(blocker));
  in_round.Wait();
  auto f = Write(fs, "p", "x\n");
  for (int i = 0; i < 5; ++i) {
    group.Submit(For(f.get(), "p", [&](Status s) {
      EXPECT_TRUE(s.ok()) << s.ToString();
      ++completed;
    }));
  }
  std::thread stopper([&] { group.Stop(); });
  release.Open();
  stopper.join();
  EXPECT_EQ(completed.load(), 6);  // none dropped, none failed by the shutdown
  bool ran = false;
  group.Submit(For(f.get(), "p", [&](Status s) {
    EXPECT_TRUE(s.ok());
    ran = true;
  }));
  EXPECT_TRUE(ran);  // inline, before Submit returned
  EXPECT_EQ(group.stats().requests, 7u);
}

// Threads append to their own files and wait for each line's sync, concurrently, in batched and
// per-file rounds; then a simulated power loss: every acknowledged line must be on disk, and
// every release must have come from a sync that began after the request was submitted.
TEST_F(GroupSyncTest, ConcurrentWritersNeverLoseAnAcknowledgedLine) {
  FaultInjectingFs faulty(DefaultFs());
  CountingFs fs(&faulty);
  GroupSync group(&fs, {.batch_min = 3});
  group.Start();
  constexpr int kThreads = 8;
  constexpr int kLines = 150;
  std::vector<std::unique_ptr<AppendableFile>> files(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_TRUE(fs.CreateDirs(root_ + "/t" + std::to_string(t)).ok());
    auto f = fs.NewAppendableFile(root_ + "/t" + std::to_string(t) + "/log");
    ASSERT_TRUE(f.ok());
    files[t] = std::move(*f);
  }
  std::atomic<int> early{0};
  std::vector<int> acked(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      AppendableFile* file = files[t].get();
      for (int i = 0; i < kLines; ++i) {
        // The file is written by this thread only; the sync thread syncs it while it waits.
        if (!file->Append(std::to_string(i) + "\n").ok() || !file->Flush().ok()) return;
        const uint64_t submitted = fs.seq.load();
        std::atomic<uint64_t> own_sync{0};
        GroupSync::Request r;
        r.root = root_;
        r.sync = [&fs, &own_sync, file] {
          own_sync = ++fs.seq;
          return file->Sync();
        };
        r.dirs = {root_ + "/t" + std::to_string(t), root_};
        if (!group.Sync(std::move(r)).ok()) return;
        if (own_sync.load() <= submitted && fs.last_good_syncfs_start.load() <= submitted) {
          ++early;
        }
        acked[t] = i + 1;
      }
    });
  }
  for (auto& th : threads) th.join();
  group.Stop();
  EXPECT_EQ(early.load(), 0);
  const GroupSync::Stats st = group.stats();
  EXPECT_EQ(st.requests, uint64_t{kThreads} * kLines);
  EXPECT_EQ(st.failed, 0u);
  for (auto& f : files) ASSERT_TRUE(f->Close().ok());
  ASSERT_TRUE(faulty.SimulateCrash().ok());
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(acked[t], kLines);
    auto text = DefaultFs()->ReadFile(root_ + "/t" + std::to_string(t) + "/log");
    ASSERT_TRUE(text.ok()) << t;
    std::string want;
    for (int i = 0; i < kLines; ++i) want += std::to_string(i) + "\n";
    EXPECT_EQ(*text, want) << t;
  }
}

}  // namespace
}  // namespace callvault
