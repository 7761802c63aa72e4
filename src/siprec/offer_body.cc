#include "siprec/offer_body.h"

#include <algorithm>

#include "siprec/multipart.h"

namespace callvault::siprec {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// A part whose type was mangled in transit (BroadWorks through a logger: "application/ +xml")
// but that is clearly XML is still kept as metadata, with a warning.
bool LooksLikeMetadata(std::string_view content_type, std::string_view body) {
  const std::string ct = Lower(content_type);
  if (ct.find("metadata") != std::string::npos || ct.find("xml") != std::string::npos) {
    return true;
  }
  size_t i = body.find_first_not_of(" \t\r\n");
  return i != std::string_view::npos && body.substr(i, 1) == "<";
}

}  // namespace

Result<OfferBody> ExtractOfferBody(std::string_view content_type, std::string_view body) {
  OfferBody out;
  if (body.empty()) return out;
  if (content_type.empty()) {
    return UnimplementedError("body without Content-Type");
  }
  if (MediaTypeIs(content_type, "application/sdp")) {
    out.sdp = std::string(body);
    return out;
  }
  if (IsRecordingMetadata(content_type)) {
    out.metadata.push_back({std::string(content_type), std::string(body)});
    return out;
  }
  if (!MediaTypeIs(content_type, "multipart/mixed") &&
      !MediaTypeIs(content_type, "multipart/related") &&
      !MediaTypeIs(content_type, "multipart/alternative")) {
    return UnimplementedError("unsupported Content-Type " +
                              std::string(content_type.substr(0, 80)));
  }
  auto split = SplitMultipart(content_type, body);
  if (!split.ok()) return split.status();
  out.warnings = split->warnings;
  for (const BodyPart& p : split->parts) {
    if (MediaTypeIs(p.content_type, "application/sdp")) {
      if (out.sdp) {
        out.warnings.push_back("second application/sdp part ignored");
        continue;
      }
      out.sdp = std::string(p.body);
    } else if (IsRecordingMetadata(p.content_type)) {
      out.metadata.push_back({std::string(p.content_type), std::string(p.body)});
    } else if (LooksLikeMetadata(p.content_type, p.body) &&
               !MediaTypeIs(p.content_type, "application/gtd")) {
      out.warnings.push_back("part with Content-Type '" +
                             std::string(p.content_type.substr(0, 60)) +
                             "' taken as recording metadata");
      out.metadata.push_back({std::string(p.content_type), std::string(p.body)});
    } else {
      out.ignored.emplace_back(p.content_type.empty() ? "(none)" : p.content_type);
    }
  }
  return out;
}

}  // namespace callvault::siprec
