#include "crypto/internal/aead.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

namespace callvault::crypto::internal {
namespace {

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

// Fetched once (OpenSSL 3: an explicit fetch avoids a provider lookup per message).
const EVP_CIPHER* Aes256Gcm() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

const unsigned char* U(const char* p) { return reinterpret_cast<const unsigned char*>(p); }

}  // namespace

Status GcmSeal(const SecretKey& key, const uint8_t* nonce, std::string_view aad,
               std::string_view plaintext, char* out, uint8_t* tag) {
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (ctx == nullptr || Aes256Gcm() == nullptr ||
      EVP_EncryptInit_ex2(ctx.get(), Aes256Gcm(), key.data(), nonce, nullptr) != 1) {
    return InternalError("AES-256-GCM: initialising encryption failed");
  }
  if (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, U(aad.data()),
                                        static_cast<int>(aad.size())) != 1) {
    return InternalError("AES-256-GCM: adding associated data failed");
  }
  int written = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out), &len,
                          U(plaintext.data()), static_cast<int>(plaintext.size())) != 1) {
      return InternalError("AES-256-GCM: encrypting failed");
    }
    written = len;
  }
  if (EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out) + written, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagSize), tag) !=
          1) {
    return InternalError("AES-256-GCM: finishing encryption failed");
  }
  return Status::Ok();
}

Status GcmOpen(const SecretKey& key, const uint8_t* nonce, std::string_view aad,
               std::string_view ciphertext, const uint8_t* tag, char* out) {
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (ctx == nullptr || Aes256Gcm() == nullptr ||
      EVP_DecryptInit_ex2(ctx.get(), Aes256Gcm(), key.data(), nonce, nullptr) != 1) {
    return InternalError("AES-256-GCM: initialising decryption failed");
  }
  if (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(aad.data()),
                                        static_cast<int>(aad.size())) != 1) {
    return InternalError("AES-256-GCM: adding associated data failed");
  }
  int written = 0;
  if (!ciphertext.empty()) {
    if (EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out), &len,
                          U(ciphertext.data()), static_cast<int>(ciphertext.size())) != 1) {
      return InternalError("AES-256-GCM: decrypting failed");
    }
    written = len;
  }
  // The tag is an input here; OpenSSL's prototype takes a non-const pointer.
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagSize),
                          const_cast<uint8_t*>(tag)) != 1) {
    return InternalError("AES-256-GCM: setting the tag failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out) + written, &len) != 1) {
    return DataLossError("authentication failed");
  }
  return Status::Ok();
}

Status RandomBytes(void* out, size_t n) {
  if (RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(n)) != 1) {
    return InternalError("RAND_bytes failed");
  }
  return Status::Ok();
}

std::string Sha256(std::string_view data) {
  std::string digest(32, '\0');
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(digest.data()), &len,
             EVP_sha256(), nullptr);
  return digest;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    hex.push_back(kDigits[c >> 4]);
    hex.push_back(kDigits[c & 0xf]);
  }
  return hex;
}

bool HexDecode(std::string_view hex, std::string* out) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return false;
  out->clear();
  out->reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

}  // namespace callvault::crypto::internal
