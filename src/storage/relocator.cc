#include "storage/relocator.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include "base/log.h"
#include "crypto/sha256.h"
#include "recording/manifest_reader.h"
#include "storage/s3/errors.h"

namespace callvault::storage {
namespace {

constexpr size_t kHashChunk = 1 << 20;

// SHA-256 of the whole local file, read in 1 MiB chunks (bounded memory).
Result<std::string> HashFile(const RandomAccessFile& file) {
  crypto::Sha256 sha;
  std::string buf(kHashChunk, '\0');
  for (uint64_t offset = 0; offset < file.size();) {
    CV_ASSIGN_OR_RETURN(size_t n, file.Read(offset, buf.size(), buf.data()));
    if (n == 0) break;
    sha.Update(std::string_view(buf.data(), n));
    offset += n;
  }
  return sha.HexDigest();
}

int64_t WallMs(const Clock* clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock->WallNow().time_since_epoch())
      .count();
}

// Whether a failure is about the target (back off and retry the whole batch later) rather than
// this one call.
bool TargetDown(const Status& s) {
  const std::string_view reason = s3::ErrorReason(s);
  return reason == "network" || reason == "auth" || reason == "server" ||
         s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kPermissionDenied ||
         s.code() == StatusCode::kDeadlineExceeded || s.code() == StatusCode::kUnauthenticated;
}

}  // namespace

Relocator::Relocator(RelocatorOptions options, outbox::Outbox* outbox, Fs* fs,
                     LocalRecordingStore* local, RelocationTarget* target,
                     catalog::Catalog* catalog, const Clock* clock, Registry* metrics)
    : options_(std::move(options)),
      outbox_(outbox),
      fs_(fs),
      local_(local),
      target_(target),
      catalog_(catalog),
      clock_(clock) {
  if (metrics != nullptr) {
    auto counter = [&](const char* name, const char* help) -> Counter* {
      Result<Counter*> c = metrics->AddCounter(name, help);
      return c.ok() ? *c : nullptr;
    };
    relocated_total_ = counter("callvault_storage_relocated_total",
                               "Recordings moved to the remote store (uploaded, verified, "
                               "catalogued, local audio removed).");
    bytes_total_ = counter("callvault_storage_upload_bytes_total",
                           "Audio bytes uploaded and verified by relocation.");
    verify_failures_total_ = counter(
        "callvault_storage_verify_failures_total",
        "Uploads whose stored copy did not match the manifest (nothing was removed locally).");
    Result<Family<Counter>> errors = metrics->AddCounterFamily(
        "callvault_storage_upload_errors_total", "Relocation failures, by reason.", {"reason"});
    if (errors.ok()) errors_ = *errors;
  }
  outbox::DrainerOptions d{.queue = options_.queue,
                           .consumer = "relocation",
                           .batch = std::max(1, options_.batch),
                           .poll = options_.poll,
                           .linger = std::chrono::milliseconds(0),
                           .max_backoff = options_.max_backoff,
                           .delay = options_.delay};
  drainer_ = std::make_unique<outbox::Drainer>(
      d, outbox, clock_, [this](std::vector<outbox::Delivery>& b) { return ApplyBatch(b); },
      metrics);
}

Relocator::~Relocator() { Stop(); }

void Relocator::Start() { drainer_->Start(); }
void Relocator::Stop() { drainer_->Stop(); }

void Relocator::CountError(std::string_view reason) {
  if (errors_) errors_->With({std::string(reason.empty() ? "other" : reason)})->Inc();
}

Status Relocator::ApplyBatch(std::vector<outbox::Delivery>& batch) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first_down;  // the first "target/catalog down" error of this round (logged once)
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < batch.size();) {
      Status s = RelocateOne(batch[i]);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first_down.ok()) first_down = s;
      }
    }
  };
  const size_t threads = std::min<size_t>(std::max(1, options_.workers), batch.size());
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  if (!first_down.ok()) {
    size_t waiting = 0;
    for (const outbox::Delivery& d : batch) waiting += d.outcome == outbox::Outcome::kRetry;
    CV_LOG_WARN("storage.upload_failed", "reason={} waiting={} error=\"{}\"",
                s3::ErrorReason(first_down).empty() ? "other" : s3::ErrorReason(first_down),
                waiting, first_down.ToString());
  }
  return first_down;
}

