#include "crypto/sha256.h"

#include <openssl/evp.h>

#include "base/status.h"

namespace callvault::crypto {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  CV_CHECK(ctx_ != nullptr && EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) == 1);
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::Update(std::string_view bytes) {
  CV_CHECK(EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()) == 1);
}

std::string Sha256::HexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  CV_CHECK(EVP_DigestFinal_ex(ctx_, digest, &len) == 1);
  CV_CHECK(EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) == 1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xF]);
  }
  return hex;
}

std::string Sha256Hex(std::string_view bytes) {
  Sha256 sha;
  sha.Update(bytes);
  return sha.HexDigest();
}

}  // namespace callvault::crypto
