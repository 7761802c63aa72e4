#include "crypto/secret_key.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstring>

namespace callvault::crypto {

SecretKey::~SecretKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

Result<SecretKey> SecretKey::Random() {
  SecretKey key;
  if (RAND_bytes(key.bytes_.data(), static_cast<int>(key.bytes_.size())) != 1) {
    return InternalError("generating a key: RAND_bytes failed");
  }
  return key;
}

SecretKey SecretKey::FromBytes(std::string_view bytes) {
  CV_CHECK_MSG(bytes.size() == kSize, "SecretKey::FromBytes needs 32 bytes");
  SecretKey key;
  std::memcpy(key.bytes_.data(), bytes.data(), kSize);
  return key;
}

bool operator==(const SecretKey& a, const SecretKey& b) {
  return CRYPTO_memcmp(a.bytes_.data(), b.bytes_.data(), SecretKey::kSize) == 0;
}

}  // namespace callvault::crypto
