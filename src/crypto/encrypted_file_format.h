// Encrypted audio file, version 1: the constants, the header's typed form, its (de)serializer
// and the size arithmetic. The grammar, field by field, is docs/formats/encrypted-audio.md —
// change both together. Persistent values below: do not renumber.
//
//   header ‖ chunk 0 ‖ chunk 1 ‖ … ‖ chunk n-1        chunk = AES-256-GCM ciphertext ‖ 16-byte tag
//   chunks 0..n-2 hold exactly kChunkSize plaintext bytes, chunk n-1 (the final one, always
//   present) holds 0..kChunkSize-1 bytes.
//
// Who calls it: encrypting_file.cc (writer), decrypting_reader.cc (reader), the header fuzzer,
// and readers that only need to tell an encrypted file from plain audio (LooksEncrypted).
// Thread-safety: constants and pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace callvault::crypto {

// "CVENC\r\n\x1a": never the start of a WAV ("RIFF") or Ogg ("OggS") file; the CR LF and ^Z
// show text-mode mangling.
inline constexpr std::string_view kEncryptedMagic{"CVENC\r\n\x1a", 8};
inline constexpr uint16_t kEncryptedFormatVersion = 1;

// Algorithm ids (header byte 10). Persistent: do not renumber.
enum class EncryptionAlgorithm : uint8_t {
  // Data: AES-256-GCM in kChunkSize chunks, nonce = prefix ‖ chunk index, AAD as below.
  // Data key wrap: AES-256-GCM under the tenant key.
  kAes256GcmChunked = 1,
};

inline constexpr uint32_t kChunkSize = 64 * 1024;  // plaintext bytes per full chunk
inline constexpr size_t kTagSize = 16;             // GCM tag after each chunk's ciphertext
inline constexpr size_t kStoredChunkSize = kChunkSize + kTagSize;
inline constexpr size_t kNoncePrefixSize = 4;  // ‖ u64 BE chunk index = the 12-byte GCM nonce
inline constexpr size_t kWrapNonceSize = 12;
inline constexpr size_t kWrappedKeySize = 32;
inline constexpr size_t kMaxTenantSize = 255;
inline constexpr size_t kMaxKeyIdSize = 64;
// Bytes before the tenant: magic 8, version 2, algorithm 1, flags 1, chunk size 4, header size 4,
// tenant length 1.
inline constexpr size_t kHeaderFixedPrefix = 21;
// Header size with the longest tenant and key id; reading this many bytes (or the whole file if
// shorter) is always enough to parse the header.
inline constexpr size_t kMaxHeaderSize = kHeaderFixedPrefix + kMaxTenantSize + 1 + kMaxKeyIdSize +
                                         kWrapNonceSize + kWrappedKeySize + kTagSize +
                                         kNoncePrefixSize;
// The chunk AAD: SHA-256(header bytes) 32 ‖ chunk index u64 BE 8 ‖ final flag 1.
inline constexpr size_t kChunkAadSize = 32 + 8 + 1;

struct EncryptedFileHeader {
  uint16_t version = kEncryptedFormatVersion;
  EncryptionAlgorithm algorithm = EncryptionAlgorithm::kAes256GcmChunked;
  uint32_t chunk_size = kChunkSize;
  std::string tenant;  // 1..kMaxTenantSize bytes, no control characters
  std::string key_id;  // 1..kMaxKeyIdSize bytes of [0-9a-zA-Z._-]: the tenant key's id
  std::array<uint8_t, kWrapNonceSize> wrap_nonce{};
  std::array<uint8_t, kWrappedKeySize> wrapped_data_key{};  // the data key under the tenant key
  std::array<uint8_t, kTagSize> wrap_tag{};
  std::array<uint8_t, kNoncePrefixSize> nonce_prefix{};

  // Total header bytes: kHeaderFixedPrefix + tenant + 1 + key id + 12 + 32 + 16 + 4.
  size_t size() const;
  // Header bytes covered by the key wrap's AAD: magic up to the end of the key id.
  size_t wrap_aad_size() const;
};

// True when `prefix` (the first bytes of a file, at least 8) starts with kEncryptedMagic.
bool LooksEncrypted(std::string_view prefix);

// The header's bytes. REQUIRES: tenant/key id within their limits (CV_CHECK: the writer
// validates before).
std::string SerializeEncryptedHeader(const EncryptedFileHeader& header);

// Parses the header at the start of `bytes` (which may continue with chunks). Checks the magic,
// the version (1), the algorithm, flags 0, the chunk size (65536), the header size field against
// the lengths, the tenant and key id syntax. Errors: DataLoss naming the field ("encrypted audio
// header: unknown version 7"); a file shorter than its header is DataLoss "truncated".
// Authenticity is checked later, by the key unwrap and the chunk tags.
Result<EncryptedFileHeader> ParseEncryptedHeader(std::string_view bytes);

// Valid tenant / key id for the header (and the key store).
bool IsValidTenant(std::string_view tenant);
bool IsValidKeyId(std::string_view key_id);

// Stored file size for `plaintext_size` bytes after a header of `header_size` bytes:
//   header_size + plaintext_size + (floor(plaintext_size / 65536) + 1) × 16.
uint64_t StoredSize(uint64_t plaintext_size, size_t header_size);

// The inverse: with body = stored_size - header_size, n_full = floor(body / 65552) and
// rest = body - n_full × 65552, the plaintext is n_full × 65536 + rest - 16. DataLoss
// "truncated" when stored_size < header_size + 16 or rest < 16 (no room for the final chunk:
// the file was cut, e.g. at a chunk boundary).
Result<uint64_t> PlaintextSize(uint64_t stored_size, size_t header_size);

// The 12-byte GCM nonce of chunk `index`: nonce_prefix ‖ index (u64 big-endian).
std::array<uint8_t, 12> ChunkNonce(const std::array<uint8_t, kNoncePrefixSize>& prefix,
                                   uint64_t index);
// The chunk AAD: header_sha256 (32 raw bytes) ‖ index (u64 BE) ‖ final (0 or 1).
std::string ChunkAad(std::string_view header_sha256, uint64_t index, bool final);

}  // namespace callvault::crypto
