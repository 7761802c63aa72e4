#include "media/session_log.h"

#include <algorithm>

#include "base/time_format.h"
#include "media/spool_format.h"

namespace callvault::media {

Result<std::shared_ptr<SessionLog>> SessionLog::Open(Fs* fs, const Clock* clock,
                                                     const std::string& call_dir,
                                                     GroupSync* group) {
  CV_RETURN_IF_ERROR(fs->CreateDirs(call_dir));
  const std::string path = call_dir + "/" + std::string(spool::kSessionLogName);
  bool torn = false;
  if (fs->Exists(path)) {
    CV_ASSIGN_OR_RETURN(std::string old, fs->ReadFile(path));
    torn = !old.empty() && old.back() != '\n';
  }
  CV_ASSIGN_OR_RETURN(std::unique_ptr<AppendableFile> file, fs->NewAppendableFile(path));
  if (torn) {
    CV_RETURN_IF_ERROR(file->Append("\n"));
    CV_RETURN_IF_ERROR(file->Flush());
  }
  return std::shared_ptr<SessionLog>(new SessionLog(fs, clock, call_dir, std::move(file), group));
}

SessionLog::SessionLog(Fs* fs, const Clock* clock, std::string dir,
                       std::unique_ptr<AppendableFile> f, GroupSync* group)
    : fs_(fs),
      clock_(clock),
      group_(group),
      dir_(std::move(dir)),
      path_(dir_ + "/" + std::string(spool::kSessionLogName)),
      file_(std::move(f)) {}

SessionLog::~SessionLog() = default;

Status SessionLog::Append(std::string_view type, const nlohmann::json& fields) {
  if (!fields.is_null() && !fields.is_object()) {
    return InvalidArgumentError("appending to " + path_ + ": fields must be a JSON object");
  }
  nlohmann::json line = nlohmann::json::object();
  line["v"] = 1;
  line["t"] = type;
  // The caller's time when it gives one (a passive copy's capture time), else now.
  const auto at = fields.is_object() ? fields.find("at") : fields.end();
  line["at"] = at != fields.end() && at->is_string() ? at->get<std::string>()
                                                     : FormatRfc3339Ms(clock_->WallNow());
  if (fields.is_object()) {
    for (const auto& [k, v] : fields.items()) {
      if (k != "v" && k != "t" && k != "at") line[k] = v;
    }
  }
  // Invalid UTF-8 in a SIP header must not make the event unwritable: replace it.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  MutexLock lock(&mu_);
  if (file_ == nullptr) return FailedPreconditionError("appending to closed " + path_);
  unwritten_ += text;
  return WriteUnwrittenLocked();
}

Status SessionLog::WriteUnwrittenLocked() {
  if (unwritten_.empty()) return Status::Ok();
  const uint64_t before = file_->size();
  Status s = file_->AppendAndFlush(unwritten_);
  if (s.ok()) {
    unwritten_.clear();
    return s;
  }
  // Keep what the kernel did not take: the next attempt completes the line (never torn).
  const uint64_t after = file_->size();
  const size_t landed =
      after > before ? static_cast<size_t>(std::min<uint64_t>(after - before, unwritten_.size()))
                     : 0;
  unwritten_.erase(0, landed);
  return s.Annotate("appending to " + path_ + " (" + std::to_string(unwritten_.size()) +
                    " bytes kept for a retry)");
}

Status SessionLog::WriteUnwritten() {
  MutexLock lock(&mu_);
  if (file_ == nullptr) return FailedPreconditionError("writing to closed " + path_);
  return WriteUnwrittenLocked();
}

bool SessionLog::has_unwritten() const {
  MutexLock lock(&mu_);
  return !unwritten_.empty();
}

Status SessionLog::Sync() {
  CV_RETURN_IF_ERROR(WriteUnwritten());  // the lines a full disk refused come first
  if (group_ == nullptr) {
    MutexLock lock(&mu_);
    if (file_ == nullptr) return FailedPreconditionError("syncing closed " + path_);
    CV_RETURN_IF_ERROR(file_->Sync());
    if (!dirs_synced_) {
      CV_RETURN_IF_ERROR(fs_->SyncDir(dir_));
      CV_RETURN_IF_ERROR(fs_->SyncDir(DirName(dir_)));
      dirs_synced_ = true;
    }
    return Status::Ok();
  }
  return group_->Sync(MakeRequest(nullptr));
}

void SessionLog::SyncAsync(std::function<void(Status)> done) {
  if (Status s = WriteUnwritten(); !s.ok()) {
    done(std::move(s));
    return;
  }
  if (group_ == nullptr) {
    done(Sync());
    return;
  }
  group_->Submit(MakeRequest(std::move(done)));
}

Status SessionLog::SyncFile() {
  MutexLock lock(&mu_);
  if (file_ == nullptr) return FailedPreconditionError("syncing closed " + path_);
  return file_->Sync();
}

GroupSync::Request SessionLog::MakeRequest(std::function<void(Status)> done) {
  std::shared_ptr<SessionLog> self = shared_from_this();  // alive until the round is done
  GroupSync::Request r;
  r.root = DirName(dir_);
  r.sync = [self] { return self->SyncFile(); };
  {
    MutexLock lock(&mu_);
    if (!dirs_synced_) r.dirs = {dir_, r.root};  // the names of the file and of its directory
  }
  r.done = [self, done = std::move(done)](Status s) {
    if (s.ok()) {
      MutexLock lock(&self->mu_);
      self->dirs_synced_ = true;
    }
    if (done) done(std::move(s));
  };
  return r;
}

Status SessionLog::Close() {
  MutexLock lock(&mu_);
  if (file_ == nullptr) return Status::Ok();
  Status s = file_->Close();
  file_.reset();
  return s;
}

Result<std::vector<nlohmann::json>> ReadSessionLog(Fs& fs, const std::string& path,
                                                   int* bad_lines) {
  CV_ASSIGN_OR_RETURN(std::string data, fs.ReadFile(path));
  std::vector<nlohmann::json> out;
  int bad = 0;
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t nl = data.find('\n', pos);
    if (nl == std::string::npos) break;  // torn last line
    std::string_view line(data.data() + pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) {
      out.push_back(std::move(j));
    } else {
      ++bad;
    }
  }
  if (bad_lines != nullptr) *bad_lines = bad;
  return out;
}

}  // namespace callvault::media
