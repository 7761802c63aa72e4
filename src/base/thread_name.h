// Names the calling thread, so that top -H, perf and /proc/<pid>/task/*/comm attribute CPU to
// it (a profile of a setup burst found most samples in threads still named after the binary).
// Linux keeps the first 15 bytes; longer names are cut.
//
// Called by: every long-lived thread's entry (SIP, media, recorder, finalizer, drainers, ...).
// Thread-safety: acts on the calling thread only.
#pragma once

#include <string_view>

namespace callvault {

void SetCurrentThreadName(std::string_view name);

}  // namespace callvault
