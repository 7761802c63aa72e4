// Streaming SHA-256 (OpenSSL EVP) with lowercase hex output — the one spelling of the hashes the
// project writes and compares: manifests' `audio.sha256` (recording/), the payload hashes SigV4
// sends in x-amz-content-sha256 and the hashes of what an upload sent or read back (storage/).
//
// Who calls it: recording/ (audio writer), storage/ (s3 client, S3 store, relocation), tests.
// Thread-safety: one thread per Sha256 object; Sha256Hex is a pure function.
#pragma once

#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace callvault::crypto {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // The hex digest of everything Update()d; the object starts over afterwards.
  std::string HexDigest();

 private:
  evp_md_ctx_st* ctx_;
};

// Hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

// SHA-256 of no bytes (e.g. the x-amz-content-sha256 of GET, HEAD and DELETE).
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

}  // namespace callvault::crypto