Status Relocator::RelocateOne(outbox::Delivery& d) {
  const std::string& id = d.entry.call_id;
  auto reject = [&](std::string reason) {
    d.outcome = outbox::Outcome::kRejected;
    d.reason = std::move(reason);
    return Status::Ok();
  };
  // 0. Replication to peers reads the local audio first.
  for (const std::string& q : options_.wait_for_queues) {
    if (outbox_->Contains(q, id)) {
      d.outcome = outbox::Outcome::kRetry;
      return UnavailableError("relocating call " + id + ": waiting for outbox queue " + q +
                              " (replication reads the local copy)");
    }
  }
  // 1. The manifest, and whether the call still exists.
  Result<std::string> text = fs_->ReadFile(local_->recordings_dir() + "/" + d.entry.manifest);
  if (!text.ok() && text.status().code() != StatusCode::kNotFound) {
    CountError("local");
    return text.status().Annotate("relocating call " + id + ": reading its manifest");
  }
  Result<bool> deleted = catalog_->IsDeleted(id);
  if (!deleted.ok()) {
    CountError("catalog");
    return deleted.status().Annotate("relocating call " + id);  // retried
  }
  if (*deleted) {
    d.outcome = outbox::Outcome::kDropped;
    d.reason = "the call was deleted";
    return Status::Ok();
  }
  if (!text.ok()) return reject("the manifest " + d.entry.manifest + " is gone");
  Result<recording::Manifest> m = recording::ParseManifest(*text);
  if (!m.ok()) return reject("the manifest cannot be read: " + m.status().ToString());
  if (m->call_id != id) return reject("the manifest names call " + m->call_id);
  if (m->audio.file.empty() || m->audio.sha256.empty()) {
    return reject("the manifest names no audio file or no SHA-256");
  }
  if (!m->audio.location.empty()) {  // received without its audio: it is in the shared bucket
    d.outcome = outbox::Outcome::kDone;
    d.reason = "the audio is at " + m->audio.location;
    return Status::Ok();
  }
  const RecordingRef ref{.call_id = id, .audio_file = m->audio.file, .sha256 = m->audio.sha256};

  // Already relocated (a crash after step 3): only the local removal may be left.
  Result<std::optional<catalog::RecordingLocation>> known = catalog_->GetLocation(id);
  if (!known.ok()) {
    CountError("catalog");
    return known.status().Annotate("relocating call " + id);
  }
  const bool recorded =
      *known && !(*known)->location.empty() && (*known)->stored_sha256 == m->audio.sha256;

  // 2. Upload and verify.
  Result<std::unique_ptr<RandomAccessFile>> file =
      fs_->NewRandomAccessFile(local_->recordings_dir() + "/" + m->audio.file);
  if (!file.ok()) {
    if (file.status().code() == StatusCode::kNotFound && recorded) {
      // Moved before a crash; the hand-off to the peers sharing the bucket may be all that is
      // left.
      if (Status s = HandOn(d, (*known)->location); !s.ok()) return s;
      d.outcome = outbox::Outcome::kDone;
      return Status::Ok();
    }
    if (file.status().code() == StatusCode::kNotFound) {
      return reject("the audio file " + m->audio.file + " is gone");
    }
    CountError("local");
    return file.status().Annotate("relocating call " + id);
  }
  std::string location;
  if (recorded) {
    location = (*known)->location;
  } else {
    if ((*file)->size() != static_cast<uint64_t>(m->audio.bytes)) {
      verify_failures_.fetch_add(1);
      if (verify_failures_total_ != nullptr) verify_failures_total_->Inc();
      CountError("verify");
      CV_LOG_ERROR("storage.verify_failed",
                   "call={} file=\"{}\" reason=\"the local file has {} bytes, its manifest says "
                   "{}\" action=set_aside",
                   id, m->audio.file, (*file)->size(), m->audio.bytes);
      return reject("verify: the local audio file no longer matches its manifest (size)");
    }
    Result<std::string> uploaded = target_->Upload(ref, **file, (*file)->size(), m->audio.sha256);
    if (!uploaded.ok()) {
      const std::string_view reason = s3::ErrorReason(uploaded.status());
      CountError(reason);
      if (reason == "verify") {
        verify_failures_.fetch_add(1);
        if (verify_failures_total_ != nullptr) verify_failures_total_->Inc();
        // Changed in transit, or the local file changed after its manifest? Hash it again.
        Result<std::string> local_hash = HashFile(**file);
        const bool local_changed = local_hash.ok() && *local_hash != m->audio.sha256;
        CV_LOG_ERROR("storage.verify_failed", "call={} file=\"{}\" cause={} action={} error=\"{}\"",
                     id, m->audio.file,
                     local_changed ? "local_file_changed" : "stored_copy_differs",
                     local_changed ? "set_aside" : "retry", uploaded.status().ToString());
        if (local_changed) {
          return reject("verify: the local audio file's SHA-256 is " + *local_hash +
                        ", its manifest says " + m->audio.sha256);
        }
        d.outcome = outbox::Outcome::kRetry;
        return uploaded.status();  // back off and try again
      }
      d.outcome = outbox::Outcome::kRetry;
      if (TargetDown(uploaded.status())) return uploaded.status();
      CV_LOG_WARN("storage.upload_failed", "call={} reason={} error=\"{}\"", id,
                  reason.empty() ? "other" : reason, uploaded.status().ToString());
      return uploaded.status();
    }
    location = *uploaded;
    if (bytes_total_ != nullptr) bytes_total_->Add((*file)->size());
  }

  // 3. The catalog points at the copy.
  if (!recorded) {
    const catalog::RecordingLocation loc{
        .call_id = id,
        .audio_file = m->audio.file,
        .location = location,
        .stored_bytes = static_cast<uint64_t>(m->audio.bytes),
        .stored_sha256 = m->audio.sha256,
        .key_id = m->audio.encryption ? m->audio.encryption->key_id : "",
        .relocated_ms = WallMs(clock_)};
    if (Status s = catalog_->RecordLocation(loc); !s.ok()) {
      CountError("catalog");
      d.outcome = outbox::Outcome::kRetry;
      return s.Annotate("relocating call " + id + ": recording its location");
    }
  }
  file->reset();  // closed before it is removed

  // 3b. The peers that share the bucket get the call without its audio.
  if (Status s = HandOn(d, location); !s.ok()) return s;

  // 4. The local audio goes; the manifest stays.
  if (Status s = local_->RemoveAudio(ref); !s.ok()) {
    if (s.code() == StatusCode::kFailedPrecondition) return reject(s.ToString());
    CountError("local");
    d.outcome = outbox::Outcome::kRetry;
    return s;
  }
  d.outcome = outbox::Outcome::kDone;
  relocated_.fetch_add(1);
  if (relocated_total_ != nullptr) relocated_total_->Inc();
  CV_LOG_INFO("storage.relocated", "call={} location=\"{}\" bytes={}", id, location,
              m->audio.bytes);
  return Status::Ok();
}

Status Relocator::HandOn(outbox::Delivery& d, const std::string& location) {
  outbox::Entry entry = d.entry;
  entry.location = location;
  for (const std::string& q : options_.then_queues) {
    if (Status s = outbox_->Put(q, entry); !s.ok()) {
      CountError("local");
      d.outcome = outbox::Outcome::kRetry;
      return s.Annotate("relocating call " + entry.call_id + ": handing it to " + q);
    }
  }
  return Status::Ok();
}

}  // namespace callvault::storage
