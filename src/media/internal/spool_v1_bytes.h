// Test-only: the bytes of a version 1 spool file (docs/formats/spool.md §`<stream-id>.rtp`),
// built from the spec. The engine writes version 2 only; readers keep reading version 1 (spools
// an older version left behind), so their tests make version 1 files with this. The record
// framing both versions share (little-endian fields, the CRC after the header) is here too, for
// spool_v2_bytes.h.
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

// Little-endian `bytes` bytes of `v`, appended to `out` (the spool's byte order).
inline void AppendLe(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

// Appends a record whose header fields before the CRC are `head`: `head`, then the CRC-32C of
// `head` and the payload (4 bytes), then the payload. Both versions' records have this shape.
inline void AppendSpoolRecordWithCrc(std::string* file, std::string_view head,
                                     std::string_view payload) {
  uint32_t crc = Crc32cExtend(0, head.data(), head.size());
  crc = Crc32cExtend(crc, payload.data(), payload.size());
  *file += head;
  AppendLe(file, crc, 4);
  *file += payload;
}

// Appends one version 1 record (16-byte header with its CRC-32C, then the payload) to `file`.
inline void AppendSpoolV1Record(std::string* file, spool::RecordKind kind, uint8_t flags,
                                int64_t arrival_ns, std::string_view payload) {
  std::string h;
  AppendLe(&h, payload.size(), 2);
  h.push_back(static_cast<char>(kind));
  h.push_back(static_cast<char>(flags));
  AppendLe(&h, static_cast<uint64_t>(arrival_ns), 8);
  AppendSpoolRecordWithCrc(file, h, payload);
}

}  // namespace callvault::media::testing
