// SDES `a=crypto` parsing and answer keys (siprec/sdp_crypto.h, RFC 4568 §9.1 grammar).
#include "siprec/sdp_crypto.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <string>

#include "siprec/internal/sdp_text.h"

namespace callvault::siprec {

namespace {

using internal::AllDigits;
using internal::ParseDecimal;
using internal::SplitFields;

struct SuiteInfo {
  std::string_view name;
  size_t master_key_length;  // key + salt
  bool supported;            // answered by the recorder (libsrtp2)
};

constexpr std::array<SuiteInfo, 10> kSuites = {{
    {"AES_CM_128_HMAC_SHA1_80", 30, true},
    {"AES_CM_128_HMAC_SHA1_32", 30, true},
    {"AES_256_CM_HMAC_SHA1_80", 46, true},
    {"AES_256_CM_HMAC_SHA1_32", 46, false},
    {"AES_192_CM_HMAC_SHA1_80", 38, false},
    {"AES_192_CM_HMAC_SHA1_32", 38, false},
    {"F8_128_HMAC_SHA1_80", 30, false},
    {"AEAD_AES_128_GCM", 28, false},
    {"AEAD_AES_256_GCM", 44, false},
    {"NULL_HMAC_SHA1_80", 30, false},
}};

const SuiteInfo* FindSuite(std::string_view suite) {
  for (const SuiteInfo& s : kSuites) {
    if (s.name == suite) return &s;
  }
  return nullptr;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// RFC 4568 §9.1 lifetime = ["2^"] 1*(DIGIT)
bool IsLifetime(std::string_view s) {
  if (s.substr(0, 2) == "2^") s.remove_prefix(2);
  return AllDigits(s) && s.size() <= 20;
}

// mki = mki-value ":" mki-length; mki-length 1*3DIGIT, 1..128
bool IsMki(std::string_view s) {
  const size_t colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view value = s.substr(0, colon);
  const auto length = ParseDecimal(s.substr(colon + 1), 128);
  return AllDigits(value) && value.size() <= 20 && length && *length >= 1;
}

}  // namespace

std::optional<size_t> SdesMasterKeyLength(std::string_view suite) {
  const SuiteInfo* s = FindSuite(suite);
  if (s == nullptr) return std::nullopt;
  return s->master_key_length;
}

bool IsSupportedSdesSuite(std::string_view suite) {
  const SuiteInfo* s = FindSuite(suite);
  return s != nullptr && s->supported;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  size_t pad = 0;
  while (!text.empty() && text.back() == '=' && pad < 2) {
    text.remove_suffix(1);
    ++pad;
  }
  if (text.empty() || text.size() % 4 == 1) return std::nullopt;
  if (pad > 0 && (text.size() + pad) % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = Base64Value(c);
    if (v < 0) return std::nullopt;
    acc = ((acc << 6) | static_cast<uint32_t>(v)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;  // non-canonical trailing bits
  return out;
}

Result<std::string> GenerateSdesKey(std::string_view suite) {
  const SuiteInfo* s = FindSuite(suite);
  if (s == nullptr || !s->supported) {
    return InvalidArgumentError("sdes: unsupported SRTP crypto suite '" + std::string(suite) + "'");
  }
  std::string key(s->master_key_length, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1) {
    return InternalError("sdes: RAND_bytes failed");
  }
  return Base64Encode(key);
}

Result<Crypto> ParseCryptoAttribute(std::string_view value) {
  // <tag> <crypto-suite> <key-params> [<session-param> ...]
  const std::vector<std::string_view> f = SplitFields(value, 4);
  if (f.empty()) return InvalidArgumentError("a=crypto has no tag");
  Crypto c;
  const auto tag = ParseDecimal(f[0], 999999999);
  if (!tag) return InvalidArgumentError("a=crypto tag '" + std::string(f[0]) + "' is not a number");
  c.tag = static_cast<uint32_t>(*tag);
  if (f.size() < 2) return InvalidArgumentError("a=crypto has no crypto suite");
  c.suite = std::string(f[1]);
  if (f.size() < 3) return InvalidArgumentError("a=crypto has no key parameters");
  if (f.size() == 4) c.session_params = std::string(f[3]);

  const std::string_view key_params = f[2];
  c.key_param_count = 1;
  for (char ch : key_params) c.key_param_count += ch == ';' ? 1 : 0;
  const std::string_view first = key_params.substr(0, key_params.find(';'));
  const size_t colon = first.find(':');
  if (colon == std::string_view::npos) {
    return InvalidArgumentError("a=crypto key parameter '" + std::string(first) +
                                "' is not <method>:<info>");
  }
  if (!EqualsIgnoreCase(first.substr(0, colon), "inline")) {
    return Status(
        StatusCode::kUnimplemented,
        "a=crypto key method '" + std::string(first.substr(0, colon)) + "' is not inline");
  }
  // key||salt ["|" lifetime] ["|" mki ":" mki-length]
  std::string_view info = first.substr(colon + 1);
  std::vector<std::string_view> parts;
  while (parts.size() <= 3) {
    const size_t bar = info.find('|');
    parts.push_back(info.substr(0, bar));
    if (bar == std::string_view::npos) break;
    info.remove_prefix(bar + 1);
  }
  if (parts.size() > 3) return InvalidArgumentError("a=crypto key has too many '|' fields");
  c.key_base64 = std::string(parts[0]);
  std::optional<std::string> key = Base64Decode(parts[0]);
  if (!key) return InvalidArgumentError("a=crypto key is not valid base64");
  c.master_key = std::move(*key);
  if (const auto want = SdesMasterKeyLength(c.suite); want && *want != c.master_key.size()) {
    return InvalidArgumentError("a=crypto " + c.suite + " key||salt is " +
                                std::to_string(c.master_key.size()) + " bytes, expected " +
                                std::to_string(*want));
  }
  for (size_t i = 1; i < parts.size(); ++i) {
    // A field with ':' is the MKI, otherwise the lifetime (RFC 4568 §9.1: lifetime first).
    if (parts[i].find(':') != std::string_view::npos) {
      if (!IsMki(parts[i]) || !c.mki.empty()) {
        return InvalidArgumentError("a=crypto MKI '" + std::string(parts[i]) + "' is invalid");
      }
      c.mki = std::string(parts[i]);
    } else {
      if (!IsLifetime(parts[i]) || !c.lifetime.empty() || !c.mki.empty()) {
        return InvalidArgumentError("a=crypto lifetime '" + std::string(parts[i]) + "' is invalid");
      }
      c.lifetime = std::string(parts[i]);
    }
  }
  return c;
}

}  // namespace callvault::siprec
