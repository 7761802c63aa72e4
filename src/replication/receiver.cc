#include "replication/receiver.h"

#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/time_format.h"
#include "crypto/sha256.h"
#include "outbox/entry.h"
#include "recording/claim.h"

namespace callvault::replication {
namespace {

constexpr size_t kHashChunk = 1 << 20;

// SHA-256 of a whole file, read in bounded chunks.
Result<std::string> HashFile(Fs& fs, const std::string& path, uint64_t* size) {
  CV_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, fs.NewRandomAccessFile(path));
  crypto::Sha256 sha;
  std::string buf(kHashChunk, '\0');
  uint64_t off = 0;
  for (;;) {
    CV_ASSIGN_OR_RETURN(size_t n, file->Read(off, buf.size(), buf.data()));
    if (n == 0) break;
    sha.Update(std::string_view(buf.data(), n));
    off += n;
  }
  *size = off;
  return sha.HexDigest();
}

// "2026/11/25/x_2.wav.cvenc" → {"2026/11/25/x_2", "wav.cvenc"}: the extension is everything
// after the first dot of the file name (a name without one gets "bin").
std::pair<std::string, std::string> SplitName(const std::string& rel) {
  const size_t slash = rel.rfind('/');
  const size_t dot = rel.find('.', slash == std::string::npos ? 0 : slash + 1);
  if (dot == std::string::npos || dot + 1 >= rel.size()) return {rel, "bin"};
  return {rel.substr(0, dot), rel.substr(dot + 1)};
}

// A relative path the manifest may name: no absolute path, no "..", no empty component.
bool IsSafeRelative(std::string_view rel) {
  if (rel.empty() || rel.front() == '/' || rel.back() == '/') return false;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t slash = rel.find('/', start);
    if (slash == std::string_view::npos) slash = rel.size();
    std::string_view part = rel.substr(start, slash - start);
    if (part.empty() || part == "." || part == ".." || part.front() == '.') return false;
    start = slash + 1;
  }
  return true;
}

}  // namespace

Receiver::Receiver(ReceiverOptions options, Fs* fs, outbox::Outbox* outbox, const Clock* clock,
                   Registry* metrics)
    : options_(std::move(options)),
      fs_(fs),
      outbox_(outbox),
      clock_(clock),
      received_(options_.state_dir + "/received", fs),
      tombstones_(options_.state_dir + "/tombstones", fs) {
  if (metrics) {
    auto counter = [&](std::string_view name, std::string_view help) -> Counter* {
      Result<Counter*> c = metrics->AddCounter(name, help);
      return c.ok() ? *c : nullptr;
    };
    stored_total_ =
        counter("callvault_replication_received_calls_total", "Calls committed here from a peer.");
    bytes_total_ =
        counter("callvault_replication_received_bytes_total", "Audio bytes received from peers.");
    mismatch_total_ = counter("callvault_replication_received_mismatches_total",
                              "Commits refused because the audio did not match the manifest.");
  }
}

Status Receiver::Open() {
  CV_RETURN_IF_ERROR(fs_->CreateDirs(options_.state_dir));
  CV_RETURN_IF_ERROR(received_.Open());
  CV_RETURN_IF_ERROR(tombstones_.Open());
  CV_RETURN_IF_ERROR(fs_->CreateDirs(IncomingDir()));
  return fs_->SyncDir(options_.recordings_dir);
}

std::string Receiver::PartPath(std::string_view call_id) const {
  return IncomingDir() + "/" + std::string(call_id) + ".part";
}
void Receiver::RememberHash(const std::string& id, uint64_t size, std::string sha) {
  MutexLock lock(&mu_);
  if (hashed_.size() >= 10000) hashed_.clear();  // bounded: a commit re-reads the part
  hashed_[id] = {size, std::move(sha)};
}

bool Receiver::TakeHash(const std::string& id, uint64_t* size, std::string* sha) {
  MutexLock lock(&mu_);
  auto it = hashed_.find(id);
  if (it == hashed_.end()) return false;
  *size = it->second.first;
  *sha = std::move(it->second.second);
  hashed_.erase(it);
  return true;
}

Receiver::CallLock::CallLock(Receiver* r, std::string call_id)
    : r_(r), call_id_(std::move(call_id)) {
  MutexLock lock(&r_->mu_);
  ok_ = r_->busy_.insert(call_id_).second;
}
Receiver::CallLock::~CallLock() {
  if (ok_) r_->Release(call_id_).IgnoreError();
}

Status Receiver::Release(const std::string& call_id) {
  MutexLock lock(&mu_);
  busy_.erase(call_id);
  return Status::Ok();
}

