#include "base/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "base/mutex.h"

namespace callvault {
namespace {

constexpr size_t kWriteBufferSize = 64 * 1024;

Status WriteAll(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return internal::FsError("appending to " + path, errno);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

class PosixAppendableFile final : public AppendableFile {
 public:
  PosixAppendableFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {
    buf_.reserve(kWriteBufferSize);
  }
  ~PosixAppendableFile() override {
    if (fd_ >= 0) Close().IgnoreError();  // documented: destroying drops the error
  }

  Status Append(std::string_view data) override {
    if (fd_ < 0) return FailedPreconditionError("appending to closed file " + path_);
    if (buf_.size() + data.size() > kWriteBufferSize) CV_RETURN_IF_ERROR(FlushBuffer());
    if (data.size() <= kWriteBufferSize / 2 || buf_.size() + data.size() <= kWriteBufferSize) {
      buf_.append(data);
      size_ += data.size();
      return Status::Ok();
    }
    Status s = WriteAll(fd_, data.data(), data.size(), path_);
    if (s.ok()) {
      size_ += data.size();
    } else {
      SizeFromKernel();
    }
    return s;
  }

  Status Flush() override {
    if (fd_ < 0) return FailedPreconditionError("flushing closed file " + path_);
    return FlushBuffer();
  }

  // What is buffered, then `data` from the caller's memory (no copy into buf_).
  Status AppendAndFlush(std::string_view data) override {
    if (fd_ < 0) return FailedPreconditionError("appending to closed file " + path_);
    CV_RETURN_IF_ERROR(FlushBuffer());
    Status s = WriteAll(fd_, data.data(), data.size(), path_);
    if (s.ok()) {
      size_ += data.size();
    } else {
      SizeFromKernel();
    }
    return s;
  }

  Status Sync() override {
    if (fd_ < 0) return FailedPreconditionError("syncing closed file " + path_);
    CV_RETURN_IF_ERROR(FlushBuffer());
    if (::fdatasync(fd_) != 0) return internal::FsError("syncing " + path_, errno);
    return Status::Ok();
  }

  Status Close() override {
    if (fd_ < 0) return FailedPreconditionError("closing closed file " + path_);
    Status s = FlushBuffer();
    if (::close(fd_) != 0 && s.ok()) s = internal::FsError("closing " + path_, errno);
    fd_ = -1;
    return s;
  }

  uint64_t size() const override { return size_; }
  const std::string& path() const override { return path_; }

 private:
  // On failure the buffered bytes are dropped and size() becomes what the kernel has (a partial
  // write may have landed): the caller decides whether the file is still usable.
  Status FlushBuffer() {
    if (buf_.empty()) return Status::Ok();
    Status s = WriteAll(fd_, buf_.data(), buf_.size(), path_);
    buf_.clear();
    if (!s.ok()) SizeFromKernel();
    return s;
  }

  void SizeFromKernel() {
    struct stat st;
    if (::fstat(fd_, &st) == 0) size_ = static_cast<uint64_t>(st.st_size);
  }

  const std::string path_;
  int fd_;
  uint64_t size_;
  std::string buf_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Result<size_t> Read(uint64_t offset, size_t n, char* buf) const override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, buf + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return internal::FsError("reading " + path_ + " at " + std::to_string(offset + done),
                                 errno);
      }
      if (r == 0) break;  // end of file
      done += static_cast<size_t>(r);
    }
    return done;
  }

  uint64_t size() const override { return size_; }
  const std::string& path() const override { return path_; }

 private:
  const std::string path_;
  const int fd_;
  const uint64_t size_;
};

// The entries of a directory except "." and "..", in readdir order.
Result<std::vector<std::string>> ReadDirNames(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return internal::FsError("listing " + dir, errno);
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      names.emplace_back(e->d_name);
    }
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return internal::FsError("listing " + dir, err);
  return names;
}

Status RemoveAllRecursive(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return internal::FsError("inspecting " + path, errno);
  }
  if (S_ISDIR(st.st_mode)) {
    CV_ASSIGN_OR_RETURN(std::vector<std::string> names, ReadDirNames(path));
    for (const auto& name : names) CV_RETURN_IF_ERROR(RemoveAllRecursive(path + "/" + name));
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT) {
      return internal::FsError("removing " + path, errno);
    }
    return Status::Ok();
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return internal::FsError("removing " + path, errno);
  }
  return Status::Ok();
}

