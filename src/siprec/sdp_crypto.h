// SDES-SRTP keying (RFC 4568) for the recorder's SDP: parsing `a=crypto` values, the suites
// libsrtp2 handles, and fresh answer keys (OpenSSL RAND_bytes, base64 via EVP_EncodeBlock).
//
// Called by: siprec/sdp.cc (parsing), siprec/sdp_answer.cc (answer keys), tests.
// Thread-safety: pure functions; GenerateSdesKey uses OpenSSL's thread-safe DRBG.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "siprec/sdp.h"

namespace callvault::siprec {

// Parses the value of `a=crypto:` (everything after the colon). Errors (InvalidArgument) carry
// a message without the line prefix, e.g. "a=crypto key is not valid base64"; the caller adds
// it. A key method other than `inline` is reported as kUnimplemented (the caller skips the line).
Result<Crypto> ParseCryptoAttribute(std::string_view value);

// Bytes of master key || master salt for an SRTP crypto suite of RFC 4568 §6.2 / RFC 6188 /
// RFC 7714 (AES_CM_128_HMAC_SHA1_80 → 30, AES_256_CM_HMAC_SHA1_80 → 46, AEAD_AES_128_GCM → 28),
// nullopt for a suite we do not know. Compared case-sensitively, as RFC 4568 registers them.
std::optional<size_t> SdesMasterKeyLength(std::string_view suite);

// True for the suites the recorder answers (libsrtp2): AES_CM_128_HMAC_SHA1_80,
// AES_CM_128_HMAC_SHA1_32 and AES_256_CM_HMAC_SHA1_80.
bool IsSupportedSdesSuite(std::string_view suite);

// A fresh random master key || salt for `suite`, base64-encoded for `inline:`. Errors:
// InvalidArgument for an unsupported suite, Internal when the random generator fails.
Result<std::string> GenerateSdesKey(std::string_view suite);

// RFC 4648 §4 base64 with padding (OpenSSL EVP_EncodeBlock).
std::string Base64Encode(std::string_view bytes);
// Strict RFC 4648 §4 decoding; padding may be omitted. nullopt on any other character.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace callvault::siprec
