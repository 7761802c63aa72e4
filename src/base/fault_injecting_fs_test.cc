#include "base/fault_injecting_fs.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace callvault {
namespace {

class FaultInjectingFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cv_ffs_test_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Read(const std::string& path) {
    auto r = DefaultFs()->ReadFile(path);
    return r.ok() ? *r : "<" + r.status().ToString() + ">";
  }

  FaultInjectingFs fs_{DefaultFs()};
  std::string dir_;
};

TEST_F(FaultInjectingFsTest, DurableWriteSurvivesCrash) {
  std::string path = dir_ + "/manifest.json";
  ASSERT_TRUE(WriteFileDurably(fs_, path, "v1").ok());
  ASSERT_TRUE(WriteFileDurably(fs_, path, "v2").ok());
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  EXPECT_EQ(Read(path), "v2");
  EXPECT_FALSE(DefaultFs()->Exists(path + ".tmp"));
}

TEST_F(FaultInjectingFsTest, UnsyncedAppendIsLostSyncedPartKept) {
  std::string path = dir_ + "/a.rtp";
  auto file = fs_.NewAppendableFile(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(fs_.SyncDir(dir_).ok());  // the name is durable
  ASSERT_TRUE((*file)->Append("synced|").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Append("not synced").ok());
  ASSERT_TRUE((*file)->Flush().ok());
  EXPECT_EQ(Read(path), "synced|not synced");  // in the page cache before the crash
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  EXPECT_EQ(Read(path), "synced|");
  EXPECT_EQ((*file)->Append("x").code(), StatusCode::kAborted);  // dead handle
  file->reset();                                                 // writes nothing
  EXPECT_EQ(Read(path), "synced|");
}

TEST_F(FaultInjectingFsTest, NewFileWithoutDirSyncDisappears) {
  std::string path = dir_ + "/new";
  auto file = fs_.NewWritableFile(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("data").ok());
  ASSERT_TRUE((*file)->Sync().ok());  // data synced, but not the directory entry
  ASSERT_TRUE((*file)->Close().ok());
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  EXPECT_FALSE(DefaultFs()->Exists(path));
}

TEST_F(FaultInjectingFsTest, FailedDirSyncRevertsRenameToOldContent) {
  std::string path = dir_ + "/outbox.entry";
  ASSERT_TRUE(WriteFileDurably(fs_, path, "old").ok());
  fs_.InjectFault(FsOp::kSyncDir, "", EIO);
  Status s = WriteFileDurably(fs_, path, "new");
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("syncing directory " + dir_), std::string_view::npos) << s.ToString();
  EXPECT_EQ(Read(path), "new");  // visible now...
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  EXPECT_EQ(Read(path), "old");  // ...but not durable
  EXPECT_EQ(fs_.ListDir(dir_).value(), std::vector<std::string>{"outbox.entry"});
}

TEST_F(FaultInjectingFsTest, EnospcOnAppendNamesPathAndLeavesNoTemp) {
  std::string path = dir_ + "/calls/c1.json";
  ASSERT_TRUE(fs_.CreateDirs(dir_ + "/calls").ok());
  fs_.InjectFault(FsOp::kAppend, dir_ + "/calls/", ENOSPC);
  Status s = WriteFileDurably(fs_, path, "{}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "writing " + path + " durably: appending to " + path +
                             ".tmp: No space left on device (errno 28)");
  EXPECT_EQ(fs_.injected_failures(), 1);
  EXPECT_EQ(fs_.ListDir(dir_ + "/calls").value(), std::vector<std::string>{});
  // The fault fired once; the next write succeeds.
  ASSERT_TRUE(WriteFileDurably(fs_, path, "{}").ok());
  EXPECT_EQ(Read(path), "{}");
}