class PosixFs final : public Fs {
 public:
  Status CreateDirs(const std::string& path) override {
    if (path.empty()) return InvalidArgumentError("creating directory: empty path");
    // The common case first: only the last component is missing (a new call directory under
    // the spool root) or none is — one mkdir. Only when a parent is missing (ENOENT), walk from
    // the root down and mkdir each missing component.
    if (::mkdir(path.c_str(), 0755) == 0) return Status::Ok();
    if (errno == ENOENT) {
      for (size_t pos = path.find('/', 1);; pos = path.find('/', pos + 1)) {
        std::string prefix = path.substr(0, pos);
        if (!prefix.empty() && ::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
          return internal::FsError("creating directory " + prefix, errno);
        }
        if (pos == std::string::npos) break;
      }
    } else if (errno != EEXIST) {
      return internal::FsError("creating directory " + path, errno);
    }
    struct stat st;
    if (::stat(path.c_str(), &st) != 0)
      return internal::FsError("creating directory " + path, errno);
    if (!S_ISDIR(st.st_mode)) return internal::FsError("creating directory " + path, ENOTDIR);
    return Status::Ok();
  }

  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    CV_ASSIGN_OR_RETURN(std::vector<std::string> names, ReadDirNames(dir));
    std::sort(names.begin(), names.end());
    return names;
  }

  Result<uint64_t> FileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return internal::FsError("getting size of " + path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Result<uint32_t> FileMode(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return internal::FsError("getting mode of " + path, errno);
    return static_cast<uint32_t>(st.st_mode & 07777);
  }

  Status CreateFileExclusive(const std::string& path, std::string_view data,
                             uint32_t mode) override {
    const std::string what = "creating " + path;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    static_cast<mode_t>(mode));
    if (fd < 0) {
      if (errno == EEXIST) return AlreadyExistsError(what + ": it already exists");
      return internal::FsError(what, errno);
    }
    Status s;
    if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) s = internal::FsError(what, errno);
    for (size_t done = 0; s.ok() && done < data.size();) {
      const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) s = internal::FsError(what, errno);
      if (n > 0) done += static_cast<size_t>(n);
    }
    if (s.ok() && ::fsync(fd) != 0) s = internal::FsError(what, errno);
    if (::close(fd) != 0 && s.ok()) s = internal::FsError(what, errno);
    if (!s.ok()) {
      ::unlink(path.c_str());  // best effort: never leave a half-written secret
      return s;
    }
    return SyncDir(DirName(path));
  }

  bool Exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) == 0) return Status::Ok();
    int err = errno;
    if (err == EISDIR || err == EPERM) {  // Linux: EISDIR; POSIX allows EPERM for directories
      if (::rmdir(path.c_str()) == 0) return Status::Ok();
      err = errno;
    }
    return internal::FsError("removing " + path, err);
  }

  Status RemoveAll(const std::string& path) override { return RemoveAllRecursive(path); }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return internal::FsError("renaming " + from + " to " + to, errno);
    }
    return Status::Ok();
  }

  Status RenameNoReplace(const std::string& from, const std::string& to) override {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0)
      return Status::Ok();
    int err = errno;
    if (err == EINVAL || err == ENOSYS) {  // no RENAME_NOREPLACE here: link fails on EEXIST
      if (::link(from.c_str(), to.c_str()) == 0) {
        ::unlink(from.c_str());
        return Status::Ok();
      }
      err = errno;
    }
    if (err == EEXIST) return AlreadyExistsError("renaming " + from + ": " + to + " exists");
    return internal::FsError("renaming " + from + " to " + to, err);
  }

  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return internal::FsError("syncing directory " + dir, errno);
    Status s;
    if (::fsync(fd) != 0) s = internal::FsError("syncing directory " + dir, errno);
    ::close(fd);
    return s;
  }

  Status SyncFilesystem(const std::string& path) override {
    const std::string what = "syncing the filesystem of " + path;
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return internal::FsError(what, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return internal::FsError(what, err);
    }
    // syncfs() reports a writeback error only to descriptors opened before it happened (the
    // superblock's errseq is sampled at open): keep the first descriptor of each filesystem
    // open for the life of the process, so an error of background writeback between two calls
    // is reported too. One descriptor per filesystem, never closed (PosixFs is never destroyed).
    int sync_fd = fd;
    {
      MutexLock lock(&fd_mu_);
      auto [it, inserted] = fs_fds_.emplace(st.st_dev, fd);
      sync_fd = it->second;
      if (!inserted) ::close(fd);
    }
    if (::syncfs(sync_fd) != 0) return internal::FsError(what, errno);
    return Status::Ok();
  }

  Result<std::string> ReadFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return internal::FsError("reading " + path, errno);
    std::string data;
    struct stat st;
    if (::fstat(fd, &st) == 0 && st.st_size > 0) data.reserve(static_cast<size_t>(st.st_size));
    char buf[64 * 1024];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        return internal::FsError("reading " + path, err);
      }
      if (n == 0) break;
      data.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return data;
  }

  Result<std::unique_ptr<AppendableFile>> NewAppendableFile(const std::string& path) override {
    return Open(path, O_APPEND);
  }
  Result<std::unique_ptr<AppendableFile>> NewWritableFile(const std::string& path) override {
    return Open(path, O_APPEND | O_TRUNC);
  }

  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    const std::string what = "opening " + path + " for reading";
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below); it changes
    // nothing for a regular file.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      const int open_err = errno;
      Status s = internal::FsError(what, open_err);
      // A path component that is a file: nothing can be at this path, as with ENOENT.
      if (open_err == ENOTDIR) s = Status(StatusCode::kNotFound, std::string(s.message()));
      return s;
    }
    struct stat st;
    int err = 0;
    if (::fstat(fd, &st) != 0) {
      err = errno;
    } else if (S_ISDIR(st.st_mode)) {
      err = EISDIR;
    } else if (!S_ISREG(st.st_mode)) {
      err = EINVAL;
    }
    if (err != 0) {
      ::close(fd);
      return internal::FsError(err == EINVAL ? what + ": not a regular file" : what, err);
    }
    return std::unique_ptr<RandomAccessFile>(
        new PosixRandomAccessFile(path, fd, static_cast<uint64_t>(st.st_size)));
  }

  Result<uint64_t> FreeBytes(const std::string& path) override {
    struct statvfs vfs;
    if (::statvfs(path.c_str(), &vfs) != 0) {
      return internal::FsError("getting free space of " + path, errno);
    }
    return static_cast<uint64_t>(vfs.f_bavail) * static_cast<uint64_t>(vfs.f_frsize);
  }

  Result<uint64_t> TotalBytes(const std::string& path) override {
    struct statvfs vfs;
    if (::statvfs(path.c_str(), &vfs) != 0) {
      return internal::FsError("getting the size of " + path, errno);
    }
    return static_cast<uint64_t>(vfs.f_blocks) * static_cast<uint64_t>(vfs.f_frsize);
  }

 private:
  static Result<std::unique_ptr<AppendableFile>> Open(const std::string& path, int flags) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
    if (fd < 0) return internal::FsError("opening " + path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return internal::FsError("opening " + path, err);
    }
    return std::unique_ptr<AppendableFile>(
        new PosixAppendableFile(path, fd, static_cast<uint64_t>(st.st_size)));
  }

  Mutex fd_mu_;
  std::map<dev_t, int> fs_fds_ GUARDED_BY(fd_mu_);  // st_dev → descriptor for syncfs()
};

}  // namespace

