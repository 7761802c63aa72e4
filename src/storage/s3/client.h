// s3::Client: the S3 operations callvault needs, over libcurl with SigV4 (internal/http.h):
// PUT (single or multipart), HEAD, ranged GET, DELETE and ListObjectsV2, each returning a Status
// classified by errors.h (reason auth / network / not_found / server / client / protocol).
// Keys are full object keys (the caller adds S3Options::prefix); they are percent-encoded here.
//
// Who calls it: S3RecordingStore (storage/s3_recording_store.h); app/ creates it from
// S3Options and calls SetCredentials() on SIGHUP after re-reading the secret file.
// Thread-safety: thread-safe; every operation may run from several threads at once (each takes
// one pooled curl handle for its duration). UploadFile() also runs its own part threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/fs.h"
#include "base/status.h"
#include "storage/s3/internal/xml.h"
#include "storage/s3/options.h"

namespace callvault::storage::s3 {

namespace internal {
class HttpTransport;
}  // namespace internal

// User metadata, sent as x-amz-meta-<name> (names lowercase ASCII letters, digits, '-'; values
// printable ASCII).
using ObjectMetadata = std::map<std::string, std::string>;

using ListedObject = internal::ListedObject;
using ListPage = internal::ListPage;

struct ObjectInfo {
  uint64_t size = 0;
  std::string etag;         // as S3 gives it, quoted
  ObjectMetadata metadata;  // x-amz-meta-* without the prefix
};

struct PutResult {
  std::string etag;         // the object's (or part's) ETag, quoted
  std::string sent_sha256;  // hex SHA-256 of the bytes actually sent
  uint64_t bytes = 0;
};

struct UploadResult {
  std::string etag;
  std::string sent_sha256;  // of the whole object, computed in order while reading the file
  uint64_t bytes = 0;
  bool multipart = false;
  uint32_t parts = 0;                // 0 for a single PUT
  uint32_t max_parts_in_memory = 0;  // the most part buffers held at once (≤ parts_in_flight)
};

class Client {
 public:
  // InvalidArgument when ValidateOptions() fails.
  static Result<std::unique_ptr<Client>> Create(const S3Options& options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const S3Options& options() const { return options_; }

  // Replaces the credentials for requests that start from now on (e.g. after SIGHUP re-read a
  // corrected secret file).
  void SetCredentials(std::string access_key_id, std::string secret_access_key);

  // PUT of bytes [offset, offset + length) of `file`, streamed (read once). `sha256_hex` is the
  // caller's hex SHA-256 of those bytes, sent as x-amz-content-sha256 and signed ("" sends
  // UNSIGNED-PAYLOAD); S3 rejects the upload when the bytes do not match it. The result's
  // sent_sha256 is computed from the bytes as they were sent. REQUIRES: `file` outlives the call.
  Result<PutResult> PutObject(std::string_view key, const RandomAccessFile& file, uint64_t offset,
                              uint64_t length, std::string_view sha256_hex,
                              const ObjectMetadata& metadata = {});
  // PUT of `body` (hashed here).
  Result<PutResult> PutObject(std::string_view key, std::string_view body,
                              const ObjectMetadata& metadata = {});

  // Multipart upload: Create returns the upload id; parts are numbered from 1, each (but the
  // last) at least 5 MiB, sent from memory with their own SHA-256; Complete takes the parts'
  // ETags in order and returns the object's ETag. Abort frees the parts (NotFound when the
  // upload is gone is OK).
  Result<std::string> CreateMultipartUpload(std::string_view key,
                                            const ObjectMetadata& metadata = {});
  Result<PutResult> UploadPart(std::string_view key, std::string_view upload_id,
                               uint32_t part_number, std::string_view data);
  Result<std::string> CompleteMultipartUpload(std::string_view key, std::string_view upload_id,
                                              const std::vector<std::string>& part_etags);
  [[nodiscard]] Status AbortMultipartUpload(std::string_view key, std::string_view upload_id);

  // Size, ETag and user metadata. NotFound (reason not_found) when there is no such object.
  Result<ObjectInfo> HeadObject(std::string_view key);

  // Reads up to `length` bytes at `offset` into `buf` with one ranged GET (Range: bytes=a-b) and
  // returns the count (fewer only at the end of the object). The answer must be a 206 whose
  // Content-Range starts at `offset` (or a 200 with the whole object when offset is 0), else a
  // protocol error. OutOfRange (reason client) for an offset at or past the end.
  Result<size_t> GetObjectRange(std::string_view key, uint64_t offset, size_t length, char* buf);

  // Removes the object; an object that is not there is OK (S3 answers 204 either way).
  [[nodiscard]] Status DeleteObject(std::string_view key);

  // One page (up to `max_keys`, 1-1000) of the keys starting with `prefix`, after
  // `continuation_token` ("" for the first page).
  Result<ListPage> ListObjectsV2(std::string_view prefix, std::string_view continuation_token = "",
                                 uint32_t max_keys = 1000);

  // Uploads `size` bytes of `file` to `key`: one streamed PUT below
  // options().multipart_threshold_bytes() (payload hash = `sha256_hex`), a multipart upload
  // otherwise, with parts of part_size_bytes() read in order (hashing the whole object on the
  // way) and sent by up to parts_in_flight threads, at most parts_in_flight parts in memory at
  // once. Any failure aborts the multipart upload (best effort). Uploading the same key again
  // overwrites it. The caller checks result.sent_sha256 against what it expected.
  Result<UploadResult> UploadFile(std::string_view key, const RandomAccessFile& file, uint64_t size,
                                  std::string_view sha256_hex, const ObjectMetadata& metadata = {});

 private:
  explicit Client(const S3Options& options);
  // Headers for a new object: SSE and x-amz-meta-*. InvalidArgument for bad metadata.
  Result<std::vector<std::string>> ObjectHeaders(const ObjectMetadata& metadata) const;
  Result<UploadResult> UploadMultipart(std::string_view key, const RandomAccessFile& file,
                                       uint64_t size, const ObjectMetadata& metadata);

  const S3Options options_;
  const std::unique_ptr<internal::HttpTransport> http_;
};

}  // namespace callvault::storage::s3
