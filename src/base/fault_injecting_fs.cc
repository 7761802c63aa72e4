#include "base/fault_injecting_fs.h"

#include <algorithm>

namespace callvault {
namespace {

bool UnderPath(const std::string& path, const std::string& root) {
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                          path[root.size()] == '/');
}

// Replaces `path` with `data` through `fs` (used only to rebuild state after a crash).
Status Rewrite(Fs& fs, const std::string& path, std::string_view data) {
  CV_ASSIGN_OR_RETURN(std::unique_ptr<AppendableFile> file, fs.NewWritableFile(path));
  CV_RETURN_IF_ERROR(file->Append(data));
  CV_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

}  // namespace

// A file of a FaultInjectingFs: checks faults, passes data straight to the kernel, and reports
// successful syncs so the crash model knows what survives.
class FaultInjectingFs::File final : public AppendableFile {
 public:
  File(FaultInjectingFs* fs, std::unique_ptr<AppendableFile> base, std::shared_ptr<FileState> state,
       uint64_t generation)
      : fs_(fs), base_(std::move(base)), state_(std::move(state)), generation_(generation) {}

  Status Append(std::string_view data) override {
    CV_RETURN_IF_ERROR(CheckAlive());
    CV_RETURN_IF_ERROR(fs_->MaybeFail(FsOp::kAppend, path(), "appending to " + path()));
    CV_RETURN_IF_ERROR(base_->Append(data));
    return base_->Flush();  // nothing stays in a user-space buffer (see header)
  }
  Status Flush() override {
    CV_RETURN_IF_ERROR(CheckAlive());
    CV_RETURN_IF_ERROR(fs_->MaybeFail(FsOp::kFlush, path(), "flushing " + path()));
    return base_->Flush();
  }
  Status Sync() override {
    CV_RETURN_IF_ERROR(CheckAlive());
    CV_RETURN_IF_ERROR(fs_->MaybeFail(FsOp::kSync, path(), "syncing " + path()));
    CV_RETURN_IF_ERROR(base_->Sync());
    fs_->OnSynced(state_, base_->size());
    return Status::Ok();
  }
  Status Close() override {
    CV_RETURN_IF_ERROR(CheckAlive());
    CV_RETURN_IF_ERROR(fs_->MaybeFail(FsOp::kClose, path(), "closing " + path()));
    return base_->Close();
  }
  uint64_t size() const override { return base_->size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  Status CheckAlive() const {
    if (fs_->generation() != generation_) {
      return AbortedError(path() + " was open when the crash was simulated");
    }
    return Status::Ok();
  }

  FaultInjectingFs* const fs_;
  const std::unique_ptr<AppendableFile> base_;
  const std::shared_ptr<FileState> state_;
  const uint64_t generation_;
};

// A RandomAccessFile of a FaultInjectingFs: checks faults and whether a crash happened since it
// was opened, then reads from the base file.
class FaultInjectingFs::Reader final : public RandomAccessFile {
 public:
  Reader(FaultInjectingFs* fs, std::unique_ptr<RandomAccessFile> base, uint64_t generation)
      : fs_(fs), base_(std::move(base)), generation_(generation) {}

