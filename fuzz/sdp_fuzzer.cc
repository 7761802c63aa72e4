// libFuzzer target for the SDP parser and the recorder's answer (siprec/sdp.h,
// siprec/sdp_answer.h). Checks the contract: a parse never exceeds its bounds, and every parsed
// offer gets an answer that re-parses with the same number of m= lines.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "siprec/sdp.h"
#include "siprec/sdp_answer.h"

using namespace callvault;
using namespace callvault::siprec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto offer = ParseSdp(in);
  if (!offer.ok()) {
    if (offer.status().message().substr(0, 5) != "sdp: ") abort();
    return 0;
  }
  if (offer->media.size() > kMaxMediaLines || offer->warnings.size() > kMaxSdpWarnings) abort();
  for (const MediaDescription& m : offer->media) {
    if (m.IsRtp() && m.payloads.size() > m.formats.size()) abort();
    for (const PayloadFormat& p : m.payloads) {
      if (p.payload_type < 0 || p.payload_type > 127) abort();
    }
  }
  AnswerOptions options;
  options.local_ipv4 = "198.51.100.1";
  options.local_ipv6 = "2001:db8::1";
  options.session_id = "1";
  options.session_version = 2;
  for (size_t i = 0; i < offer->media.size(); ++i) {
    options.ports.push_back(i % 5 == 4 ? 0 : static_cast<uint16_t>(20000 + 2 * i));
  }
  // Dummy predicate: everything named except G.729 (so some streams are rejected).
  options.can_decode = [](const codec::CodecSpec& c) {
    return !c.name.empty() && !EncodingIs(c.name, "G729");
  };
  options.make_sdes_key = [](std::string_view suite) -> Result<std::string> {
    return std::string(suite.find("256") != std::string_view::npos
                           ? "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLQ=="
                           : "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd");
  };
  auto answer = BuildRecorderAnswer(*offer, options);
  if (!answer.ok() || answer->media.size() != offer->media.size()) abort();
  auto again = ParseSdp(answer->text);
  if (!again.ok() || again->media.size() != offer->media.size()) abort();
  for (size_t i = 0; i < offer->media.size(); ++i) {
    if (answer->media[i].accepted != (again->media[i].port != 0)) abort();
  }
  return 0;
}
