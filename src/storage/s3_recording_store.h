// S3RecordingStore: the RecordingStore over an S3 bucket (s3::Client), for nodes that relocate
// finished recordings off their disk and for nodes sharing one bucket.
//
// Key layout: `<S3Options::prefix><audio_file>` ("recordings/" + "2026/11/25/<call>.wav"); a
// recording's location is `s3://<bucket>/<key>`. A ref whose location is such a URL for this
// bucket is read from that key (so changing the prefix later does not lose older recordings); a
// ref with an empty location uses the prefix; any other location (local:…, another bucket) is
// not in this store.
//
// Reading: OpenAudio() HEADs the object for its size; the reader's Read() is one ranged GET,
// retried once on a network error. The ETag is QuotedEtag(ref.sha256), as for the local store,
// so a recording keeps its ETag when it moves.
// Uploading (the relocation step): Upload() sends the file (s3::Client::UploadFile) with the
// call id and the SHA-256 as object metadata, then verifies it (UploadVerify) before the caller
// may remove the local copy; a failed check (reason `verify`, DataLoss) deletes the object
// (best effort).
// Deleting: DeleteObject, idempotent. Recover(): nothing to finish (S3 deletes are atomic).
// Errors carry s3/errors.h reasons (ErrorReason()).
//
// Who calls it: app/ creates it over a Client; the relocation stage calls Upload(); http/ reads
// and deletes through RecordingStore.
// Thread-safety: thread-safe (the Client is); a reader may be used from several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/fs.h"
#include "storage/recording_store.h"
#include "storage/s3/client.h"

namespace callvault::storage {

// How Upload() checks an upload before the local copy may go.
enum class UploadVerify {
  // HEAD size equals the file's size, and the SHA-256 of the bytes sent equals the manifest's.
  kSizeAndHash,
  // As kSizeAndHash, then the whole object is read back (1 MiB ranged GETs) and hashed.
  kReadBack,
};
// "size_and_hash" | "read_back"; InvalidArgument otherwise.
Result<UploadVerify> ParseUploadVerify(std::string_view name);

class S3RecordingStore final : public RecordingStore {
 public:
  // REQUIRES: `client` outlives the store.
  explicit S3RecordingStore(s3::Client* client);

  Result<std::unique_ptr<AudioReader>> OpenAudio(const RecordingRef& ref) override;
  // FailedPrecondition for a ref located elsewhere (nothing is removed).
  Status Delete(const RecordingRef& ref) override;
  // "s3://<bucket>/<key>" when HEAD finds the object; NotFound otherwise.
  Result<std::string> Locate(const RecordingRef& ref) override;
  Status Recover() override { return Status::Ok(); }

  // Uploads `size` bytes of `file` as `ref`'s audio and verifies it (see UploadVerify; `sha256`
  // is the manifest's hex SHA-256, required). Returns the new location ("s3://<bucket>/<key>").
  // Uploading again (a retry after a crash) overwrites the object.
  Result<std::string> Upload(const RecordingRef& ref, const RandomAccessFile& file, uint64_t size,
                             std::string_view sha256,
                             UploadVerify verify = UploadVerify::kSizeAndHash);

  // Checks the stored object of `ref` against the manifest: its size (HEAD), and with kReadBack
  // the SHA-256 of its bytes read back. Errors with reason `verify` (DataLoss) on a mismatch;
  // nothing is removed. (Upload() runs it; also for re-checking a relocated recording.)
  [[nodiscard]] Status VerifyStored(const RecordingRef& ref, uint64_t size, std::string_view sha256,
                                    UploadVerify verify);

  // The object key of `ref`; NotFound when it is located elsewhere, InvalidArgument for an
  // audio path that cannot name a recording.
  Result<std::string> KeyOf(const RecordingRef& ref) const;

 private:
  // Reads the object back and compares its SHA-256 with `sha256`.
  Status ReadBack(const std::string& key, uint64_t size, std::string_view sha256);

  s3::Client* const client_;
  const std::string location_prefix_;  // "s3://<bucket>/"
};

}  // namespace callvault::storage