  Result<size_t> Read(uint64_t offset, size_t n, char* buf) const override {
    if (fs_->generation() != generation_) {
      return AbortedError(path() + " was open when the crash was simulated");
    }
    CV_RETURN_IF_ERROR(
        fs_->MaybeFail(FsOp::kRead, path(), "reading " + path() + " at " + std::to_string(offset)));
    return base_->Read(offset, n, buf);
  }
  uint64_t size() const override { return base_->size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  FaultInjectingFs* const fs_;
  const std::unique_ptr<RandomAccessFile> base_;
  const uint64_t generation_;
};

FaultInjectingFs::FaultInjectingFs(Fs* base) : base_(base) {}
FaultInjectingFs::~FaultInjectingFs() = default;

void FaultInjectingFs::InjectFault(FsOp op, std::string path_prefix, int error, int nth,
                                   bool repeat) {
  MutexLock lock(&mu_);
  faults_.push_back(Fault{op, std::move(path_prefix), error, nth, repeat});
}

void FaultInjectingFs::ClearFaults() {
  MutexLock lock(&mu_);
  faults_.clear();
}

int FaultInjectingFs::injected_failures() const {
  MutexLock lock(&mu_);
  return injected_failures_;
}

void FaultInjectingFs::set_removals_need_dir_sync(bool on) {
  MutexLock lock(&mu_);
  removals_need_dir_sync_ = on;
}

void FaultInjectingFs::SetFreeBytes(std::optional<uint64_t> bytes) {
  MutexLock lock(&mu_);
  free_bytes_ = bytes;
}

uint64_t FaultInjectingFs::generation() const {
  MutexLock lock(&mu_);
  return generation_;
}

void FaultInjectingFs::OnSynced(const std::shared_ptr<FileState>& state, uint64_t size) {
  MutexLock lock(&mu_);
  state->synced = size;
}

Status FaultInjectingFs::MaybeFail(FsOp op, const std::string& path, const std::string& what,
                                   const std::string& other_path) {
  MutexLock lock(&mu_);
  for (Fault& f : faults_) {
    if (f.spent || (f.op != FsOp::kAny && f.op != op)) continue;
    bool match = path.starts_with(f.path_prefix) ||
                 (!other_path.empty() && other_path.starts_with(f.path_prefix));
    if (!match || ++f.seen < f.nth) continue;
    if (!f.repeat) f.spent = true;
    ++injected_failures_;
    return internal::FsError(what, f.error);
  }
  return Status::Ok();
}

Status FaultInjectingFs::CreateDirs(const std::string& path) {
  CV_RETURN_IF_ERROR(MaybeFail(FsOp::kCreateDirs, path, "creating directory " + path));
  return base_->CreateDirs(path);
}

Result<std::vector<std::string>> FaultInjectingFs::ListDir(const std::string& dir) {
  CV_RETURN_IF_ERROR(MaybeFail(FsOp::kListDir, dir, "listing " + dir));
  return base_->ListDir(dir);
}

Result<uint64_t> FaultInjectingFs::FileSize(const std::string& path) {
  CV_RETURN_IF_ERROR(MaybeFail(FsOp::kFileSize, path, "getting size of " + path));
  return base_->FileSize(path);
}

Result<uint32_t> FaultInjectingFs::FileMode(const std::string& path) {
  CV_RETURN_IF_ERROR(MaybeFail(FsOp::kFileMode, path, "getting mode of " + path));
  return base_->FileMode(path);
}

bool FaultInjectingFs::Exists(const std::string& path) { return base_->Exists(path); }

void FaultInjectingFs::ForgetLocked(const std::string& path, bool subtree) {
  auto gone = [&](const std::string& p) { return subtree ? UnderPath(p, path) : p == path; };
  std::erase_if(files_, [&](const auto& entry) { return gone(entry.first); });
  // A removal stays to be undone when the path is reused and removed again (unless a RemoveAll,
  // durable at once, took its directory).
  std::erase_if(pending_,
                [&](const PendingName& p) { return gone(p.path) && (subtree || !p.is_removal); });
}

Status FaultInjectingFs::Remove(const std::string& path) {
  CV_RETURN_IF_ERROR(MaybeFail(FsOp::kRemove, path, "removing " + path));
  MutexLock lock(&mu_);
  std::optional<PendingName> undo;
  if (removals_need_dir_sync_) {
    const bool created_unsynced = std::any_of(pending_.begin(), pending_.end(), [&](auto& p) {
      return !p.is_rename && !p.is_removal && p.path == path;
    });
    if (!created_unsynced) {  // else the crash takes the file anyway
      undo.emplace();
      undo->is_removal = true;
      undo->path = path;
      undo->unsynced_dirs = {DirName(path)};
      if (!base_->ListDir(path).ok()) {  // a file (an empty directory comes back empty)
        Result<std::string> content = DurableContentLocked(path);
        if (content.ok()) {
          undo->old_target = std::move(content).value();
        } else if (content.status().code() == StatusCode::kNotFound) {
          undo.reset();  // nothing to remove: base_->Remove fails below
        } else {
          return content.status();
        }
      }
    }
  }
  CV_RETURN_IF_ERROR(base_->Remove(path));
  ForgetLocked(path, /*subtree=*/false);
  if (undo) pending_.push_back(std::move(*undo));
  return Status::Ok();
}

Status FaultInjectingFs::RemoveAll(const std::string& path) {
  CV_RETURN_IF_ERROR(MaybeFail(FsOp::kRemoveAll, path, "removing " + path));
  MutexLock lock(&mu_);
  CV_RETURN_IF_ERROR(base_->RemoveAll(path));
  ForgetLocked(path, /*subtree=*/true);
  return Status::Ok();
}

Result<std::string> FaultInjectingFs::DurableContentLocked(const std::string& path) {
  CV_ASSIGN_OR_RETURN(std::string content, base_->ReadFile(path));
  auto it = files_.find(path);
  if (it != files_.end() && content.size() > it->second->synced) {
    content.resize(it->second->synced);
  }
  return content;
}

Status FaultInjectingFs::Rename(const std::string& from, const std::string& to) {
  CV_RETURN_IF_ERROR(
      MaybeFail(FsOp::kRename, from, "renaming " + from + " to " + to, /*other_path=*/to));
  MutexLock lock(&mu_);
  PendingName pending;
  pending.is_rename = true;
  pending.path = to;
  pending.from = from;
  if (base_->Exists(to)) {
    CV_ASSIGN_OR_RETURN(std::string old, DurableContentLocked(to));
    pending.old_target = std::move(old);
  }
  CV_RETURN_IF_ERROR(base_->Rename(from, to));
  files_.erase(to);
  if (auto node = files_.extract(from)) {
    node.key() = to;
    files_.insert(std::move(node));
  }
  pending.unsynced_dirs = {DirName(from), DirName(to)};
  pending_.push_back(std::move(pending));
  return Status::Ok();
}

Status FaultInjectingFs::SyncDir(const std::string& dir) {
  CV_RETURN_IF_ERROR(MaybeFail(FsOp::kSyncDir, dir, "syncing directory " + dir));
  MutexLock lock(&mu_);
  CV_RETURN_IF_ERROR(base_->SyncDir(dir));
  std::string normalized = dir;  // "a/" and "a" name the same directory
  while (normalized.size() > 1 && normalized.back() == '/') normalized.pop_back();
  for (PendingName& p : pending_) p.unsynced_dirs.erase(normalized);
  std::erase_if(pending_, [](const PendingName& p) { return p.unsynced_dirs.empty(); });
  return Status::Ok();
}

Status FaultInjectingFs::SyncFilesystem(const std::string& path) {
  CV_RETURN_IF_ERROR(MaybeFail(FsOp::kSyncFilesystem, path, "syncing the filesystem of " + path));
  MutexLock lock(&mu_);
  CV_RETURN_IF_ERROR(base_->SyncFilesystem(path));
  std::string root = path;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  auto under = [&root](const std::string& p) { return root == "/" || UnderPath(p, root); };
  // Data: every tracked file under `root`, at its size on disk now (appends are never buffered
  // here, so that is everything written through this Fs so far).
  for (const auto& [file, state] : files_) {
    if (!under(file)) continue;
    Result<uint64_t> size = base_->FileSize(file);
    if (size.ok()) state->synced = *size;  // missing: nothing to keep
  }
  // Names: every directory under `root` counts as synced.
  for (PendingName& p : pending_) {
    std::erase_if(p.unsynced_dirs, under);
  }
  std::erase_if(pending_, [](const PendingName& p) { return p.unsynced_dirs.empty(); });
  return Status::Ok();
}

Result<std::string> FaultInjectingFs::ReadFile(const std::string& path) {
  CV_RETURN_IF_ERROR(MaybeFail(FsOp::kReadFile, path, "reading " + path));
  return base_->ReadFile(path);
}

Result<std::unique_ptr<AppendableFile>> FaultInjectingFs::NewAppendableFile(
    const std::string& path) {
  return Open(path, /*truncate=*/false);
}

Result<std::unique_ptr<AppendableFile>> FaultInjectingFs::NewWritableFile(const std::string& path) {
  return Open(path, /*truncate=*/true);
}

Result<std::unique_ptr<AppendableFile>> FaultInjectingFs::Open(const std::string& path,
                                                               bool truncate) {
  CV_RETURN_IF_ERROR(MaybeFail(FsOp::kOpen, path, "opening " + path));
  MutexLock lock(&mu_);
  bool existed = base_->Exists(path);
  Result<std::unique_ptr<AppendableFile>> base_file =
      truncate ? base_->NewWritableFile(path) : base_->NewAppendableFile(path);
  if (!base_file.ok()) return base_file.status();
  std::shared_ptr<FileState>& state = files_[path];
  if (state == nullptr) {
    state = std::make_shared<FileState>();
    // A file that existed before we saw it is durable as it is.
    if (existed && !truncate) state->synced = (*base_file)->size();
  }
  if (truncate) state->synced = 0;
  if (!existed) {
    PendingName pending;
    pending.path = path;
    pending.unsynced_dirs = {DirName(path)};
    pending_.push_back(std::move(pending));
  }
  return std::unique_ptr<AppendableFile>(
      new File(this, std::move(base_file).value(), state, generation_));
}

Result<std::unique_ptr<RandomAccessFile>> FaultInjectingFs::NewRandomAccessFile(
    const std::string& path) {
  CV_RETURN_IF_ERROR(MaybeFail(FsOp::kOpenRandomAccess, path, "opening " + path + " for reading"));
  const uint64_t opened_in = generation();
  CV_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> base, base_->NewRandomAccessFile(path));
  return std::unique_ptr<RandomAccessFile>(new Reader(this, std::move(base), opened_in));
}

Result<uint64_t> FaultInjectingFs::FreeBytes(const std::string& path) {
  CV_RETURN_IF_ERROR(MaybeFail(FsOp::kFreeBytes, path, "getting free space of " + path));
  {
    MutexLock lock(&mu_);
    if (free_bytes_.has_value()) return *free_bytes_;
  }
  return base_->FreeBytes(path);
}

Status FaultInjectingFs::SimulateCrash() {
  MutexLock lock(&mu_);
  ++generation_;
  Status first;
  auto note = [&first](const Status& s) {
    if (first.ok() && !s.ok()) first = s;
  };
  // 1. Data: cut every written file back to what was synced.
  for (const auto& [path, state] : files_) {
    if (!base_->Exists(path)) continue;
    Result<std::string> content = base_->ReadFile(path);
    if (!content.ok()) {
      note(content.status());
      continue;
    }
    if (content->size() > state->synced) {
      note(Rewrite(*base_, path, std::string_view(*content).substr(0, state->synced)));
    }
  }
  // 2. Names: undo what no directory sync made durable, newest first.
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    if (it->is_removal) {
      if (!it->old_target.has_value()) {
        note(base_->CreateDirs(it->path));
      } else {
        note(Rewrite(*base_, it->path, *it->old_target));
      }
      continue;
    }
    if (!it->is_rename) {
      if (base_->Exists(it->path)) note(base_->Remove(it->path));
      continue;
    }
    if (base_->Exists(it->path)) note(base_->Rename(it->path, it->from));
    if (it->old_target.has_value()) note(Rewrite(*base_, it->path, *it->old_target));
  }
  pending_.clear();
  files_.clear();
  return first.Annotate("simulating a crash");
}

}  // namespace callvault
