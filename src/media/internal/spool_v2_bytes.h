// Test-only: the bytes of a version 2 call spool file (docs/formats/spool.md §media.spool),
// built from the spec, independently of CallSpoolWriter — so reader tests and the spool fuzzer
// check the reader against the format, not against the writer's own encoding.
//
// Callers: media tests, fuzz/spool_fuzzer.cc. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "media/internal/spool_v1_bytes.h"  // AppendLe, AppendSpoolRecordWithCrc
#include "media/spool_format.h"

namespace callvault::media::testing {

// The 16-byte version 2 file header.
inline std::string SpoolV2Header() { return std::string("CVSPOOL\0\2\0\x10\0\0\0\0\0", 16); }

// Appends one version 2 record (20-byte header: length, kind, flags, slot, reserved, arrival,
// CRC-32C of the header's first 16 bytes and the payload; then the payload) to `file`.
inline void AppendSpoolV2Record(std::string* file, spool::RecordKind kind, uint8_t flags,
                                uint16_t slot, int64_t arrival_ns, std::string_view payload) {
  std::string h;
  AppendLe(&h, payload.size(), 2);
  h.push_back(static_cast<char>(kind));
  h.push_back(static_cast<char>(flags));
  AppendLe(&h, slot, 2);
  AppendLe(&h, 0, 2);
  AppendLe(&h, static_cast<uint64_t>(arrival_ns), 8);
  AppendSpoolRecordWithCrc(file, h, payload);
}

}  // namespace callvault::media::testing
