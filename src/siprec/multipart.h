// Splitting a SIPREC request body into its MIME parts (RFC 2046 §5.1, RFC 5621, RFC 7866 §9).
//
// A SIPREC INVITE/UPDATE carries `multipart/mixed` with an SDP part and an
// `application/rs-metadata+xml` part (and sometimes others, e.g. Cisco's `application/gtd`).
// SplitMultipart() is strict where meaning changes (the boundary must be valid and must appear;
// a line is a delimiter only when it is exactly `--boundary` or `--boundary--` plus transport
// padding) and liberal with what real SRCs send: LF-only line ends, preamble and blank lines
// before the first delimiter, an indented first delimiter, a missing closing delimiter, part
// headers without a space after ':', per-part Content-Length that disagrees with the boundary
// (the boundary wins). Every tolerated quirk is reported in MultipartResult::warnings so the
// caller can log it. ../shared/siprec-samples/SOURCES.md lists the vendors behind each quirk.
//
// Zero copy: every string_view in the result points into the two inputs, which must stay alive
// and unmodified while the result is used.
//
// Called by: siprec/ (recording session setup, re-INVITE/UPDATE), tests, fuzz/multipart_fuzzer.
// Thread-safety: pure functions; safe to call from any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "sip/message.h"

namespace callvault::siprec {

// Bounds on hostile input; exceeding one is an error (the work stays linear in the body size).
inline constexpr size_t kMaxBodyParts = 64;       // SIPREC needs 2, Cisco CUBE sends 3
inline constexpr size_t kMaxPartHeaders = 64;     // per body part
inline constexpr size_t kMaxBoundaryLength = 70;  // RFC 2046 §5.1.1

// One body part (RFC 2046 §5.1.1 body-part = MIME-part-headers [CRLF *OCTET]).
struct BodyPart {
  std::string_view content_type;         // value of the part's Content-Type, "" when absent
                                         // (RFC 2046 §5.1: then text/plain; charset=us-ascii)
  std::string_view content_disposition;  // value of Content-Disposition, "" when absent
  std::vector<sip::Header> headers;      // all part headers in order (names as written)
  std::string_view body;  // the octets between the header block and the line break that
                          // precedes the next delimiter (RFC 2046: that CRLF belongs to the
                          // delimiter); without a closing delimiter, up to the end of the body
};

struct MultipartResult {
  std::vector<BodyPart> parts;        // in body order, at least one
  std::vector<std::string> warnings;  // quirks tolerated, e.g. "missing closing boundary"
};

// Splits `body` according to the Content-Type header value of the message that carries it
// (e.g. `multipart/mixed;boundary="b1"`). Errors (InvalidArgument, message starts with
// "multipart: "): the type is not multipart/*, no or invalid boundary parameter (empty, more
// than 70 characters, characters outside RFC 2046 bchars), empty body, the boundary never
// appears, a part header line without ':', more than kMaxBodyParts parts or kMaxPartHeaders
// headers in one part. Work is O(body size) for any input.
Result<MultipartResult> SplitMultipart(std::string_view content_type_header_value,
                                       std::string_view body);

// The value of a Content-Type parameter (RFC 2045 §5.1: `type/subtype *(";" name "=" value)`),
// name compared case-insensitively, whitespace around ';' and '=' tolerated. A quoted-string
// value is returned without its quotes (quoted-pairs are not unescaped). nullopt when absent.
std::optional<std::string_view> ContentTypeParam(std::string_view value, std::string_view name);

// True when the media type of a Content-Type value (parameters ignored) equals `type_subtype`,
// compared case-insensitively: MediaTypeIs("Application/SDP; x=1", "application/sdp").
bool MediaTypeIs(std::string_view value, std::string_view type_subtype);

// True for RFC 7866 recording metadata: `application/rs-metadata+xml`, and
// `application/rs-metadata` as sent by SEMS, Metaswitch, Avaya SBCE and Intrado.
bool IsRecordingMetadata(std::string_view content_type);

}  // namespace callvault::siprec
