#include "storage/s3_recording_store.h"

#include "base/log.h"
#include "crypto/sha256.h"
#include "storage/s3/errors.h"
#include "storage/s3/url.h"

namespace callvault::storage {
namespace {

constexpr size_t kReadBackChunk = 1 << 20;

bool IsNetwork(const Status& s) { return s3::ErrorReason(s) == s3::kReasonNetwork; }

class S3AudioReader final : public AudioReader {
 public:
  S3AudioReader(s3::Client* client, std::string key, uint64_t size, std::string etag)
      : client_(client), key_(std::move(key)), size_(size), etag_(std::move(etag)) {}

  uint64_t size() const override { return size_; }
  std::string etag() const override { return etag_; }
  Result<size_t> Read(uint64_t offset, size_t len, char* buf) override {
    if (offset >= size_ || len == 0) return size_t{0};
    const auto n = static_cast<size_t>(std::min<uint64_t>(len, size_ - offset));
    Result<size_t> got = client_->GetObjectRange(key_, offset, n, buf);
    if (!got.ok() && IsNetwork(got.status())) got = client_->GetObjectRange(key_, offset, n, buf);
    // The object shrank or went away since OpenAudio(): read as the end of the file.
    if (!got.ok() && got.status().code() == StatusCode::kOutOfRange) return size_t{0};
    return got;
  }

 private:
  s3::Client* const client_;
  const std::string key_;
  const uint64_t size_;
  const std::string etag_;
};

}  // namespace

Result<UploadVerify> ParseUploadVerify(std::string_view name) {
  if (name == "size_and_hash") return UploadVerify::kSizeAndHash;
  if (name == "read_back") return UploadVerify::kReadBack;
  return InvalidArgumentError("upload verify \"" + std::string(name) +
                              "\" is not size_and_hash or read_back");
}

S3RecordingStore::S3RecordingStore(s3::Client* client)
    : client_(client), location_prefix_(s3::S3Url(client->options().bucket, "")) {}

Result<std::string> S3RecordingStore::KeyOf(const RecordingRef& ref) const {
  if (ref.location.starts_with(location_prefix_) && ref.location.size() > location_prefix_.size()) {
    return ref.location.substr(location_prefix_.size());
  }
  if (!ref.location.empty()) {
    return NotFoundError("recording of call " + ref.call_id + " is at " + ref.location +
                         ", not in " + location_prefix_);
  }
  CV_RETURN_IF_ERROR(CheckRelativePath(ref.audio_file));
  return client_->options().prefix + ref.audio_file;
}

Result<std::unique_ptr<AudioReader>> S3RecordingStore::OpenAudio(const RecordingRef& ref) {
  CV_ASSIGN_OR_RETURN(std::string key, KeyOf(ref));
  Result<s3::ObjectInfo> info = client_->HeadObject(key);
  if (!info.ok() && IsNetwork(info.status())) info = client_->HeadObject(key);
  if (!info.ok()) return info.status();
  return std::unique_ptr<AudioReader>(
      new S3AudioReader(client_, std::move(key), info->size, QuotedEtag(ref.sha256)));
}

Status S3RecordingStore::Delete(const RecordingRef& ref) {
  Result<std::string> key = KeyOf(ref);
  if (!key.ok() && key.status().code() == StatusCode::kNotFound) {
    return FailedPreconditionError(std::string(key.status().message()));
  }
  CV_RETURN_IF_ERROR(key.status());
  return client_->DeleteObject(*key);
}

Result<std::string> S3RecordingStore::Locate(const RecordingRef& ref) {
  CV_ASSIGN_OR_RETURN(std::string key, KeyOf(ref));
  CV_RETURN_IF_ERROR(client_->HeadObject(key).status());
  return location_prefix_ + key;
}

Result<std::string> S3RecordingStore::Upload(const RecordingRef& ref, const RandomAccessFile& file,
                                             uint64_t size, std::string_view sha256,
                                             UploadVerify verify) {
  CV_RETURN_IF_ERROR(CheckRelativePath(ref.audio_file));
  if (sha256.empty()) {
    return InvalidArgumentError("uploading call " + ref.call_id + ": no SHA-256 to verify with");
  }
  const std::string key = client_->options().prefix + ref.audio_file;
  const std::string what = "s3 verify " + key;
  CV_ASSIGN_OR_RETURN(s3::UploadResult up, client_->UploadFile(key, file, size, sha256,
                                                               {{"call-id", ref.call_id},
                                                                {"sha256", std::string(sha256)}}));
  Status check;
  if (up.sent_sha256 != sha256) {
    check = s3::S3Error(
        s3::kReasonVerify, what,
        "sent bytes have SHA-256 " + up.sent_sha256 + ", the manifest says " + std::string(sha256));
  }
  if (check.ok()) {
    RecordingRef uploaded = ref;
    uploaded.location = location_prefix_ + key;
    check = VerifyStored(uploaded, size, sha256, verify);
  }
  if (!check.ok()) {
    if (s3::ErrorReason(check) == s3::kReasonVerify) {
      const Status removed = client_->DeleteObject(key);
      CV_LOG_WARN("storage.s3_verify_failed", "call={} key=\"{}\" error=\"{}\" removed=\"{}\"",
                  ref.call_id, key, check.ToString(), removed.ToString());
    }
    return check;
  }
  return location_prefix_ + key;
}

Status S3RecordingStore::VerifyStored(const RecordingRef& ref, uint64_t size,
                                      std::string_view sha256, UploadVerify verify) {
  CV_ASSIGN_OR_RETURN(const std::string key, KeyOf(ref));
  CV_ASSIGN_OR_RETURN(s3::ObjectInfo info, client_->HeadObject(key));
  if (info.size != size) {
    return s3::S3Error(
        s3::kReasonVerify, "s3 verify " + key,
        "stored size " + std::to_string(info.size) + ", file size " + std::to_string(size));
  }
  return verify == UploadVerify::kReadBack ? ReadBack(key, size, sha256) : Status::Ok();
}

Status S3RecordingStore::ReadBack(const std::string& key, uint64_t size, std::string_view sha256) {
  crypto::Sha256 sha;
  std::string buf(kReadBackChunk, '\0');
  uint64_t offset = 0;
  // Bounded: every round reads at least one byte or stops.
  while (offset < size) {
    const auto want = static_cast<size_t>(std::min<uint64_t>(kReadBackChunk, size - offset));
    Result<size_t> got = client_->GetObjectRange(key, offset, want, buf.data());
    if (!got.ok() && IsNetwork(got.status()))
      got = client_->GetObjectRange(key, offset, want, buf.data());
    if (!got.ok()) return got.status();
    if (*got == 0) break;
    sha.Update(std::string_view(buf.data(), *got));
    offset += *got;
  }
  const std::string read = sha.HexDigest();
  if (offset != size || read != sha256) {
    return s3::S3Error(s3::kReasonVerify, "s3 verify " + key,
                       "read back " + std::to_string(offset) + " bytes with SHA-256 " + read +
                           ", expected " + std::to_string(size) + " bytes with " +
                           std::string(sha256));
  }
  return Status::Ok();
}

}  // namespace callvault::storage
