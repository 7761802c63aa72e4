// libFuzzer target for the typed manifest reader (src/recording/manifest_reader.h): manifests
// are read from disk by catalog ingest today and will arrive from peers with replication.
// Contracts: parsing never crashes and never throws; a refusal is InvalidArgument, DataLoss or
// FailedPrecondition; what is accepted names a call and a final state.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "recording/manifest_reader.h"

using namespace callvault;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<recording::Manifest> m = recording::ParseManifest(text);
  if (!m.ok()) {
    const StatusCode c = m.status().code();
    if (c != StatusCode::kInvalidArgument && c != StatusCode::kDataLoss &&
        c != StatusCode::kFailedPrecondition)
      std::abort();
    return 0;
  }
  if (m->call_id.empty() || !IsFinalState(m->state)) std::abort();
  return 0;
}
