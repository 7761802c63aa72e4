// libFuzzer target for Cisco's non-SIPREC forks (siprec/cisco.h): the input's first line is a
// From header value (BiB), the rest X-Cisco-Recording-Participant values, one per line. Checks
// the contract: never crashes or throws, participants are bounded, values are bounded, the
// metadata built from them maps onto m-lines and dumps to JSON (valid UTF-8 or replaced).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "siprec/cisco.h"

using namespace callvault::siprec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl = in.find('\n');
  const std::string_view from = in.substr(0, nl);
  if (std::optional<BibLeg> leg = ParseBibFrom(from)) {
    if (leg->near_end.refci.empty() || leg->near_end.refci.size() > 256) abort();
    const RecordingMetadata md = BibMetadata(*leg);
    if (md.participants.size() != 2 || md.streams.size() != 2) abort();
    (void)MapParticipantsToStreams(md, {"nearend", "farend"});
    if (ToJson(md).dump().empty()) abort();
  }
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view rest = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  while (!rest.empty()) {
    const size_t e = rest.find('\n');
    headers.emplace_back("X-Cisco-Recording-Participant", std::string(rest.substr(0, e)));
    rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 1);
  }
  const std::vector<NbrParticipant> p = NbrParticipants(headers);
  if (p.size() > kMaxNbrParticipants) abort();
  const RecordingMetadata first = NbrMetadata(p, nullptr, "2026-12-07T00:00:00.000Z");
  std::vector<NbrParticipant> half(p.begin(), p.begin() + p.size() / 2);
  const RecordingMetadata after = NbrMetadata(half, &first, "2026-12-07T00:01:00.000Z");
  if (after.participants.size() < first.participants.size()) abort();  // who left stays listed
  (void)MapParticipantsToStreams(after, {"0", "1", "2"});
  if (ToJson(after).dump().empty()) abort();
  return 0;
}