Result<CallStatus> Receiver::Lookup(std::string_view call_id, std::string_view origin,
                                    std::string_view audio_file) {
  if (!outbox::IsValidCallId(call_id))
    return InvalidArgumentError("not a call id: \"" + std::string(call_id) + "\"");
  if (tombstones_.Contains(call_id)) return CallStatus{Presence::kDeleted, 0};
  if (received_.Contains(call_id)) return CallStatus{Presence::kHave, 0};
  // The manifest where the origin has it: recorded here (a node restored from nothing), or
  // received with no `received` note — the note is written last, so the commit may have stopped
  // before its outbox entries: "partial" with every byte held makes the sender commit again,
  // which finds the manifest and puts the entries (idempotent) and the note.
  if (!audio_file.empty() && IsSafeRelative(audio_file)) {
    Result<std::string> text =
        fs_->ReadFile(options_.recordings_dir + "/" + std::string(audio_file) + ".json");
    Result<recording::Manifest> m = text.ok() ? recording::ParseManifest(*text)
                                              : Result<recording::Manifest>(text.status());
    if (m.ok() && m->call_id == call_id) {
      if (m->node_id == options_.node_id) return CallStatus{Presence::kHave, 0};
      return CallStatus{Presence::kPartial, static_cast<uint64_t>(m->audio.bytes)};
    }
  }
  if (origin == options_.node_id && audio_file.empty()) return CallStatus{Presence::kHave, 0};
  Result<uint64_t> size = fs_->FileSize(PartPath(call_id));
  if (size.ok()) return CallStatus{Presence::kPartial, *size};
  return CallStatus{Presence::kAbsent, 0};
}

Receiver::Upload::~Upload() {
  if (!finished_) {
    Status s = Finish();
    if (!s.ok())
      CV_LOG_WARN("replication.part_sync_failed", "call={} error=\"{}\"", call_id_, s.ToString());
  }
  receiver_->Release(call_id_).IgnoreError();
}

Status Receiver::Upload::Append(std::string_view bytes) {
  CV_RETURN_IF_ERROR(file_->Append(bytes));
  if (sha_) sha_->Update(bytes);
  if (receiver_->bytes_total_) receiver_->bytes_total_->Add(bytes.size());
  return Status::Ok();
}

Status Receiver::Upload::Finish() {
  finished_ = true;
  CV_RETURN_IF_ERROR(file_->Sync());
  const uint64_t size = file_->size();
  CV_RETURN_IF_ERROR(file_->Close());
  if (sha_) receiver_->RememberHash(call_id_, size, sha_->HexDigest());
  return Status::Ok();
}

Result<std::unique_ptr<Receiver::Upload>> Receiver::BeginUpload(std::string_view call_id,
                                                                uint64_t offset, uint64_t total) {
  if (!outbox::IsValidCallId(call_id))
    return InvalidArgumentError("not a call id: \"" + std::string(call_id) + "\"");
  if (offset > total)
    return InvalidArgumentError(fmt::format("offset {} is past the total {}", offset, total));
  const std::string id(call_id);
  {
    MutexLock lock(&mu_);
    if (!busy_.insert(id).second) return AbortedError("busy: call " + id + " is being received");
  }
  // From here the lock is released by the Upload, or by this guard on an early return.
  struct Guard {
    Receiver* r;
    const std::string& id;
    bool armed = true;
    ~Guard() {
      if (armed) r->Release(id).IgnoreError();
    }
  } guard{this, id};
  if (tombstones_.Contains(id)) return FailedPreconditionError("deleted");
  const std::string part = PartPath(id);
  Result<uint64_t> have = fs_->FileSize(part);
  const uint64_t held = have.ok() ? *have : 0;
  if (held != offset)
    return FailedPreconditionError(fmt::format("offset_mismatch: {} bytes held", held));
  if (Result<uint64_t> free = fs_->FreeBytes(options_.recordings_dir); free.ok()) {
    if (*free < (total - offset) + options_.min_free_bytes)
      return ResourceExhaustedError(
          fmt::format("insufficient_storage: {} MiB free, {} MiB needed plus {} MiB kept free",
                      *free >> 20, (total - offset) >> 20, options_.min_free_bytes >> 20));
  }
  // The part's name needs no sync: a part lost in a power failure is sent again.
  CV_ASSIGN_OR_RETURN(std::unique_ptr<AppendableFile> file, fs_->NewAppendableFile(part));
  uint64_t unused_size = 0;
  std::string unused_sha;
  TakeHash(id, &unused_size, &unused_sha);  // appending invalidates a hash of the part so far
  guard.armed = false;
  return std::unique_ptr<Upload>(new Upload(this, id, std::move(file), offset == 0));
}

