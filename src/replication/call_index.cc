#include "replication/call_index.h"

#include "base/log.h"
#include "outbox/entry.h"
#include "outbox/outbox.h"

namespace callvault::replication {

std::string CallIndex::PathOf(std::string_view call_id) const {
  return root_ + "/" + std::string(outbox::Outbox::BucketOf(call_id)) + "/" + std::string(call_id) +
         ".json";
}

Status CallIndex::Open() {
  CV_RETURN_IF_ERROR(fs_->CreateDirs(root_));
  return fs_->SyncDir(DirName(root_));
}

Status CallIndex::Put(std::string_view call_id, std::string_view note) {
  if (!outbox::IsValidCallId(call_id))
    return InvalidArgumentError("not a call id: \"" + std::string(call_id) + "\"");
  const std::string path = PathOf(call_id);
  const std::string bucket = DirName(path);
  if (!fs_->Exists(bucket)) {
    CV_RETURN_IF_ERROR(fs_->CreateDirs(bucket));
    CV_RETURN_IF_ERROR(fs_->SyncDir(root_));
  }
  return WriteFileDurably(*fs_, path, note);
}

Status CallIndex::PutLazy(std::string_view call_id, std::string_view note) {
  if (!outbox::IsValidCallId(call_id))
    return InvalidArgumentError("not a call id: \"" + std::string(call_id) + "\"");
  const std::string path = PathOf(call_id);
  CV_RETURN_IF_ERROR(fs_->CreateDirs(DirName(path)));
  CV_ASSIGN_OR_RETURN(std::unique_ptr<AppendableFile> f, fs_->NewWritableFile(path + ".tmp"));
  CV_RETURN_IF_ERROR(f->Append(note));
  CV_RETURN_IF_ERROR(f->Close());
  return fs_->Rename(path + ".tmp", path);
}

bool CallIndex::Contains(std::string_view call_id) const {
  return outbox::IsValidCallId(call_id) && fs_->Exists(PathOf(call_id));
}

std::optional<std::string> CallIndex::Get(std::string_view call_id) const {
  if (!outbox::IsValidCallId(call_id)) return std::nullopt;
  Result<std::string> text = fs_->ReadFile(PathOf(call_id));
  if (!text.ok()) {
    if (text.status().code() != StatusCode::kNotFound)
      CV_LOG_WARN("replication.index_unreadable", "call={} index=\"{}\" error=\"{}\"", call_id,
                  root_, text.status().ToString());
    return std::nullopt;
  }
  return std::move(text).value();
}

Status CallIndex::Remove(std::string_view call_id) {
  if (!outbox::IsValidCallId(call_id)) return Status::Ok();
  const std::string path = PathOf(call_id);
  Status s = fs_->Remove(path);
  if (s.code() == StatusCode::kNotFound) return Status::Ok();
  CV_RETURN_IF_ERROR(s);
  return fs_->SyncDir(DirName(path));
}

}  // namespace callvault::replication