TEST_F(FaultInjectingFsTest, FailedSyncLeavesNoTempAndOldContent) {
  std::string path = dir_ + "/m";
  ASSERT_TRUE(WriteFileDurably(fs_, path, "old").ok());
  fs_.InjectFault(FsOp::kSync, "", EIO);
  EXPECT_EQ(WriteFileDurably(fs_, path, "new").code(), StatusCode::kIoError);
  EXPECT_EQ(Read(path), "old");
  EXPECT_FALSE(DefaultFs()->Exists(path + ".tmp"));
}

TEST_F(FaultInjectingFsTest, NthAndRepeatingFaults) {
  std::string path = dir_ + "/f";
  auto file = fs_.NewAppendableFile(path);
  ASSERT_TRUE(file.ok());
  fs_.InjectFault(FsOp::kAppend, "", EIO, /*nth=*/3, /*repeat=*/true);
  EXPECT_TRUE((*file)->Append("1").ok());
  EXPECT_TRUE((*file)->Append("2").ok());
  EXPECT_EQ((*file)->Append("3").code(), StatusCode::kIoError);
  EXPECT_EQ((*file)->Append("4").code(), StatusCode::kIoError);
  EXPECT_TRUE((*file)->Sync().ok());  // other operations are unaffected
  fs_.ClearFaults();
  EXPECT_TRUE((*file)->Append("5").ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(Read(path), "125");
  EXPECT_EQ(fs_.injected_failures(), 2);
}

TEST_F(FaultInjectingFsTest, PathPrefixSelectsOperations) {
  fs_.InjectFault(FsOp::kAny, dir_ + "/bad", EACCES, /*nth=*/1, /*repeat=*/true);
  EXPECT_EQ(fs_.CreateDirs(dir_ + "/bad/x").code(), StatusCode::kIoError);
  EXPECT_TRUE(fs_.CreateDirs(dir_ + "/good/x").ok());
  EXPECT_EQ(fs_.Rename(dir_ + "/good/x", dir_ + "/bad/y").code(), StatusCode::kIoError);
}

TEST_F(FaultInjectingFsTest, FreeBytesOverride) {
  fs_.SetFreeBytes(1024);
  EXPECT_EQ(fs_.FreeBytes(dir_).value(), 1024u);
  fs_.SetFreeBytes(std::nullopt);
  EXPECT_GT(fs_.FreeBytes(dir_).value(), 1024u);
}

TEST_F(FaultInjectingFsTest, RenameAcrossDirectoriesNeedsBothSynced) {
  ASSERT_TRUE(fs_.CreateDirs(dir_ + "/spool").ok());
  ASSERT_TRUE(fs_.CreateDirs(dir_ + "/done").ok());
  ASSERT_TRUE(WriteFileDurably(fs_, dir_ + "/spool/s", "session").ok());
  ASSERT_TRUE(fs_.Rename(dir_ + "/spool/s", dir_ + "/done/s").ok());
  ASSERT_TRUE(fs_.SyncDir(dir_ + "/done").ok());
  ASSERT_TRUE(fs_.SimulateCrash().ok());  // spool/ was not synced: the move is undone
  EXPECT_EQ(Read(dir_ + "/spool/s"), "session");
  EXPECT_FALSE(DefaultFs()->Exists(dir_ + "/done/s"));

  ASSERT_TRUE(fs_.Rename(dir_ + "/spool/s", dir_ + "/done/s").ok());
  ASSERT_TRUE(fs_.SyncDir(dir_ + "/done").ok());
  ASSERT_TRUE(fs_.SyncDir(dir_ + "/spool/").ok());
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  EXPECT_EQ(Read(dir_ + "/done/s"), "session");
}

TEST_F(FaultInjectingFsTest, SyncFilesystemMakesEverythingUnderItDurable) {
  ASSERT_TRUE(fs_.CreateDirs(dir_ + "/spool/c1").ok());
  ASSERT_TRUE(fs_.CreateDirs(dir_ + "/spoolx").ok());
  const std::string a = dir_ + "/spool/c1/a.rtp", b = dir_ + "/spool/c1/b.rtp";
  const std::string outside = dir_ + "/spoolx/o";  // a name prefix, not under spool/
  auto fa = fs_.NewAppendableFile(a);
  auto fb = fs_.NewAppendableFile(b);
  auto fo = fs_.NewAppendableFile(outside);
  ASSERT_TRUE(fa.ok() && fb.ok() && fo.ok());
  ASSERT_TRUE((*fa)->Append("a1").ok());
  ASSERT_TRUE((*fb)->Append("b1").ok());
  ASSERT_TRUE((*fo)->Append("o1").ok());
  ASSERT_TRUE(WriteFileDurably(fs_, dir_ + "/spool/c1/m", "old").ok());
  ASSERT_TRUE(fs_.Rename(a, dir_ + "/spool/c1/m").ok());  // no SyncDir
  ASSERT_TRUE(fs_.SyncFilesystem(dir_ + "/spool/").ok());
  ASSERT_TRUE((*fb)->Append("|after").ok());  // not covered by the sync
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  EXPECT_EQ(Read(dir_ + "/spool/c1/m"), "a1");  // the rename and the data survived
  EXPECT_FALSE(DefaultFs()->Exists(a));
  EXPECT_EQ(Read(b), "b1");                    // new name and data, cut at the sync
  EXPECT_FALSE(DefaultFs()->Exists(outside));  // never synced
  EXPECT_EQ((*fb)->Append("x").code(), StatusCode::kAborted);
}

TEST_F(FaultInjectingFsTest, InjectedSyncFilesystemFailureIsReturnedAndSyncsNothing) {
  const std::string path = dir_ + "/a.rtp";
  auto file = fs_.NewAppendableFile(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("data").ok());
  fs_.InjectFault(FsOp::kSyncFilesystem, dir_, EIO);
  Status s = fs_.SyncFilesystem(dir_);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message(), "syncing the filesystem of " + dir_ + ": Input/output error (errno 5)");
  EXPECT_EQ(fs_.injected_failures(), 1);
  EXPECT_TRUE((*file)->Sync().ok());  // other operations are unaffected...
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  EXPECT_FALSE(DefaultFs()->Exists(path));  // ...but the name was never made durable
  EXPECT_EQ(FsOpName(FsOp::kSyncFilesystem), "sync_filesystem");
}