Status Receiver::DiscardPart(std::string_view call_id) {
  uint64_t unused_size = 0;
  std::string unused_sha;
  TakeHash(std::string(call_id), &unused_size, &unused_sha);
  Status s = fs_->Remove(PartPath(call_id));
  if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  return Status::Ok();  // unsynced: a part that comes back after a crash is checked again
}

Result<Receiver::Placed> Receiver::Place(const std::string& id, const recording::Manifest& m,
                                         bool have_part, bool remote) {
  auto [base, ext] = SplitName(m.audio.file);
  const std::string rel_dir = base.find('/') == std::string::npos ? "" : DirName(base);
  CV_RETURN_IF_ERROR(recording::CreateDirsDurably(*fs_, options_.recordings_dir, rel_dir));
  for (int k = 1; k <= 10000; ++k) {
    const std::string rel = base + (k == 1 ? "" : "_" + std::to_string(k)) + "." + ext;
    const std::string audio = options_.recordings_dir + "/" + rel;
    if (fs_->Exists(audio + ".json")) {
      if (recording::ManifestIsFor(*fs_, audio + ".json", id)) {
        if (have_part) CV_RETURN_IF_ERROR(DiscardPart(id));  // sent again: not needed
        return Placed{rel, true};
      }
      continue;  // another call's
    }
    if (fs_->Exists(audio)) {
      if (remote) continue;  // a file of this node's: the name is taken
      // Our own audio, renamed by a commit a crash interrupted before its manifest? (Else a
      // finalizer's claim, or audio being written: not ours.)
      Result<uint64_t> size = fs_->FileSize(audio);
      if (size.ok() && *size == static_cast<uint64_t>(m.audio.bytes)) {
        uint64_t n = 0;
        Result<std::string> sha = HashFile(*fs_, audio, &n);
        if (sha.ok() && *sha == m.audio.sha256) {
          if (have_part) CV_RETURN_IF_ERROR(DiscardPart(id));
          return Placed{rel, false};
        }
      }
      continue;
    }
    if (remote) return Placed{rel, false};
    if (!have_part) return DataLossError("size_mismatch: no audio received");
    Status s = fs_->RenameNoReplace(PartPath(id), audio);
    if (s.code() == StatusCode::kAlreadyExists) continue;  // taken meanwhile
    CV_RETURN_IF_ERROR(s);
    return Placed{rel, false};
  }
  return ResourceExhaustedError("10000 names taken for " + base);
}

Result<Receiver::CommitResult> Receiver::Commit(std::string_view call_id,
                                                std::string_view manifest_text,
                                                std::string_view sender,
                                                std::string_view location) {
  if (!outbox::IsValidCallId(call_id))
    return InvalidArgumentError("not a call id: \"" + std::string(call_id) + "\"");
  CallLock lock(this, std::string(call_id));
  if (!lock.ok()) return AbortedError("busy: call " + std::string(call_id) + " is being received");
  return CommitLocked(std::string(call_id), manifest_text, sender, location);
}

