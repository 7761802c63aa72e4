#include "base/fs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

namespace callvault {
namespace {

class PosixFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cv_fs_test_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Fs& fs_ = *DefaultFs();
  std::string dir_;
};

TEST_F(PosixFsTest, AppendFlushSyncCloseAndRead) {
  std::string path = dir_ + "/a.rtp";
  auto file = fs_.NewAppendableFile(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ((*file)->path(), path);
  ASSERT_TRUE((*file)->Append("hello ").ok());
  EXPECT_EQ((*file)->size(), 6u);
  EXPECT_EQ(fs_.FileSize(path).value(), 0u);  // still in the user-space buffer
  ASSERT_TRUE((*file)->Flush().ok());
  EXPECT_EQ(fs_.FileSize(path).value(), 6u);
  ASSERT_TRUE((*file)->Append(std::string(100000, 'x')).ok());  // larger than the buffer
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ((*file)->Append("late").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(fs_.ReadFile(path).value(), "hello " + std::string(100000, 'x'));

  auto again = fs_.NewAppendableFile(path);  // appends after the existing content
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->size(), 100006u);
  ASSERT_TRUE((*again)->Append("!").ok());
  again->reset();  // destructor closes and flushes
  EXPECT_EQ(fs_.FileSize(path).value(), 100007u);

  auto truncated = fs_.NewWritableFile(path);
  ASSERT_TRUE(truncated.ok());
  EXPECT_EQ((*truncated)->size(), 0u);
  ASSERT_TRUE((*truncated)->Close().ok());
  EXPECT_EQ(fs_.ReadFile(path).value(), "");
}

TEST_F(PosixFsTest, AppendAndFlushWritesAfterWhatIsBuffered) {
  std::string path = dir_ + "/b.rtp";
  auto file = fs_.NewAppendableFile(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Append("head ").ok());  // buffered
  ASSERT_TRUE((*file)->AppendAndFlush("tail").ok());
  EXPECT_EQ((*file)->size(), 9u);
  EXPECT_EQ(fs_.ReadFile(path).value(), "head tail");  // in the kernel, in order
  ASSERT_TRUE((*file)->AppendAndFlush("").ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ((*file)->AppendAndFlush("late").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(fs_.FileSize(path).value(), 9u);
}

TEST_F(PosixFsTest, DirectoriesListRenameRemove) {
  ASSERT_TRUE(fs_.CreateDirs(dir_ + "/spool/c1").ok());
  ASSERT_TRUE(fs_.CreateDirs(dir_ + "/spool/c1").ok());  // already there
  ASSERT_TRUE(WriteFileDurably(fs_, dir_ + "/spool/c1/b", "2").ok());
  ASSERT_TRUE(WriteFileDurably(fs_, dir_ + "/spool/c1/a", "1").ok());
  ASSERT_TRUE(fs_.CreateDirs(dir_ + "/spool/c1/sub").ok());
  EXPECT_EQ(fs_.ListDir(dir_ + "/spool/c1").value(), (std::vector<std::string>{"a", "b", "sub"}));
  EXPECT_TRUE(fs_.Exists(dir_ + "/spool/c1/a"));
  ASSERT_TRUE(fs_.Rename(dir_ + "/spool/c1/a", dir_ + "/spool/c1/b").ok());
  EXPECT_FALSE(fs_.Exists(dir_ + "/spool/c1/a"));
  EXPECT_EQ(fs_.ReadFile(dir_ + "/spool/c1/b").value(), "1");
  EXPECT_EQ(fs_.Remove(dir_ + "/spool/c1/a").code(), StatusCode::kNotFound);
  ASSERT_TRUE(fs_.Remove(dir_ + "/spool/c1/sub").ok());                 // empty directory
  EXPECT_EQ(fs_.Remove(dir_ + "/spool").code(), StatusCode::kIoError);  // not empty
  ASSERT_TRUE(fs_.RemoveAll(dir_ + "/spool").ok());
  EXPECT_FALSE(fs_.Exists(dir_ + "/spool"));
  ASSERT_TRUE(fs_.RemoveAll(dir_ + "/spool").ok());  // missing is fine
}

TEST_F(PosixFsTest, ErrorsNameThePathAndMapCodes) {
  auto missing = fs_.ReadFile(dir_ + "/nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "reading " + dir_ + "/nope: No such file or directory (errno 2)");
  EXPECT_EQ(fs_.FileSize(dir_ + "/nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_.ListDir(dir_ + "/nope").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(WriteFileDurably(fs_, dir_ + "/file", "x").ok());
  Status s = fs_.CreateDirs(dir_ + "/file/sub");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(dir_ + "/file/sub"), std::string_view::npos) << s.ToString();
  EXPECT_EQ(internal::FsError("appending to /x", ENOSPC).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(internal::FsError("syncing /x", EIO).code(), StatusCode::kIoError);
}

TEST_F(PosixFsTest, WriteFileDurablyReplacesAndLeavesNoTemp) {
  std::string path = dir_ + "/manifest.json";
  ASSERT_TRUE(WriteFileDurably(fs_, path, "v1").ok());
  ASSERT_TRUE(WriteFileDurably(fs_, path, "version 2").ok());
  EXPECT_EQ(fs_.ReadFile(path).value(), "version 2");
  EXPECT_EQ(fs_.ListDir(dir_).value(), std::vector<std::string>{"manifest.json"});
}

TEST_F(PosixFsTest, SyncFilesystemOfADirectory) {
  ASSERT_TRUE(fs_.CreateDirs(dir_ + "/spool/c1").ok());
  auto file = fs_.NewAppendableFile(dir_ + "/spool/c1/a.rtp");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("data").ok());
  ASSERT_TRUE((*file)->Flush().ok());
  ASSERT_TRUE(fs_.SyncFilesystem(dir_ + "/spool").ok());
  ASSERT_TRUE(fs_.SyncFilesystem(dir_).ok());  // same filesystem: the kept descriptor
  EXPECT_EQ(fs_.ReadFile(dir_ + "/spool/c1/a.rtp").value(), "data");
  Status missing = fs_.SyncFilesystem(dir_ + "/nope");
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message(),
            "syncing the filesystem of " + dir_ + "/nope: No such file or directory (errno 2)");
  Status not_dir = fs_.SyncFilesystem(dir_ + "/spool/c1/a.rtp");  // REQUIRES a directory
  EXPECT_EQ(not_dir.code(), StatusCode::kIoError);
  EXPECT_NE(not_dir.message().find("Not a directory"), std::string_view::npos)
      << not_dir.ToString();
}

TEST_F(PosixFsTest, FreeBytesIsPositive) {
  auto free = fs_.FreeBytes(dir_);
  ASSERT_TRUE(free.ok()) << free.status().ToString();
  EXPECT_GT(*free, 0u);
}

TEST(DirNameTest, Cases) {
  EXPECT_EQ(DirName("/a/b/c"), "/a/b");
  EXPECT_EQ(DirName("/a/b/"), "/a");
  EXPECT_EQ(DirName("c"), ".");
  EXPECT_EQ(DirName("/c"), "/");
  EXPECT_EQ(DirName("a/c"), "a");
}

}  // namespace
}  // namespace callvault
