// RelocationTarget: what relocation (relocator.h) needs of the remote store — upload one
// recording and verify the stored copy. S3RelocationTarget implements it over S3RecordingStore;
// tests wrap it (a byte flipped in transit).
//
// Who calls it: storage::Relocator. Thread-safety: implementations are thread-safe (the
// relocator uploads several recordings at once).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/fs.h"
#include "base/status.h"
#include "storage/recording_store.h"
#include "storage/s3_recording_store.h"

namespace callvault::storage {

class RelocationTarget {
 public:
  virtual ~RelocationTarget() = default;
  // Uploads `size` bytes of `file` as `ref`'s audio, verifies the stored copy against `size`
  // and `sha256` (the manifest's), and returns its location ("s3://bucket/key"). Errors carry
  // s3/errors.h reasons (ErrorReason): `verify` (DataLoss) when the check failed.
  virtual Result<std::string> Upload(const RecordingRef& ref, const RandomAccessFile& file,
                                     uint64_t size, std::string_view sha256) = 0;
};

// Over S3RecordingStore::Upload with a fixed verification mode.
class S3RelocationTarget final : public RelocationTarget {
 public:
  // REQUIRES: `store` outlives this object.
  S3RelocationTarget(S3RecordingStore* store, UploadVerify verify)
      : store_(store), verify_(verify) {}
  Result<std::string> Upload(const RecordingRef& ref, const RandomAccessFile& file, uint64_t size,
                             std::string_view sha256) override {
    return store_->Upload(ref, file, size, sha256, verify_);
  }

 private:
  S3RecordingStore* const store_;
  const UploadVerify verify_;
};

}  // namespace callvault::storage
