// FaultInjectingFs: an Fs for tests that wraps another Fs (normally DefaultFs() on a temp dir)
// and (a) fails chosen operations with a chosen errno, (b) simulates a power loss.
// Model: leveldb db/fault_injection_test.cc.
//
// Crash model (SimulateCrash):
//   - every file written through this Fs is cut back to the size it had at its last successful
//     Sync() (0 if never synced, or if it was opened with NewWritableFile and not synced since);
//   - names not made durable by SyncDir() of their directory are undone, newest first: a file
//     created since is deleted; a rename is reverted (the file goes back to its old name and the
//     overwritten target, if any, gets back its durable content). A rename across directories
//     needs both directories synced;
//   - SyncFilesystem(root) counts as a Sync() of every tracked file under `root` (its path is
//     `root` or starts with `root` + "/": the files this Fs wrote there; other files on the same
//     real filesystem are not modelled) at its size on disk at that moment, and as a SyncDir()
//     of every directory under `root` (names created or renamed there become durable);
//   - removals (Remove, RemoveAll) and CreateDirs are treated as durable at once, unless
//     set_removals_need_dir_sync(true): then a Remove() not made durable by SyncDir() of its
//     directory is undone too (the file comes back with its durable content, an empty directory
//     comes back empty; a file whose own creation was not durable stays gone). RemoveAll stays
//     durable at once. Files that were never opened for writing through this Fs are treated as
//     fully durable;
//   - files open at the crash are dead: every later call on them returns Aborted (readers too:
//     the process that held them is gone).
// Reads (ReadFile, NewRandomAccessFile) are not part of the model: they return what is on disk
// now, synced or not, as a real filesystem serves its page cache; after SimulateCrash() that is
// what the crash left.
// Appends are handed to the kernel at once (no user-space buffer), so destroying a dead file
// writes nothing.
//
// Who calls it: unit tests of every module that writes to disk.
// Thread-safety: thread-safe, except SimulateCrash(), which REQUIRES that no other call into this
// Fs or its files is in progress.
#pragma once

#include <cerrno>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/mutex.h"

namespace callvault {

class FaultInjectingFs final : public Fs {
 public:
  // REQUIRES: `base` outlives this object.
  explicit FaultInjectingFs(Fs* base);
  ~FaultInjectingFs() override;

  // Makes the `nth` matching operation from now on (1 = the next) fail with errno `error` (EIO,
  // ENOSPC, EDQUOT, EACCES, ...), and with `repeat` every matching operation after it too.
  // An operation matches when its kind is `op` (kAny: every kind) and its path starts with
  // `path_prefix` ("" = any path; for Rename, either path). The failing operation does nothing
  // and returns the Status DefaultFs() would for that errno, e.g. ResourceExhausted
  // "appending to /t/a.rtp: No space left on device (errno 28)".
  void InjectFault(FsOp op, std::string path_prefix, int error, int nth = 1, bool repeat = false)
      EXCLUDES(mu_);
  void ClearFaults() EXCLUDES(mu_);
  // How many operations failed by injection so far.
  int injected_failures() const EXCLUDES(mu_);

  // Whether a crash undoes Remove()s whose directory was not synced since (see the crash model).
  // Default: false (removals are durable at once).
  void set_removals_need_dir_sync(bool on) EXCLUDES(mu_);

  // Makes FreeBytes() return `bytes` (nullopt: ask the base Fs again).
  void SetFreeBytes(std::optional<uint64_t> bytes) EXCLUDES(mu_);

  // Applies the crash model above to the files on disk and forgets all tracking (what is left
  // is what a reboot would find). Returns the first error from the base Fs while doing so.
  [[nodiscard]] Status SimulateCrash() EXCLUDES(mu_);

  Status CreateDirs(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  Result<uint32_t> FileMode(const std::string& path) override;
  bool Exists(const std::string& path) override;
  Status Remove(const std::string& path) override;
  Status RemoveAll(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;
  Status SyncFilesystem(const std::string& path) override;
  Result<std::string> ReadFile(const std::string& path) override;
  Result<std::unique_ptr<AppendableFile>> NewAppendableFile(const std::string& path) override;
  Result<std::unique_ptr<AppendableFile>> NewWritableFile(const std::string& path) override;
  // Faults: kOpenRandomAccess when opening, kRead on each RandomAccessFile::Read.
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  Result<uint64_t> FreeBytes(const std::string& path) override;
  Result<uint64_t> TotalBytes(const std::string& path) override {
    return base_->TotalBytes(path);
  }

 private:
  class File;
  class Reader;
  struct FileState {
    uint64_t synced = 0;  // bytes that survive a crash; guarded by the FaultInjectingFs's mu_
  };
  struct PendingName {  // a name change not yet made durable by SyncDir
    bool is_rename = false;
    bool is_removal = false;  // set_removals_need_dir_sync(true) only
    std::string path;         // created file, rename target, or removed path
    std::string from;         // rename source
    // Durable content `path` had before the rename or removal (nullopt for a removed directory).
    std::optional<std::string> old_target;
    std::set<std::string> unsynced_dirs;
  };

  // Returns the injected error for (op, path) if a fault fires, else OK.
  Status MaybeFail(FsOp op, const std::string& path, const std::string& what,
                   const std::string& other_path = "") EXCLUDES(mu_);
  Result<std::unique_ptr<AppendableFile>> Open(const std::string& path, bool truncate)
      EXCLUDES(mu_);
  // Durable content of `path` as of now (for restoring a rename's overwritten target).
  Result<std::string> DurableContentLocked(const std::string& path) REQUIRES(mu_);
  void ForgetLocked(const std::string& path, bool subtree) REQUIRES(mu_);
  uint64_t generation() const EXCLUDES(mu_);
  void OnSynced(const std::shared_ptr<FileState>& state, uint64_t size) EXCLUDES(mu_);

  Fs* const base_;
  mutable Mutex mu_;
  struct Fault {
    FsOp op;
    std::string path_prefix;
    int error;
    int nth;
    bool repeat;
    int seen = 0;
    bool spent = false;
  };
  std::vector<Fault> faults_ GUARDED_BY(mu_);
  int injected_failures_ GUARDED_BY(mu_) = 0;
  std::optional<uint64_t> free_bytes_ GUARDED_BY(mu_);
  bool removals_need_dir_sync_ GUARDED_BY(mu_) = false;
  std::map<std::string, std::shared_ptr<FileState>> files_ GUARDED_BY(mu_);
  std::vector<PendingName> pending_ GUARDED_BY(mu_);  // oldest first
  uint64_t generation_ GUARDED_BY(mu_) = 0;           // ++ per crash
};

}  // namespace callvault
