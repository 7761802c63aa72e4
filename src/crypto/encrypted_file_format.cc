#include "crypto/encrypted_file_format.h"

#include <algorithm>
#include <cstring>

namespace callvault::crypto {
namespace {

void PutU16(std::string* s, uint16_t v) {
  s->push_back(static_cast<char>(v >> 8));
  s->push_back(static_cast<char>(v));
}
void PutU32(std::string* s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s->push_back(static_cast<char>(v >> shift));
}
uint32_t GetU32(const unsigned char* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

Status HeaderError(std::string what) { return DataLossError("encrypted audio header: " + what); }

}  // namespace

size_t EncryptedFileHeader::size() const {
  return kHeaderFixedPrefix + tenant.size() + 1 + key_id.size() + kWrapNonceSize + kWrappedKeySize +
         kTagSize + kNoncePrefixSize;
}

size_t EncryptedFileHeader::wrap_aad_size() const {
  return kHeaderFixedPrefix + tenant.size() + 1 + key_id.size();
}

bool LooksEncrypted(std::string_view prefix) { return prefix.starts_with(kEncryptedMagic); }

bool IsValidTenant(std::string_view tenant) {
  if (tenant.empty() || tenant.size() > kMaxTenantSize) return false;
  return std::none_of(tenant.begin(), tenant.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

bool IsValidKeyId(std::string_view key_id) {
  if (key_id.empty() || key_id.size() > kMaxKeyIdSize) return false;
  return std::all_of(key_id.begin(), key_id.end(),
                     [](char c) {
                       return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                              (c >= 'A' && c <= 'Z') || c == '-' || c == '_' || c == '.';
                     }) &&
         key_id != "." && key_id != "..";
}

std::string SerializeEncryptedHeader(const EncryptedFileHeader& h) {
  CV_CHECK(IsValidTenant(h.tenant) && IsValidKeyId(h.key_id));
  std::string s;
  s.reserve(h.size());
  s.append(kEncryptedMagic);
  PutU16(&s, h.version);
  s.push_back(static_cast<char>(h.algorithm));
  s.push_back(0);  // flags
  PutU32(&s, h.chunk_size);
  PutU32(&s, static_cast<uint32_t>(h.size()));
  s.push_back(static_cast<char>(h.tenant.size()));
  s.append(h.tenant);
  s.push_back(static_cast<char>(h.key_id.size()));
  s.append(h.key_id);
  auto put = [&s](const auto& bytes) {
    s.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  };
  put(h.wrap_nonce);
  put(h.wrapped_data_key);
  put(h.wrap_tag);
  put(h.nonce_prefix);
  return s;
}

Result<EncryptedFileHeader> ParseEncryptedHeader(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < kEncryptedMagic.size() || !LooksEncrypted(bytes)) {
    return HeaderError(bytes.size() < kEncryptedMagic.size() ? "truncated (no magic)"
                                                             : "bad magic");
  }
  if (bytes.size() < kHeaderFixedPrefix) return HeaderError("truncated");
  EncryptedFileHeader h;
  h.version = static_cast<uint16_t>(p[8] << 8 | p[9]);
  if (h.version != kEncryptedFormatVersion) {
    return HeaderError("unknown version " + std::to_string(h.version));
  }
  if (p[10] != static_cast<uint8_t>(EncryptionAlgorithm::kAes256GcmChunked)) {
    return HeaderError("unknown algorithm " + std::to_string(p[10]));
  }
  if (p[11] != 0) return HeaderError("unknown flags " + std::to_string(p[11]));
  h.chunk_size = GetU32(p + 12);
  if (h.chunk_size != kChunkSize) {
    return HeaderError("unsupported chunk size " + std::to_string(h.chunk_size));
  }
  const uint32_t header_size = GetU32(p + 16);
  const size_t tenant_size = p[20];
  size_t pos = kHeaderFixedPrefix;
  if (bytes.size() < pos + tenant_size + 1) return HeaderError("truncated");
  h.tenant.assign(bytes.substr(pos, tenant_size));
  pos += tenant_size;
  const size_t key_id_size = p[pos++];
  if (bytes.size() < pos + key_id_size) return HeaderError("truncated");
  h.key_id.assign(bytes.substr(pos, key_id_size));
  pos += key_id_size;
  if (!IsValidTenant(h.tenant)) return HeaderError("invalid tenant");
  if (!IsValidKeyId(h.key_id)) return HeaderError("invalid key id");
  if (header_size != h.size()) {
    return HeaderError("header size " + std::to_string(header_size) + " does not match its " +
                       "fields (" + std::to_string(h.size()) + ")");
  }
  if (bytes.size() < h.size()) return HeaderError("truncated");
  auto take = [&](auto& field) {
    std::memcpy(field.data(), p + pos, field.size());
    pos += field.size();
  };
  take(h.wrap_nonce);
  take(h.wrapped_data_key);
  take(h.wrap_tag);
  take(h.nonce_prefix);
  return h;
}

uint64_t StoredSize(uint64_t plaintext_size, size_t header_size) {
  return header_size + plaintext_size + (plaintext_size / kChunkSize + 1) * kTagSize;
}

Result<uint64_t> PlaintextSize(uint64_t stored_size, size_t header_size) {
  if (stored_size < header_size + kTagSize) {
    return DataLossError("encrypted audio: truncated (" + std::to_string(stored_size) +
                         " bytes: no room for the final chunk)");
  }
  const uint64_t body = stored_size - header_size;
  const uint64_t full = body / kStoredChunkSize;
  const uint64_t rest = body % kStoredChunkSize;
  if (rest < kTagSize) {
    return DataLossError("encrypted audio: truncated (" + std::to_string(stored_size) +
                         " bytes: the final chunk is missing)");
  }
  return full * kChunkSize + (rest - kTagSize);
}

std::array<uint8_t, 12> ChunkNonce(const std::array<uint8_t, kNoncePrefixSize>& prefix,
                                   uint64_t index) {
  std::array<uint8_t, 12> nonce{};
  std::memcpy(nonce.data(), prefix.data(), kNoncePrefixSize);
  for (int i = 0; i < 8; ++i)
    nonce[kNoncePrefixSize + i] = static_cast<uint8_t>(index >> (56 - 8 * i));
  return nonce;
}

std::string ChunkAad(std::string_view header_sha256, uint64_t index, bool final) {
  std::string aad(header_sha256);
  for (int shift = 56; shift >= 0; shift -= 8) aad.push_back(static_cast<char>(index >> shift));
  aad.push_back(final ? 1 : 0);
  return aad;
}

}  // namespace callvault::crypto
