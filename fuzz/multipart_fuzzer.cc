// libFuzzer target for the multipart splitter (siprec/multipart.h). The first input line is the
// Content-Type value, the rest the body. Checks the contract: views point into the inputs, at
// least one part on success, never more than kMaxBodyParts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "siprec/multipart.h"

using namespace callvault::siprec;

namespace {
bool Inside(std::string_view v, std::string_view buffer) {
  return v.empty() ||
         (v.data() >= buffer.data() && v.data() + v.size() <= buffer.data() + buffer.size());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl = in.find('\n');
  std::string_view content_type = in.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  (void)ContentTypeParam(content_type, "boundary");
  (void)MediaTypeIs(content_type, "multipart/mixed");
  auto r = SplitMultipart(content_type, body);
  if (!r.ok()) return 0;
  if (r->parts.empty() || r->parts.size() > kMaxBodyParts) abort();
  for (const BodyPart& p : r->parts) {
    if (!Inside(p.body, body) || !Inside(p.content_type, body)) abort();
    if (p.headers.size() > kMaxPartHeaders) abort();
    for (const auto& h : p.headers) {
      if (!Inside(h.name, body) || !Inside(h.value, body)) abort();
    }
    (void)IsRecordingMetadata(p.content_type);
  }
  return 0;
}