std::string_view FsOpName(FsOp op) {
  switch (op) {
    case FsOp::kAny:
      return "any";
    case FsOp::kCreateDirs:
      return "create_dirs";
    case FsOp::kListDir:
      return "list_dir";
    case FsOp::kFileSize:
      return "file_size";
    case FsOp::kRemove:
      return "remove";
    case FsOp::kRemoveAll:
      return "remove_all";
    case FsOp::kRename:
      return "rename";
    case FsOp::kSyncDir:
      return "sync_dir";
    case FsOp::kReadFile:
      return "read_file";
    case FsOp::kOpen:
      return "open";
    case FsOp::kAppend:
      return "append";
    case FsOp::kFlush:
      return "flush";
    case FsOp::kSync:
      return "sync";
    case FsOp::kClose:
      return "close";
    case FsOp::kFreeBytes:
      return "free_bytes";
    case FsOp::kSyncFilesystem:
      return "sync_filesystem";
    case FsOp::kOpenRandomAccess:
      return "open_random_access";
    case FsOp::kRead:
      return "read";
    case FsOp::kFileMode:
      return "file_mode";
  }
  return "unknown";
}

Fs* DefaultFs() {
  static PosixFs* const fs = new PosixFs();  // never destroyed: usable at exit
  return fs;
}

std::string DirName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string BaseName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

Status WriteFileDurably(Fs& fs, const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  Status s = [&]() -> Status {
    CV_ASSIGN_OR_RETURN(std::unique_ptr<AppendableFile> file, fs.NewWritableFile(tmp));
    CV_RETURN_IF_ERROR(file->Append(data));
    CV_RETURN_IF_ERROR(file->Sync());
    CV_RETURN_IF_ERROR(file->Close());
    return fs.Rename(tmp, path);
  }();
  if (!s.ok()) {
    fs.Remove(tmp).IgnoreError();  // best effort: a leftover is replaced by the next write
    return s.Annotate("writing " + path + " durably");
  }
  // The rename is done; if the directory sync fails the new content may still be lost in a crash,
  // and the caller must not report the hand-off as durable.
  return fs.SyncDir(DirName(path)).Annotate("writing " + path + " durably");
}

namespace internal {
Status FsError(std::string_view what, int err) {
  Status s = IoError(what, err);
  switch (err) {
    case ENOENT:
      return Status(StatusCode::kNotFound, std::string(s.message()));
    case ENOSPC:
    case EDQUOT:
      return Status(StatusCode::kResourceExhausted, std::string(s.message()));
    default:
      return s;
  }
}
}  // namespace internal

}  // namespace callvault
