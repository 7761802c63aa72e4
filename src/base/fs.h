// Fs: the filesystem seam (STYLE.md §5). Everything that touches the disk — spool files,
// manifests, outboxes, recordings — goes through an `Fs&` so tests can inject I/O errors and
// simulate a crash that drops whatever was not synced (FaultInjectingFs, fault_injecting_fs.h).
// Model: leveldb util/env_posix.cc.
//
// Durable hand-off has one spelling: WriteFileDurably() (temp → fsync → rename → fsync dir).
// Appends that must survive a crash are followed by AppendableFile::Sync(); a newly created
// file's *name* survives only after SyncDir() of its directory. SyncFilesystem() does both for
// every file of a filesystem in one call (for many files with new bytes: one syncfs instead of
// one fdatasync each).
//
// Errors: a Status naming the operation and the path, with strerror and errno:
//   "appending to /data/spool/x/a.rtp: No space left on device (errno 28)".
// Codes: ENOENT → NotFound, ENOSPC/EDQUOT → ResourceExhausted (disk full), others → IoError.
//
// Who calls it: app/ creates DefaultFs() and passes it down; media/, recording/, storage/, ...
// Thread-safety: Fs implementations are thread-safe. An AppendableFile is used by one thread at a
// time (its owner); a RandomAccessFile is thread-safe (reads at an offset share no state).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace callvault {

// A file open for writing at its end. Data is buffered in user space until Flush(), Sync(),
// Close() or the buffer fills. Destroying an open file closes it and drops any error: call
// Close() where the error matters.
class AppendableFile {
 public:
  virtual ~AppendableFile() = default;

  [[nodiscard]] virtual Status Append(std::string_view data) = 0;
  // Hands buffered data to the kernel (survives a process crash, not a power loss).
  [[nodiscard]] virtual Status Flush() = 0;
  // Append(data) then Flush(), with the same outcome (size() included, on failure too); an
  // implementation may write `data` straight from the caller's memory instead of copying it
  // into its buffer first (for callers that keep their own buffer, e.g. the spool writer).
  [[nodiscard]] virtual Status AppendAndFlush(std::string_view data) {
    CV_RETURN_IF_ERROR(Append(data));
    return Flush();
  }
  // Flush() + fdatasync(): the data reaches the disk (survives a power loss).
  [[nodiscard]] virtual Status Sync() = 0;
  // Flush() and close. Further calls other than size()/path() fail.
  [[nodiscard]] virtual Status Close() = 0;

  // Bytes in the file as written through this object: the size it had when opened plus
  // everything appended (buffered or not).
  virtual uint64_t size() const = 0;
  virtual const std::string& path() const = 0;
};

// A regular file open for reading at any offset (pread), e.g. an audio file served in ranges.
// Thread-safe: Read() may be called from several threads at once (there is no file position).
// Destroying it closes the file.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;

  // Reads up to `n` bytes at `offset` into `buf` (which must hold `n` bytes) and returns how many
  // were read: `n`, or fewer only when the end of the file comes first (0 at or past the end).
  // Interrupted and short reads are retried. IoError naming the path on failure.
  virtual Result<size_t> Read(uint64_t offset, size_t n, char* buf) const = 0;
  // The size of the file when it was opened (a file that grows or shrinks later is read as it
  // is then: Read() returns what is there).
  virtual uint64_t size() const = 0;
  virtual const std::string& path() const = 0;
};

// Operation kinds, for fault injection and error messages. Persistent: append new values at the
// end, never renumber.
enum class FsOp : uint8_t {
  kAny = 0,
  kCreateDirs,
  kListDir,
  kFileSize,
  kRemove,
  kRemoveAll,
  kRename,
  kSyncDir,
  kReadFile,
  kOpen,  // NewAppendableFile, NewWritableFile
  kAppend,
  kFlush,
  kSync,
  kClose,
  kFreeBytes,
  kSyncFilesystem,
  kOpenRandomAccess,  // NewRandomAccessFile
  kRead,              // RandomAccessFile::Read
  kFileMode,          // Fs::FileMode
};
std::string_view FsOpName(FsOp op);

class Fs {
 public:
  virtual ~Fs() = default;

