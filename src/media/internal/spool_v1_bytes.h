// Test-only: the bytes of a version 1 spool file (docs/formats/spool.md §`<stream-id>.rtp`),
// built from the spec. The engine writes version 2 only; readers keep reading version 1 (spools
// an older version left behind), so their tests make version 1 files with this.
//
// Callers: media and recording tests. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "media/crc32c.h"
#include "media/spool_format.h"

namespace callvault::media::testing {

// The 16-byte version 1 file header.
inline std::string SpoolV1Header() { return std::string("CVSPOOL\0\1\0\x10\0\0\0\0\0", 16); }

// Appends one version 1 record (16-byte header with its CRC-32C, then the payload) to `file`.
inline void AppendSpoolV1Record(std::string* file, spool::RecordKind kind, uint8_t flags,
                                int64_t arrival_ns, std::string_view payload) {
  std::string h;
  const uint16_t length = static_cast<uint16_t>(payload.size());
  h.push_back(static_cast<char>(length & 0xff));
  h.push_back(static_cast<char>(length >> 8));
  h.push_back(static_cast<char>(kind));
  h.push_back(static_cast<char>(flags));
  for (int i = 0; i < 8; ++i)
    h.push_back(static_cast<char>(static_cast<uint64_t>(arrival_ns) >> (8 * i)));
  uint32_t crc = Crc32cExtend(0, h.data(), h.size());
  crc = Crc32cExtend(crc, payload.data(), payload.size());
  for (int i = 0; i < 4; ++i) h.push_back(static_cast<char>(crc >> (8 * i)));
  *file += h;
  *file += payload;
}

}  // namespace callvault::media::testing
