#include "storage/tiered_recording_store.h"

namespace callvault::storage {

bool TieredRecordingStore::IsLocal(const std::string& location) {
  return location.empty() || location.starts_with("local:");
}

RecordingRef TieredRecordingStore::AsLocal(const RecordingRef& ref) {
  RecordingRef local = ref;
  local.location.clear();
  return local;
}

Result<std::unique_ptr<AudioReader>> TieredRecordingStore::OpenAudio(const RecordingRef& ref) {
  if (!IsLocal(ref.location)) {
    if (remote_ == nullptr) {
      return NotFoundError("recording of call " + ref.call_id + " is at " + ref.location +
                           ", and no remote store is configured");
    }
    return remote_->OpenAudio(ref);
  }
  Result<std::unique_ptr<AudioReader>> local = local_->OpenAudio(ref);
  if (local.ok() || local.status().code() != StatusCode::kNotFound || remote_ == nullptr) {
    return local;
  }
  // Moved after the catalog row was read: the remote store has it (or nobody does).
  Result<std::unique_ptr<AudioReader>> remote = remote_->OpenAudio(ref);
  if (remote.ok() || remote.status().code() != StatusCode::kNotFound) return remote;
  return local;
}

Status TieredRecordingStore::Delete(const RecordingRef& ref) {
  if (!IsLocal(ref.location)) {
    if (remote_ == nullptr) {
      // Retried (a purge stays pending) until the store is configured again.
      return UnavailableError("recording of call " + ref.call_id + " is at " + ref.location +
                              ", and no remote store is configured");
    }
    CV_RETURN_IF_ERROR(remote_->Delete(ref));
  }
  return local_->Delete(AsLocal(ref));
}

Result<std::string> TieredRecordingStore::Locate(const RecordingRef& ref) {
  if (!IsLocal(ref.location)) {
    if (remote_ == nullptr) return NotFoundError("no remote store for " + ref.location);
    return remote_->Locate(ref);
  }
  Result<std::string> local = local_->Locate(ref);
  if (local.ok() || local.status().code() != StatusCode::kNotFound || remote_ == nullptr) {
    return local;
  }
  Result<std::string> remote = remote_->Locate(ref);
  return remote.ok() ? remote : local;
}

Status TieredRecordingStore::Recover() {
  Status local = local_->Recover();
  Status remote = remote_ != nullptr ? remote_->Recover() : Status::Ok();
  return !local.ok() ? local : remote;
}

}  // namespace callvault::storage
