// SecretKey: 32 bytes of AES-256 key material (a master key, a tenant key or a file's data key)
// that is wiped (OPENSSL_cleanse) when it is destroyed or overwritten, and that has no way to be
// printed: there is no ToString/operator<<, so a key cannot end up in a log line by accident.
//
// Who calls it: every part of crypto/ (master_key.h, key_store.h, encrypting_file.h, ...).
// Thread-safety: a value; a const SecretKey may be read from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace callvault::crypto {

class SecretKey {
 public:
  static constexpr size_t kSize = 32;

  SecretKey() { bytes_.fill(0); }
  SecretKey(const SecretKey& other) = default;
  SecretKey& operator=(const SecretKey& other) = default;
  ~SecretKey();

  // 32 bytes from the OpenSSL CSPRNG (RAND_bytes). Internal if the generator fails.
  static Result<SecretKey> Random();
  // A copy of `bytes`. REQUIRES: bytes.size() == kSize (CV_CHECK).
  static SecretKey FromBytes(std::string_view bytes);

  const uint8_t* data() const { return bytes_.data(); }
  uint8_t* mutable_data() { return bytes_.data(); }
  static constexpr size_t size() { return kSize; }

  // Constant-time comparison (CRYPTO_memcmp), for tests and key checks.
  friend bool operator==(const SecretKey& a, const SecretKey& b);

 private:
  std::array<uint8_t, kSize> bytes_;
};

}  // namespace callvault::crypto
