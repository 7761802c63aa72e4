// RTP fixed header parsing (RFC 3550 §5.1) for packets read back from the spool.
//
// Called by: recording/stream_timeline.cc, tests.
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace callvault::recording {

struct RtpPacket {
  bool marker = false;       // M bit (RFC 3550 §5.1; for audio: first packet of a talkspurt)
  uint8_t payload_type = 0;  // PT, 7 bits
  uint16_t sequence = 0;     // sequence number (wraps at 2^16)
  uint32_t timestamp = 0;    // RTP timestamp (wraps at 2^32), in the payload type's clock
  uint32_t ssrc = 0;         // synchronization source
  std::string_view payload;  // after CSRCs and the header extension, padding removed
};

enum class RtpParseError : uint8_t {
  kNone = 0,
  kTooShort,    // < 12 bytes, or CSRC list / extension / padding longer than the packet
  kBadVersion,  // V != 2
  kRtcp,        // an RTCP packet multiplexed on the RTP port (RFC 5761 §4: PT 72–76 with M)
};

// Parses `data` (a view into it is kept in RtpPacket::payload). Returns the packet or, through
// `error`, why not.
std::optional<RtpPacket> ParseRtp(std::string_view data, RtpParseError* error = nullptr);

}  // namespace callvault::recording
