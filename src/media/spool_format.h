// Constants of the spool file format, versions 1 and 2: docs/formats/spool.md is the specification;
// this header only names its numbers. Persistent values: do not renumber.
//
// Who uses it: CallSpoolWriter / SpoolReader (media/), the finalizer (recording/), crash recovery.
// Thread-safety: constants only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace callvault::media::spool {

// File header: magic (8) | version u16 | header_size u16 | reserved u32. Little-endian.
inline constexpr std::string_view kMagic{"CVSPOOL\0", 8};
inline constexpr uint16_t kVersion1 = 1;         // <stream-id>.rtp, one file per stream (read only)
inline constexpr uint16_t kVersion2 = 2;         // media.spool, one file per call (written)
inline constexpr uint16_t kVersion = kVersion2;  // what writers write
inline constexpr size_t kFileHeaderSize = 16;

// Version 1 record header: length u16 | kind u8 | flags u8 | arrival_ns i64 | crc32c u32, then
// the payload.
inline constexpr size_t kRecordHeaderSize = 16;
inline constexpr size_t kCrcOffset = 12;  // crc32c covers bytes [0, 12) + the payload
// Version 2 record header: length u16 | kind u8 | flags u8 | slot u16 | reserved u16 |
// arrival_ns i64 | crc32c u32, then the payload.
inline constexpr size_t kRecordHeaderSizeV2 = 20;
inline constexpr size_t kCrcOffsetV2 = 16;       // crc32c covers bytes [0, 16) + the payload
inline constexpr size_t kMaxStreamIdBytes = 64;  // payload of a stream declaration
inline constexpr size_t kMaxPayload = 0xFFFF;    // `length` is a u16

// Record kinds. Persistent: do not renumber.
enum class RecordKind : uint8_t {
  kRtp = 1,
  kRtcp = 2,
  kGap = 3,  // receiver-side loss marker; payload empty or u32 count of dropped datagrams
  kStreamDeclaration = 4,  // version 2: payload = the stream id the record's slot stands for
  // Version 2: records of the slot that were received but never written (the disk failed for
  // longer than the buffers hold); payload kUnwrittenPayloadSize bytes: u32 count | u8
  // UnwrittenReason | i64 first_arrival_ns | i64 last_arrival_ns.
  kUnwritten = 5,
};

// Why records were not written (kUnwritten payload byte 4). Persistent: do not renumber.
enum class UnwrittenReason : uint8_t {
  kDiskFull = 1,    // ENOSPC / EDQUOT
  kWriteError = 2,  // another write error (EIO, EROFS...)
  kBufferFull = 3,  // no write failed: the disk was too slow for the buffers
};
inline constexpr size_t kUnwrittenPayloadSize = 21;
// The manifest's word for a reason: "disk_full", "write_error", "buffer_full" ("unknown").
std::string_view UnwrittenReasonName(UnwrittenReason reason);

// Record flags (bit set). Persistent: do not renumber.
inline constexpr uint8_t kFlagSrtpDecrypted = 1 << 0;   // payload was SRTP, stored decrypted
inline constexpr uint8_t kFlagSrtpAuthFailed = 1 << 1;  // SRTP auth failed: stored as received

// File names inside data/spool/<call-id>/.
inline constexpr std::string_view kSessionLogName = "session.jsonl";
inline constexpr std::string_view kStreamFileSuffix = ".rtp";      // version 1: <stream-id>.rtp
inline constexpr std::string_view kCallSpoolName = "media.spool";  // version 2
inline constexpr std::string_view kDoneName = "DONE";
// An empty file `DISK_FULL.<ns>` exists while the disk refuses the call's media.spool writes (ns:
// arrival of the first record not written); left behind only by a crash or a stop that gave up.
inline constexpr std::string_view kDiskFullMarkerPrefix = "DISK_FULL.";

}  // namespace callvault::media::spool