  // mkdir -p (mode 0755). OK if it already exists as a directory. Does not sync the parent.
  [[nodiscard]] virtual Status CreateDirs(const std::string& path) = 0;
  // Names in `dir` (no "." or ".."), sorted.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  // The permission bits (st_mode & 07777, following symlinks) of `path`, e.g. 0600, so a
  // caller can refuse a secret readable by group/other (crypto/'s master key file). NotFound if
  // missing. The default implementation says Unimplemented (for test doubles that do not need
  // it); DefaultFs() and FaultInjectingFs implement it.
  virtual Result<uint32_t> FileMode(const std::string& path) {
    return UnimplementedError("file mode of " + path + ": not supported by this Fs");
  }
  // Creates `path` with exactly the permission bits `mode` (e.g. 0600 for a secret), never over
  // an existing path or through a symlink (AlreadyExists: O_CREAT|O_EXCL), writes `data`, and
  // fsyncs the file and its directory. On a failed write the new file is removed again. The
  // default implementation says Unimplemented; DefaultFs() implements it.
  [[nodiscard]] virtual Status CreateFileExclusive(const std::string& path, std::string_view data,
                                                   uint32_t mode) {
    (void)data;
    (void)mode;
    return UnimplementedError("creating " + path + ": not supported by this Fs");
  }
  // False also when the path cannot be inspected (e.g. EACCES on a parent).
  virtual bool Exists(const std::string& path) = 0;
  // Removes a file or an empty directory. NotFound if missing.
  [[nodiscard]] virtual Status Remove(const std::string& path) = 0;
  // rm -rf (does not follow symlinks). OK if missing.
  [[nodiscard]] virtual Status RemoveAll(const std::string& path) = 0;
  // rename(2): atomically replaces `to`. REQUIRES: same filesystem.
  [[nodiscard]] virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // rename(2) that never replaces: AlreadyExists when `to` exists (atomically: renameat2
  // RENAME_NOREPLACE, or link + unlink where the filesystem lacks it). The default
  // implementation checks, then renames (not atomic; for test doubles).
  [[nodiscard]] virtual Status RenameNoReplace(const std::string& from, const std::string& to) {
    if (Exists(to)) return AlreadyExistsError("renaming " + from + ": " + to + " exists");
    return Rename(from, to);
  }
  // fsync() of a directory: makes creations, renames and removals in it durable.
  [[nodiscard]] virtual Status SyncDir(const std::string& dir) = 0;
  // syncfs(2) of the filesystem holding the directory `path`: every file's data written so far
  // (handed to the kernel) and every directory entry on that filesystem become durable, as if
  // each file had been Sync()ed and each directory SyncDir()ed. Also writes back whatever other
  // processes wrote there, so its duration depends on the whole filesystem's dirty data.
  // Errors: NotFound / IoError opening `path`; the writeback error (EIO, ENOSPC...) the kernel
  // reports for that filesystem since this process's first SyncFilesystem on it (Linux ≥ 5.8;
  // older kernels report none). The error does not say which file failed: callers that need to
  // know fall back to Sync() per file. DefaultFs() keeps one directory descriptor per filesystem
  // open for the life of the process (to see those errors).
  [[nodiscard]] virtual Status SyncFilesystem(const std::string& path) = 0;
  // The whole file.
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  // Opens `path` for appending, creating it (0644) if missing.
  virtual Result<std::unique_ptr<AppendableFile>> NewAppendableFile(const std::string& path) = 0;
  // Creates `path` (0644) or truncates it to zero, open for appending.
  virtual Result<std::unique_ptr<AppendableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens the regular file `path` for reading at any offset. NotFound when it does not exist
  // (ENOENT, or ENOTDIR: a path component is a file); IoError for a directory or another
  // non-regular file (a FIFO or device is refused without blocking) and other errors.
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;
  // Bytes available to an unprivileged user on the filesystem holding `path` (statvfs f_bavail).
  virtual Result<uint64_t> FreeBytes(const std::string& path) = 0;
  // The size of the filesystem holding `path` (statvfs f_blocks × f_frsize), for reports.
  // Unimplemented unless the Fs has real filesystems below it.
  virtual Result<uint64_t> TotalBytes(const std::string& path) {
    return UnimplementedError("total size of " + path + ": not known to this Fs");
  }
};

// The POSIX filesystem. Never null; lives for the whole process.
Fs* DefaultFs();

// Replaces `path` with `data` so that after a crash at any point `path` holds either its old
// content or `data`, never a mix: writes "<path>.tmp", fsyncs it, renames it over `path`, fsyncs
// the parent directory. On failure "<path>.tmp" is removed (best effort) and `path` is untouched.
// REQUIRES: one writer per path at a time (the temp name is fixed, so a crash leaves at most one
// stale "<path>.tmp", which the next write replaces).
[[nodiscard]] Status WriteFileDurably(Fs& fs, const std::string& path, std::string_view data);

// "/a/b/c" → "/a/b"; "c" → "."; "/c" → "/".
std::string DirName(std::string_view path);
// "/a/b/c" → "c"; "/a/b/" → "b"; "c" → "c"; "/" → "".
std::string BaseName(std::string_view path);

namespace internal {
// The Status for a failed `what` (e.g. "renaming /a to /b") with errno `err` (code mapping above).
Status FsError(std::string_view what, int err);
}  // namespace internal

}  // namespace callvault
