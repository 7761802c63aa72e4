// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected), as used by the spool format
// (docs/formats/spool.md) and iSCSI/ext4. Uses the SSE4.2 crc32 instruction when the CPU has it
// (checked once at run time), else a slicing-by-8 table.
//
// Who calls it: CallSpoolWriter, SpoolReader, test helpers. Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

namespace callvault::media {

// The CRC of `data` continued from `crc` (the value a previous Crc32cExtend/Crc32c returned;
// 0 to start). Crc32c("123456789") == 0xE3069283.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);
inline uint32_t Crc32c(const void* data, size_t n) { return Crc32cExtend(0, data, n); }

namespace internal {
// The portable table implementation (tests compare both paths).
uint32_t Crc32cExtendPortable(uint32_t crc, const void* data, size_t n);
}  // namespace internal

}  // namespace callvault::media
