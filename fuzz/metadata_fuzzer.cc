// libFuzzer target for the SIPREC metadata parser (siprec/metadata.h): parse, merge the result
// with itself and with an empty state, map onto two labelled m-lines, and dump the JSON. Checks
// the contract: never crashes or throws, raw is bounded, problems are bounded, and a document
// that is well-formed keeps well_formed after merging with itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "siprec/metadata.h"

using namespace callvault::siprec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const RecordingMetadata md = ParseMetadata(in);
  if (md.raw.size() > kMaxMetadataBytes + 100) abort();
  if (md.problems.size() > kMaxMetadataProblems + 1) abort();
  if (size <= kMaxMetadataBytes && md.raw != in) abort();

  const RecordingMetadata self = Merge(md, md);
  const RecordingMetadata fresh = Merge(RecordingMetadata{}, md);
  if (self.well_formed != md.well_formed) abort();
  (void)MapParticipantsToStreams(self, {"1", "2"});
  (void)MapParticipantsToStreams(fresh, {});
  const std::string dumped = ToJson(self).dump();  // throws (→ crash) on invalid UTF-8
  if (dumped.empty()) abort();
  return 0;
}
