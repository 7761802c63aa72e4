// S3Options: how callvault reaches an S3-compatible bucket (AWS S3, MinIO, Ceph, the test server
// in tests/s3/). app/ fills it from the `[storage.s3]` config section, reads the secret with
// LoadSecretFile() (the config names a file, never the secret itself), checks it with
// ValidateOptions() and passes it to s3::Client::Create().
//
// Object key layout: `<prefix><audio_file>`, e.g. prefix "recordings/" and the manifest's
// `audio.file` "2026/11/25/0193....wav" give "recordings/2026/11/25/0193....wav"; a recording's
// location is `s3://<bucket>/<key>` (S3RecordingStore, storage/s3_recording_store.h).
//
// Thread-safety: a value type.
#pragma once

#include <cstdint>
#include <string>

#include "base/fs.h"
#include "base/status.h"

namespace callvault::storage::s3 {

struct S3Options {
  // Scheme, host and optional port, no path: "https://s3.eu-west-1.amazonaws.com",
  // "http://127.0.0.1:9000". Required.
  std::string endpoint;
  // Required.
  std::string bucket;
  // Prepended to every recording's key (S3RecordingStore); "" or ending in '/'. Default: "".
  std::string prefix;
  // SigV4 signing region. Default: "us-east-1".
  std::string region = "us-east-1";
  // Required (no defaults for credentials). SetCredentials() replaces them at run time.
  std::string access_key_id;
  std::string secret_access_key;
  // true: "<endpoint>/<bucket>/<key>" (MinIO, Ceph, local servers); false: virtual-hosted
  // "<scheme>://<bucket>.<host>/<key>" (AWS). Default: false.
  bool path_style = false;
  // Server-side encryption requested on every upload: "" (none, the bucket's default),
  // "AES256" or "aws:kms". Default: "".
  std::string sse;
  // The KMS key for sse = "aws:kms" ("" = the account's default key). Default: "".
  std::string sse_kms_key_id;
  // Files of at least this many MiB are uploaded in parts (multipart upload). Default: 64.
  uint32_t multipart_threshold_mb = 64;
  // Size of each part but the last, in MiB; at least 5 (S3's minimum). Default: 16.
  uint32_t part_size_mb = 16;
  // Parts held in memory and uploaded at once (1-32): an upload's memory is at most
  // parts_in_flight × part_size_mb MiB. Default: 4.
  uint32_t parts_in_flight = 4;
  // TCP/TLS connect timeout. Default: 5000 ms.
  uint32_t connect_timeout_ms = 5000;
  // Whole-request timeout (one PUT, one part, one ranged GET). Default: 300000 ms.
  uint32_t request_timeout_ms = 300000;
  // CA bundle for https ("" = the system's). Default: "".
  std::string ca_file;
  // Verify the server's TLS certificate and host name. Default: true.
  bool verify_tls = true;

  uint64_t part_size_bytes() const { return uint64_t{part_size_mb} << 20; }
  uint64_t multipart_threshold_bytes() const { return uint64_t{multipart_threshold_mb} << 20; }
};

// InvalidArgument naming the first bad field (e.g. "s3: part_size_mb 4 is below S3's 5 MiB").
[[nodiscard]] Status ValidateOptions(const S3Options& options);

// The secret in `path` with surrounding whitespace (a trailing newline) removed.
// InvalidArgument when it is empty; the file's errors (NotFound...) otherwise.
Result<std::string> LoadSecretFile(Fs& fs, const std::string& path);

}  // namespace callvault::storage::s3
