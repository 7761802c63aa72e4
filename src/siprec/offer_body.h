// What a SIPREC request carries in its body: the SDP offer and the recording metadata parts
// (RFC 7866 §9: multipart/mixed with application/sdp and application/rs-metadata+xml; vendors
// also send application/rs-metadata, extra parts such as application/gtd, metadata-only UPDATEs
// and SDP-only re-INVITEs). Classifies the body and says precisely why one cannot be used.
//
// Called by: siprec::CallSession for INVITE, re-INVITE, UPDATE, BYE and ACK bodies.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace callvault::siprec {

struct MetadataPart {
  std::string content_type;
  std::string raw;
};

struct OfferBody {
  std::optional<std::string> sdp;      // the application/sdp part, when present
  std::vector<MetadataPart> metadata;  // rs-metadata parts, in order
  std::vector<std::string> ignored;    // content types of parts we do not use (gtd, ...)
  std::vector<std::string> warnings;   // tolerated quirks (from the multipart splitter)
};

// Splits `body` according to its Content-Type header value (empty type and empty body: an
// empty OfferBody). Errors: UnimplementedError for a media type we cannot use (the caller
// answers 415 with Accept), InvalidArgumentError for a multipart body that cannot be split
// (400/488 with the reason).
Result<OfferBody> ExtractOfferBody(std::string_view content_type, std::string_view body);

}  // namespace callvault::siprec