TEST_F(FaultInjectingFsTest, ReopenedTruncatedFileLosesOldContentUntilSynced) {
  std::string path = dir_ + "/t";
  ASSERT_TRUE(WriteFileDurably(fs_, path, "durable").ok());
  auto file = fs_.NewWritableFile(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("fresh").ok());
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  EXPECT_EQ(Read(path), "");  // truncation happened, nothing new was synced
}

TEST_F(FaultInjectingFsTest, UnsyncedRemovalsComeBackWhenAskedFor) {
  fs_.set_removals_need_dir_sync(true);
  const std::string d = dir_ + "/d";
  ASSERT_TRUE(fs_.CreateDirs(d + "/empty").ok());
  ASSERT_TRUE(WriteFileDurably(fs_, d + "/a", "durable a").ok());
  ASSERT_TRUE(WriteFileDurably(*DefaultFs(), d + "/b", "untracked b").ok());
  auto c = fs_.NewAppendableFile(d + "/c");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(fs_.SyncDir(d).ok());
  ASSERT_TRUE((*c)->Append("c1").ok());
  ASSERT_TRUE((*c)->Sync().ok());
  ASSERT_TRUE((*c)->Append("c2").ok());
  auto e = fs_.NewWritableFile(d + "/e");  // its name never becomes durable
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE((*e)->Sync().ok());
  for (const char* name : {"/a", "/b", "/c", "/e", "/empty"}) {
    ASSERT_TRUE(fs_.Remove(d + name).ok()) << name;
  }
  EXPECT_EQ(fs_.ListDir(d).value(), std::vector<std::string>{});
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  EXPECT_EQ(Read(d + "/a"), "durable a");
  EXPECT_EQ(Read(d + "/b"), "untracked b");
  EXPECT_EQ(Read(d + "/c"), "c1");  // its durable content
  EXPECT_FALSE(DefaultFs()->Exists(d + "/e"));
  EXPECT_TRUE(fs_.ListDir(d + "/empty").ok());
  // Removed, the directory synced: gone for good. Removed again after a durable re-creation:
  // the re-created content is what comes back.
  ASSERT_TRUE(fs_.Remove(d + "/a").ok());
  ASSERT_TRUE(fs_.SyncDir(d).ok());
  ASSERT_TRUE(WriteFileDurably(fs_, d + "/b", "second b").ok());
  ASSERT_TRUE(fs_.Remove(d + "/b").ok());
  EXPECT_EQ(fs_.Remove(d + "/a").code(), StatusCode::kNotFound);
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  EXPECT_FALSE(DefaultFs()->Exists(d + "/a"));
  EXPECT_EQ(Read(d + "/b"), "second b");
}

