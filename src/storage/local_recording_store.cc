#include "storage/local_recording_store.h"

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "storage/internal/delete_journal.h"

namespace callvault::storage {
namespace {

using internal::DeleteIntent;

constexpr std::string_view kLocalPrefix = "local:";

bool IsLocal(const RecordingRef& ref) {
  return ref.location.empty() || ref.location.starts_with(kLocalPrefix);
}

// An already missing file is what a removal wants.
Status RemoveIfPresent(Fs& fs, const std::string& path) {
  Status s = fs.Remove(path);
  return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
}

std::string TrimSlashes(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

class LocalAudioReader final : public AudioReader {
 public:
  LocalAudioReader(std::unique_ptr<RandomAccessFile> file, std::string etag)
      : file_(std::move(file)), etag_(std::move(etag)) {}

  uint64_t size() const override { return file_->size(); }
  std::string etag() const override { return etag_; }
  Result<size_t> Read(uint64_t offset, size_t len, char* buf) override {
    return file_->Read(offset, len, buf);
  }

 private:
  const std::unique_ptr<RandomAccessFile> file_;
  const std::string etag_;
};

}  // namespace

LocalRecordingStore::LocalRecordingStore(Fs* fs, std::string recordings_dir)
    : fs_(fs),
      dir_(TrimSlashes(std::move(recordings_dir))),
      journal_dir_(dir_ + "/" + std::string(internal::kJournalDir)) {}

std::string LocalRecordingStore::IntentPath(const std::string& call_id) const {
  return journal_dir_ + "/" + call_id + std::string(internal::kIntentSuffix);
}

Result<std::unique_ptr<AudioReader>> LocalRecordingStore::OpenAudio(const RecordingRef& ref) {
  if (!IsLocal(ref)) {
    return NotFoundError("recording of call " + ref.call_id + " is at " + ref.location +
                         ", not in the local store");
  }
  CV_RETURN_IF_ERROR(CheckRelativePath(ref.audio_file));
  CV_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                      fs_->NewRandomAccessFile(AudioPath(ref.audio_file)));
  return std::unique_ptr<AudioReader>(
      new LocalAudioReader(std::move(file), QuotedEtag(ref.sha256)));
}

Result<std::string> LocalRecordingStore::Locate(const RecordingRef& ref) {
  if (!IsLocal(ref)) {
    return NotFoundError("recording of call " + ref.call_id + " is at " + ref.location +
                         ", not in the local store");
  }
  CV_RETURN_IF_ERROR(CheckRelativePath(ref.audio_file));
  if (!fs_->Exists(AudioPath(ref.audio_file))) {
    return NotFoundError("no audio file " + AudioPath(ref.audio_file));
  }
  return std::string(kLocalPrefix) + ref.audio_file;
}

Result<std::string> LocalRecordingStore::ManifestOwner(const std::string& path) {
  Result<std::string> text = fs_->ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return std::string();
    return text.status();
  }
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::string();
  auto it = j.find("call_id");
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Status LocalRecordingStore::EnsureJournalDir() {
  if (journal_dir_ready_) return Status::Ok();
  CV_RETURN_IF_ERROR(fs_->CreateDirs(journal_dir_));
  CV_RETURN_IF_ERROR(fs_->SyncDir(dir_));  // the name `.deleting` itself
  journal_dir_ready_ = true;
  return Status::Ok();
}

Status LocalRecordingStore::FinishDelete(const DeleteIntent& intent) {
  const std::string audio = AudioPath(intent.audio_file);
  const std::string manifest = audio + std::string(internal::kManifestSuffix);
  CV_ASSIGN_OR_RETURN(const std::string owner, ManifestOwner(manifest));
  if (!owner.empty() && owner != intent.call_id) {
    // The name was freed and taken by a later recording: this delete is done already.
    CV_LOG_WARN("storage.delete_skipped", "call={} audio=\"{}\" owner={} reason=\"{}\"",
                intent.call_id, intent.audio_file, owner,
                "the manifest there belongs to another call");
  } else {
    CV_RETURN_IF_ERROR(RemoveIfPresent(*fs_, manifest));
    CV_RETURN_IF_ERROR(RemoveIfPresent(*fs_, audio));
    Status synced = fs_->SyncDir(DirName(audio));
    if (synced.code() != StatusCode::kNotFound) CV_RETURN_IF_ERROR(synced);  // no dir: no files
  }
  CV_RETURN_IF_ERROR(RemoveIfPresent(*fs_, IntentPath(intent.call_id)));
  // Not strictly needed (an intent that comes back is finished again, changing nothing), but
  // it keeps a power loss from replaying deletes.
  return fs_->SyncDir(journal_dir_);
}

Status LocalRecordingStore::Delete(const RecordingRef& ref) {
  if (!IsLocal(ref)) {
    return FailedPreconditionError("recording of call " + ref.call_id + " is at " + ref.location +
                                   ", not in the local store");
  }
  CV_RETURN_IF_ERROR(internal::CheckCallId(ref.call_id));
  CV_RETURN_IF_ERROR(CheckRelativePath(ref.audio_file));
  const DeleteIntent intent{.call_id = ref.call_id, .audio_file = ref.audio_file};
  const std::string audio = AudioPath(ref.audio_file);
  const std::string manifest = audio + std::string(internal::kManifestSuffix);
  const std::string entry = IntentPath(ref.call_id);
  const std::string what = "deleting the recording of call " + ref.call_id;

  MutexLock lock(&mu_);
  bool pending = fs_->Exists(entry);
  if (pending) {  // an earlier attempt stopped part-way; if it was for another path, finish it
    CV_ASSIGN_OR_RETURN(const std::string text, fs_->ReadFile(entry));
    Result<DeleteIntent> earlier = internal::ParseDeleteIntent(text);
    if (earlier.ok() && earlier->audio_file != intent.audio_file) {
      CV_RETURN_IF_ERROR(FinishDelete(*earlier).Annotate(what));
      pending = false;
    }
  }
  if (!pending && !fs_->Exists(manifest) && !fs_->Exists(audio)) return Status::Ok();
  CV_ASSIGN_OR_RETURN(const std::string owner, ManifestOwner(manifest));
  if (!owner.empty() && owner != ref.call_id) {
    return FailedPreconditionError(what + ": the manifest " + manifest + " belongs to call " +
                                   owner);
  }
  if (!pending) {
    CV_RETURN_IF_ERROR(EnsureJournalDir().Annotate(what));
    CV_RETURN_IF_ERROR(
        WriteFileDurably(*fs_, entry, internal::EncodeDeleteIntent(intent)).Annotate(what));
  }
  return FinishDelete(intent).Annotate(what);
}

Status LocalRecordingStore::RemoveAudio(const RecordingRef& ref) {
  CV_RETURN_IF_ERROR(CheckRelativePath(ref.audio_file));
  const std::string audio = AudioPath(ref.audio_file);
  const std::string what = "removing the relocated audio of call " + ref.call_id;
  CV_ASSIGN_OR_RETURN(const std::string owner,
                      ManifestOwner(audio + std::string(internal::kManifestSuffix)));
  if (owner != ref.call_id) {
    return FailedPreconditionError(what + ": the manifest beside " + audio + " names " +
                                   (owner.empty() ? std::string("no call") : "call " + owner));
  }
  Status s = fs_->Remove(audio);
  if (s.code() == StatusCode::kNotFound) return Status::Ok();
  CV_RETURN_IF_ERROR(s.Annotate(what));
  return fs_->SyncDir(DirName(audio)).Annotate(what);
}

Status LocalRecordingStore::Recover() {
  MutexLock lock(&mu_);
  Result<std::vector<std::string>> names = fs_->ListDir(journal_dir_);
  if (!names.ok()) {
    if (names.status().code() == StatusCode::kNotFound) return Status::Ok();  // never deleted
    return names.status().Annotate("recovering deletes");
  }
  journal_dir_ready_ = true;
  Status first;
  auto note = [&first](const Status& s) {
    if (first.ok() && !s.ok()) first = s;
  };
  bool removed_temp = false;
  int finished = 0;
  for (const std::string& name : *names) {
    const std::string path = journal_dir_ + "/" + name;
    if (name.ends_with(".tmp")) {  // a crash while writing the intent: nothing was removed
      note(RemoveIfPresent(*fs_, path));
      removed_temp = true;
      continue;
    }
    if (!name.ends_with(internal::kIntentSuffix)) continue;  // not ours
    Result<std::string> text = fs_->ReadFile(path);
    Result<DeleteIntent> intent =
        text.ok() ? internal::ParseDeleteIntent(*text) : Result<DeleteIntent>(text.status());
    if (intent.ok() && name != intent->call_id + std::string(internal::kIntentSuffix)) {
      intent = DataLossError("delete journal entry: names call " + intent->call_id);
    }
    if (!intent.ok()) {
      CV_LOG_ERROR("storage.delete_journal_unreadable", "file=\"{}\" error=\"{}\"", path,
                   intent.status().message());
      note(intent.status().Annotate("recovering deletes: " + path));
      continue;
    }
    Status s = FinishDelete(*intent);
    if (s.ok()) {
      ++finished;
      CV_LOG_INFO("storage.delete_recovered", "call={} audio=\"{}\"", intent->call_id,
                  intent->audio_file);
    } else {
      CV_LOG_ERROR("storage.delete_recovery_failed", "call={} audio=\"{}\" error=\"{}\"",
                   intent->call_id, intent->audio_file, s.message());
      note(s.Annotate("recovering the delete of call " + intent->call_id));
    }
  }
  if (removed_temp) note(fs_->SyncDir(journal_dir_).Annotate("recovering deletes"));
  if (finished > 0 || !first.ok()) {
    CV_LOG_INFO("storage.recovered", "dir=\"{}\" deletes_finished={} ok={}", dir_, finished,
                first.ok());
  }
  return first;
}

}  // namespace callvault::storage
