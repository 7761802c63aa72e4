#include "media/srtp_session.h"

#include <srtp2/srtp.h>

#include <cstring>
#include <mutex>

namespace callvault::media {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct Suite {
  std::string_view name;
  size_t key_bytes;  // master key + salt
  void (*rtp)(srtp_crypto_policy_t*);
  void (*rtcp)(srtp_crypto_policy_t*);
};

const Suite kSuites[] = {
    {"AES_CM_128_HMAC_SHA1_80", 30, srtp_crypto_policy_set_rtp_default,
     srtp_crypto_policy_set_rtp_default},
    {"AES_CM_128_HMAC_SHA1_32", 30, srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32,
     srtp_crypto_policy_set_rtp_default},
    {"AES_256_CM_HMAC_SHA1_80", 46, srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80,
     srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80},
};

const Suite* FindSuite(std::string_view name) {
  for (const Suite& s : kSuites) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

Status InitSrtpOnce() {
  static std::once_flag once;
  static srtp_err_status_t err = srtp_err_status_ok;
  std::call_once(once, [] { err = srtp_init(); });
  if (err != srtp_err_status_ok) {
    return InternalError("initializing libsrtp2: error " + std::to_string(err));
  }
  return Status::Ok();
}

SrtpSession::Outcome ToOutcome(srtp_err_status_t err) {
  switch (err) {
    case srtp_err_status_ok:
      return SrtpSession::Outcome::kOk;
    case srtp_err_status_auth_fail:
      return SrtpSession::Outcome::kAuthFailed;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
      return SrtpSession::Outcome::kReplay;
    default:
      return SrtpSession::Outcome::kError;
  }
}

}  // namespace

Result<std::string> Base64Decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] != '='; ++i) {
    const char* p = std::strchr(kAlphabet, text[i]);
    if (p == nullptr || text[i] == '\0') {
      return InvalidArgumentError("decoding base64: bad character at " + std::to_string(i));
    }
    acc = acc << 6 | static_cast<uint32_t>(p - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  for (; i < text.size(); ++i) {
    if (text[i] != '=') return InvalidArgumentError("decoding base64: data after padding");
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = uint32_t{static_cast<uint8_t>(bytes[i])} << 16 |
                 uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8 |
                 static_cast<uint8_t>(bytes[i + 2]);
    for (int k = 3; k >= 0; --k) out.push_back(kAlphabet[(v >> (6 * k)) & 63]);
  }
  if (i < bytes.size()) {
    uint32_t v = uint32_t{static_cast<uint8_t>(bytes[i])} << 16;
    if (i + 1 < bytes.size()) v |= uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Result<std::string> DecodeSdesKey(std::string_view suite_name, std::string_view key) {
  const Suite* suite = FindSuite(suite_name);
  if (suite == nullptr) {
    return InvalidArgumentError("SRTP: unsupported crypto suite \"" + std::string(suite_name) +
                                "\"");
  }
  if (key.substr(0, 7) == "inline:") key.remove_prefix(7);
  if (const size_t bar = key.find('|'); bar != std::string_view::npos) {
    std::string_view rest = key.substr(bar + 1);
    key = key.substr(0, bar);
    // "|2^20|1:4": lifetime then MKI; an MKI has a ':'.
    if (rest.find(':') != std::string_view::npos) {
      return UnimplementedError("SRTP: keys with an MKI are not supported");
    }
  }
  Result<std::string> bytes = Base64Decode(key);
  if (!bytes.ok()) return bytes.status().Annotate("SRTP key");
  if (bytes->size() != suite->key_bytes) {
    return InvalidArgumentError("SRTP key: " + std::to_string(bytes->size()) + " bytes, suite " +
                                std::string(suite_name) + " needs " +
                                std::to_string(suite->key_bytes));
  }
  return bytes;
}

Result<std::unique_ptr<SrtpSession>> SrtpSession::Create(const SrtpParams& params, Direction dir) {
  CV_RETURN_IF_ERROR(InitSrtpOnce());
  CV_ASSIGN_OR_RETURN(std::string key, DecodeSdesKey(params.suite, params.key_base64));
  const Suite* suite = FindSuite(params.suite);
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  suite->rtp(&policy.rtp);
  suite->rtcp(&policy.rtcp);
  policy.ssrc.type = dir == Direction::kInbound ? ssrc_any_inbound : ssrc_any_outbound;
  policy.key = reinterpret_cast<unsigned char*>(key.data());
  policy.window_size = 1024;
  policy.allow_repeat_tx = 0;
  policy.next = nullptr;
  srtp_t ctx = nullptr;
  srtp_err_status_t err = srtp_create(&ctx, &policy);
  std::memset(key.data(), 0, key.size());
  if (err != srtp_err_status_ok) {
    return InvalidArgumentError("SRTP: creating session failed (libsrtp error " +
                                std::to_string(err) + ")");
  }
  return std::unique_ptr<SrtpSession>(new SrtpSession(ctx));
}

SrtpSession::~SrtpSession() { srtp_dealloc(ctx_); }

SrtpSession::Outcome SrtpSession::UnprotectRtp(char* data, int* len) {
  return ToOutcome(srtp_unprotect(ctx_, data, len));
}

SrtpSession::Outcome SrtpSession::UnprotectRtcp(char* data, int* len) {
  return ToOutcome(srtp_unprotect_rtcp(ctx_, data, len));
}

Status SrtpSession::ProtectRtp(char* data, int* len) {
  srtp_err_status_t err = srtp_protect(ctx_, data, len);
  if (err != srtp_err_status_ok) return InternalError("SRTP protect: error " + std::to_string(err));
  return Status::Ok();
}

Status SrtpSession::ProtectRtcp(char* data, int* len) {
  srtp_err_status_t err = srtp_protect_rtcp(ctx_, data, len);
  if (err != srtp_err_status_ok) {
    return InternalError("SRTP protect RTCP: error " + std::to_string(err));
  }
  return Status::Ok();
}

}  // namespace callvault::media
