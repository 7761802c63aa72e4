// SrtpSession: SRTP/SRTCP (RFC 3711) with an SDES key (RFC 4568 a=crypto inline key) on libsrtp2.
// The recorder receives the SRC's media and decrypts it before spooling (inbound); tests and the
// load generator encrypt (outbound).
//
// Suites: AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32 (SRTCP keeps the 80-bit tag, RFC 4568
// §6.2.2), AES_256_CM_HMAC_SHA1_80 (RFC 6188). Key: base64 of master key || master salt (30 or 46
// bytes); an "inline:" prefix and "|lifetime" are accepted and ignored; an MKI ("|n:len") is
// Unimplemented. The replay window is 1024 packets (a recorder sees reordering, not attacks).
//
// Who calls it: media::internal::IoThread (one inbound session per SRTP stream), tests, bench.
// Thread-safety: a session is used by one thread at a time. Create() is thread-safe (libsrtp is
// initialized once per process).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

typedef struct srtp_ctx_t_ srtp_ctx_t;  // libsrtp2, kept out of this header

namespace callvault::media {

// The SRC's a=crypto line, as negotiated (RFC 4568 §9.1 crypto-suite and key-params).
struct SrtpParams {
  std::string suite;       // "AES_CM_128_HMAC_SHA1_80" ...
  std::string key_base64;  // "inline:" optional; base64 of master key || salt
};

class SrtpSession {
 public:
  enum class Direction { kInbound, kOutbound };
  enum class Outcome {
    kOk,          // decrypted in place, *len updated
    kAuthFailed,  // authentication tag mismatch (wrong key, corruption): buffer unchanged
    kReplay,      // seq already seen or too old for the replay window: buffer unchanged
    kError,       // too short, unknown SSRC state...: buffer unchanged
  };

  // InvalidArgument for an unknown suite or a bad key (message names which).
  static Result<std::unique_ptr<SrtpSession>> Create(const SrtpParams& params, Direction dir);
  ~SrtpSession();
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  // Inbound. `data` holds `*len` bytes of SRTP / SRTCP. Decrypts in place only when the packet
  // authenticates (kOk); otherwise the buffer is left as received.
  Outcome UnprotectRtp(char* data, int* len);
  Outcome UnprotectRtcp(char* data, int* len);

  // Outbound. REQUIRES: `data` has room for *len + kMaxTrailer bytes.
  Status ProtectRtp(char* data, int* len);
  Status ProtectRtcp(char* data, int* len);
  static constexpr int kMaxTrailer = 16 + 128 + 4;  // tag + MKI + SRTCP index (libsrtp bound)

 private:
  explicit SrtpSession(srtp_ctx_t* ctx) : ctx_(ctx) {}
  srtp_ctx_t* ctx_;
};

// Master key || salt bytes from an a=crypto key ("inline:" and "|lifetime" stripped), checked
// against the suite's length. Exposed for tests.
Result<std::string> DecodeSdesKey(std::string_view suite, std::string_view key_base64);
// Standard base64 (RFC 4648 §4), padding optional; InvalidArgument on any other character.
Result<std::string> Base64Decode(std::string_view text);
std::string Base64Encode(std::string_view bytes);

}  // namespace callvault::media
