// RFC 3339 timestamps, the one spelling of time in callvault's files and APIs (manifests, session
// logs, outbox entries, JSON answers): "2026-11-25T08:00:00.123Z", UTC, milliseconds.
//
// Called by: every module that writes or reads a timestamp.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace callvault {

// "2026-11-25T08:00:00.123Z" (also without fraction, with any number of fraction digits, with
// "t"/" " for "T", "z", or an offset "+01:00") → ns since the epoch; nullopt when malformed.
std::optional<int64_t> ParseRfc3339(std::string_view s);
// ns since the epoch → "2026-11-25T08:00:00.123Z" (milliseconds, truncated).
std::string FormatRfc3339(int64_t ns);

}  // namespace callvault
