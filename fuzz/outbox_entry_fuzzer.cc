// libFuzzer target for outbox entries (src/outbox/entry.h, docs/formats/outbox.md): files a
// drainer reads from disk (an operator may have edited them; replication will carry them).
// Contracts: parsing never crashes; what is accepted has a UUID call id and a manifest path
// inside the recordings directory, and serializes back to an entry that parses to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "outbox/entry.h"

using namespace callvault;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<outbox::Entry> e = outbox::ParseEntry(text);
  if (!e.ok()) {
    if (e.status().code() != StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  if (!outbox::IsValidCallId(e->call_id)) std::abort();
  std::string_view rest = e->manifest;  // relative, every segment a real name
  if (rest.empty() || rest.front() == '/') std::abort();
  for (;;) {
    const size_t slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    if (seg.empty() || seg == "." || seg == "..") std::abort();
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  Result<outbox::Entry> again = outbox::ParseEntry(outbox::SerializeEntry(*e));
  if (!again.ok() || !(*again == *e)) std::abort();
  return 0;
}
