// AES-256-GCM (OpenSSL 3 EVP) with a 96-bit nonce and a 128-bit tag, one message at a time, plus
// the other primitives crypto/ needs (CSPRNG bytes, SHA-256). Private to crypto/.
//
// Who calls it: encrypting_file.cc, decrypting_reader.cc, key_store.cc.
// Thread-safety: pure functions (each call uses its own EVP context).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/secret_key.h"

namespace callvault::crypto::internal {

inline constexpr size_t kGcmNonceSize = 12;
inline constexpr size_t kGcmTagSize = 16;

// Encrypts `plaintext` into `out` (which must hold plaintext.size() bytes) and writes the tag
// into `tag` (16 bytes). Internal if OpenSSL fails (never for valid arguments).
[[nodiscard]] Status GcmSeal(const SecretKey& key, const uint8_t* nonce, std::string_view aad,
                             std::string_view plaintext, char* out, uint8_t* tag);

// Decrypts `ciphertext` into `out` (ciphertext.size() bytes) and checks `tag`. DataLoss
// "authentication failed" when the tag does not match (wrong key, nonce, AAD or altered bytes):
// `out` then holds unauthenticated bytes the caller must discard (and wipe if it cares).
[[nodiscard]] Status GcmOpen(const SecretKey& key, const uint8_t* nonce, std::string_view aad,
                             std::string_view ciphertext, const uint8_t* tag, char* out);

// `n` bytes from the OpenSSL CSPRNG. Internal if it fails.
[[nodiscard]] Status RandomBytes(void* out, size_t n);

// The raw 32-byte SHA-256 of `data`.
std::string Sha256(std::string_view data);

// Lowercase hex of `bytes`, and back (nullopt-like: false on odd length or a non-hex digit).
std::string HexEncode(std::string_view bytes);
bool HexDecode(std::string_view hex, std::string* out);

}  // namespace callvault::crypto::internal