Result<Receiver::CommitResult> Receiver::CommitLocked(const std::string& id,
                                                      std::string_view manifest_text,
                                                      std::string_view sender,
                                                      std::string_view location) {
  if (tombstones_.Contains(id)) {
    CV_RETURN_IF_ERROR(DiscardPart(id));
    return CommitResult{Presence::kDeleted, ""};
  }
  if (std::optional<std::string> note = received_.Get(id)) {
    nlohmann::json j = nlohmann::json::parse(*note, nullptr, false);
    std::string file = j.is_object() ? j.value("audio_file", "") : "";
    return CommitResult{Presence::kHave, file};
  }
  Result<recording::Manifest> parsed = recording::ParseManifest(manifest_text);
  if (!parsed.ok()) return InvalidArgumentError("manifest: " + parsed.status().ToString());
  recording::Manifest& m = *parsed;
  if (m.call_id != id) return InvalidArgumentError("the manifest is for call " + m.call_id);
  if (!IsSafeRelative(m.audio.file))
    return InvalidArgumentError("manifest: audio.file \"" + m.audio.file + "\" is not a safe path");
  if (m.node_id == options_.node_id &&
      recording::ManifestIsFor(*fs_, options_.recordings_dir + "/" + m.audio.file + ".json", id))
    return CommitResult{Presence::kHave, m.audio.file};  // recorded here, still here

  const bool remote = !location.empty();
  if (remote) {
    const std::string& mine = options_.shared_bucket;
    if (mine.empty() || !location.starts_with(mine) || location.size() == mine.size())
      return FailedPreconditionError(fmt::format(
          "not_shared_bucket: the audio is at {}, {}", location,
          mine.empty() ? "this node has no S3 store" : "this node's bucket is " + mine));
    CV_RETURN_IF_ERROR(DiscardPart(id));  // a transfer begun before the call was moved
  }

  // Step 2: the received bytes against the manifest.
  const std::string part = PartPath(id);
  const bool have_part = !remote && fs_->Exists(part);
  if (have_part) {
    uint64_t size = 0;
    std::string sha;
    const bool known = TakeHash(id, &size, &sha);
    Result<uint64_t> part_size = fs_->FileSize(part);
    if (!known || !part_size.ok() || *part_size != size) {
      CV_ASSIGN_OR_RETURN(sha, HashFile(*fs_, part, &size));
    }
    std::string problem;
    if (size != static_cast<uint64_t>(m.audio.bytes)) {
      problem = fmt::format("size_mismatch: {} bytes received, the manifest says {}", size,
                            m.audio.bytes);
    } else if (sha != m.audio.sha256) {
      problem =
          fmt::format("sha256_mismatch: received {}, the manifest says {}", sha, m.audio.sha256);
    }
    if (!problem.empty()) {
      if (mismatch_total_) mismatch_total_->Inc();
      CV_LOG_WARN("replication.audio_mismatch", "call={} from={} problem=\"{}\" action=resend", id,
                  sender, problem);
      CV_RETURN_IF_ERROR(DiscardPart(id));
      return DataLossError(problem);
    }
  }

  // Step 3: the name here; the part renamed there.
  CV_ASSIGN_OR_RETURN(const Placed placed, Place(id, m, have_part, remote));
  const std::string& rel = placed.rel;
  const std::string audio = options_.recordings_dir + "/" + rel;

  // Step 4: the manifest beside the audio; its directory sync makes both names durable.
  if (!placed.manifest_there) {
    std::string text(manifest_text);
    if (rel != m.audio.file || remote) {
      m.document["audio"]["file"] = rel;
      if (remote) m.document["audio"]["location"] = std::string(location);
      text = m.document.dump(2) + "\n";
    }
    CV_RETURN_IF_ERROR(WriteFileDurably(*fs_, audio + ".json", text));
  }

  // Step 5: hand-off to this node's consumers and relay peers.
  const outbox::Entry entry{.call_id = id,
                            .manifest = rel + ".json",
                            .state = std::string(CallStateName(m.state)),
                            .finalized = m.times.finalized};
  // The queues that read the audio here (relocation) come last: the relocator waits while a
  // peer queue holds the call, so the relay entries must exist before it can see the call.
  std::vector<std::string> queues, audio_queues;
  for (const std::string& q : options_.queues) {
    const bool reads_audio = std::find(options_.audio_queues.begin(), options_.audio_queues.end(),
                                       q) != options_.audio_queues.end();
    if (!reads_audio) {
      queues.push_back(q);
    } else if (!remote) {
      audio_queues.push_back(q);
    }
  }
  if (options_.relay_queues) {
    for (std::string& q : options_.relay_queues(m.node_id, sender)) queues.push_back(std::move(q));
  }
  for (std::string& q : audio_queues) queues.push_back(std::move(q));
  for (const std::string& q : queues) CV_RETURN_IF_ERROR(outbox_->Put(q, entry));

  // Step 6: received.
  nlohmann::json note = {{"audio_file", rel},
                         {"manifest", rel + ".json"},
                         {"origin", m.node_id},
                         {"from", sender},
                         {"received", FormatRfc3339Ms(clock_->WallNow())}};
  if (remote) note["location"] = std::string(location);
  CV_RETURN_IF_ERROR(received_.PutLazy(id, note.dump() + "\n"));
  if (stored_total_) stored_total_->Inc();
  CV_LOG_INFO("replication.call_received", "call={} origin={} from={} audio=\"{}\" bytes={}{}",
              id, m.node_id, sender, rel, m.audio.bytes,
              remote ? fmt::format(" location=\"{}\"", location) : "");
  return CommitResult{Presence::kHave, rel};
}

Status Receiver::ApplyTombstone(std::string_view call_id) {
  if (!outbox::IsValidCallId(call_id))
    return InvalidArgumentError("not a call id: \"" + std::string(call_id) + "\"");
  if (!tombstones_.Contains(call_id)) {
    const nlohmann::json note = {{"deleted", FormatRfc3339Ms(clock_->WallNow())}};
    CV_RETURN_IF_ERROR(tombstones_.Put(call_id, note.dump() + "\n"));
  }
  CallLock lock(this, std::string(call_id));
  if (!lock.ok()) return Status::Ok();  // the upload in flight ends on the tombstone's check
  return DiscardPart(call_id);
}

}  // namespace callvault::replication
