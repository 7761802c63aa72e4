#include "base/fs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

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

TEST_F(PosixFsTest, CreateFileExclusiveSetsTheModeAndNeverOverwrites) {
  const std::string path = dir_ + "/secret";
  ASSERT_TRUE(fs_.CreateFileExclusive(path, std::string(32, 'k'), 0600).ok());
  EXPECT_EQ(fs_.FileMode(path).value(), 0600u);
  EXPECT_EQ(fs_.ReadFile(path).value(), std::string(32, 'k'));
  Status again = fs_.CreateFileExclusive(path, "other", 0600);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  EXPECT_EQ(fs_.ReadFile(path).value(), std::string(32, 'k'));
  EXPECT_FALSE(fs_.CreateFileExclusive(dir_ + "/missing/dir/x", "x", 0600).ok());
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

TEST_F(PosixFsTest, FileModeReportsPermissionBits) {
  const std::string path = dir_ + "/secret";
  ASSERT_TRUE(WriteFileDurably(fs_, path, "x").ok());
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  EXPECT_EQ(fs_.FileMode(path).value(), 0600u);
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  EXPECT_EQ(fs_.FileMode(path).value(), 0644u);
  EXPECT_EQ(fs_.FileMode(dir_ + "/nope").status().code(), StatusCode::kNotFound);
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

TEST_F(PosixFsTest, RandomAccessReadsRangesAndStopsAtTheEnd) {
  std::string data;
  for (int i = 0; i < 200000; ++i) data += static_cast<char>(i * 7 + i / 251);
  const std::string path = dir_ + "/audio.wav";
  ASSERT_TRUE(WriteFileDurably(fs_, path, data).ok());
  auto file = fs_.NewRandomAccessFile(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ((*file)->size(), 200000u);
  EXPECT_EQ((*file)->path(), path);
  struct Case {
    uint64_t offset;
    size_t n, expected;
  };
  for (const Case& c : {Case{0, 100, 100}, Case{12345, 70000, 70000}, Case{199990, 100, 10},
                        Case{200000, 10, 0}, Case{300000, 10, 0}, Case{5, 0, 0}}) {
    std::string buf(c.n, '\0');
    Result<size_t> n = (*file)->Read(c.offset, c.n, buf.data());
    ASSERT_TRUE(n.ok()) << c.offset << " " << n.status().ToString();
    ASSERT_EQ(*n, c.expected) << c.offset;
    EXPECT_EQ(buf.substr(0, *n), data.substr(std::min<uint64_t>(c.offset, data.size()), *n))
        << c.offset;
  }
}

TEST_F(PosixFsTest, RandomAccessReadsFromManyThreadsAtOnce) {
  std::string data;
  for (int i = 0; i < 64 * 1024; ++i) data += static_cast<char>(i % 251);
  ASSERT_TRUE(WriteFileDurably(fs_, dir_ + "/f", data).ok());
  std::unique_ptr<RandomAccessFile> file = fs_.NewRandomAccessFile(dir_ + "/f").value();
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      char buf[1000];
      for (int i = 0; i < 500; ++i) {
        const uint64_t offset = static_cast<uint64_t>((i * 131 + t * 17) % 60000);
        Result<size_t> n = file->Read(offset, sizeof(buf), buf);
        if (!n.ok() || *n != sizeof(buf) ||
            std::string_view(buf, *n) != std::string_view(data).substr(offset, *n)) {
          ++mismatches;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(PosixFsTest, RandomAccessOpenErrors) {
  auto missing = fs_.NewRandomAccessFile(dir_ + "/nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "opening " + dir_ + "/nope for reading: No such file or directory (errno 2)");
  ASSERT_TRUE(WriteFileDurably(fs_, dir_ + "/file", "x").ok());
  auto under_file = fs_.NewRandomAccessFile(dir_ + "/file/sub");  // ENOTDIR
  EXPECT_EQ(under_file.status().code(), StatusCode::kNotFound) << under_file.status().ToString();
  auto dir = fs_.NewRandomAccessFile(dir_);
  EXPECT_EQ(dir.status().code(), StatusCode::kIoError);
  EXPECT_NE(dir.status().message().find("Is a directory"), std::string_view::npos)
      << dir.status().ToString();
  // A FIFO is refused at once (opening it must not wait for a writer).
  ASSERT_EQ(::mkfifo((dir_ + "/fifo").c_str(), 0644), 0);
  auto fifo = fs_.NewRandomAccessFile(dir_ + "/fifo");
  EXPECT_EQ(fifo.status().code(), StatusCode::kIoError);
  EXPECT_NE(fifo.status().message().find("not a regular file"), std::string_view::npos)
      << fifo.status().ToString();
  // An empty file reads as empty.
  ASSERT_TRUE(WriteFileDurably(fs_, dir_ + "/empty", "").ok());
  auto empty = fs_.NewRandomAccessFile(dir_ + "/empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)->size(), 0u);
  char c;
  EXPECT_EQ((*empty)->Read(0, 1, &c).value(), 0u);
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

TEST(BaseNameTest, Cases) {
  EXPECT_EQ(BaseName("/a/b/c"), "c");
  EXPECT_EQ(BaseName("/a/b/"), "b");
  EXPECT_EQ(BaseName("c"), "c");
  EXPECT_EQ(BaseName("/"), "");  // the root has no last component
}

}  // namespace
}  // namespace callvault