TEST_F(FaultInjectingFsTest, RandomAccessFaultsOnOpenAndOnRead) {
  const std::string path = dir_ + "/audio.wav";
  ASSERT_TRUE(WriteFileDurably(fs_, path, "0123456789").ok());
  fs_.InjectFault(FsOp::kOpenRandomAccess, path, EACCES);
  auto refused = fs_.NewRandomAccessFile(path);
  EXPECT_EQ(refused.status().code(), StatusCode::kIoError);
  EXPECT_EQ(refused.status().message(),
            "opening " + path + " for reading: Permission denied (errno 13)");
  auto file = fs_.NewRandomAccessFile(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ((*file)->size(), 10u);
  fs_.InjectFault(FsOp::kRead, path, EIO, /*nth=*/2);
  char buf[4];
  EXPECT_EQ((*file)->Read(0, 4, buf).value(), 4u);
  Result<size_t> failed = (*file)->Read(4, 4, buf);
  EXPECT_EQ(failed.status().code(), StatusCode::kIoError);
  EXPECT_EQ(failed.status().message(), "reading " + path + " at 4: Input/output error (errno 5)");
  ASSERT_EQ((*file)->Read(8, 4, buf).value(), 2u);  // the fault fired once; 2 bytes are left
  EXPECT_EQ(std::string_view(buf, 2), "89");
  EXPECT_EQ(fs_.NewRandomAccessFile(dir_ + "/nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_.injected_failures(), 2);
  EXPECT_EQ(FsOpName(FsOp::kOpenRandomAccess), "open_random_access");
  EXPECT_EQ(FsOpName(FsOp::kRead), "read");
  EXPECT_EQ(FsOpName(FsOp::kFileMode), "file_mode");
}

TEST_F(FaultInjectingFsTest, ReadersSeeUnsyncedDataThenWhatTheCrashLeft) {
  const std::string path = dir_ + "/a";
  auto writer = fs_.NewAppendableFile(path);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(fs_.SyncDir(dir_).ok());
  ASSERT_TRUE((*writer)->Append("synced|").ok());
  ASSERT_TRUE((*writer)->Sync().ok());
  ASSERT_TRUE((*writer)->Append("cached").ok());
  auto before = fs_.NewRandomAccessFile(path);
  ASSERT_TRUE(before.ok());
  char buf[32];
  EXPECT_EQ((*before)->Read(0, sizeof(buf), buf).value(), 13u);  // the page cache, as on Linux
  EXPECT_EQ(std::string_view(buf, 13), "synced|cached");
  ASSERT_TRUE(fs_.SimulateCrash().ok());
  // The process that held the reader is gone; a new one reads what survived.
  EXPECT_EQ((*before)->Read(0, sizeof(buf), buf).status().code(), StatusCode::kAborted);
  auto after = fs_.NewRandomAccessFile(path);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)->size(), 7u);
  ASSERT_EQ((*after)->Read(0, sizeof(buf), buf).value(), 7u);
  EXPECT_EQ(std::string_view(buf, 7), "synced|");
}

}  // namespace
}  // namespace callvault
