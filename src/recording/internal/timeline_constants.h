// Constants and small functions shared by the two implementations of the timeline method
// (stream_timeline.h): the in-memory reference (BuildTimeline) and the streaming one
// (PacketOrderer, internal/segmenter.h). Private to recording/.
//
// Thread-safety: constants and pure functions (CountRecord writes only its arguments).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "media/spool_reader.h"
#include "recording/rtp_packet.h"
#include "recording/stream_timeline.h"

namespace callvault::recording::internal {

inline constexpr int64_t kMaxDropout = 3000;  // RFC 3550 A.1
inline constexpr int64_t kMaxMisorder = 1000;
inline constexpr size_t kMaxEpochsPerSsrc = 64;

// Packets whose timestamps anchor a segment (telephone events carry their event's start).
inline bool AnchorKind(PayloadKind k) {
  return k == PayloadKind::kAudio || k == PayloadKind::kComfortNoise;
}

// The first step for every record of a stream: counts it in `st` (gap markers, RTCP, packets and
// bytes, SRTP authentication failures, unparseable packets, unknown payload types, packets per
// payload type) and returns the RTP packet and its kind when it goes on to be ordered. `kinds`
// (optional) caches the kind per payload type: 0 = not looked up yet, else kind + 1.
struct CountedRtp {
  RtpPacket rtp;
  PayloadKind kind;
};
std::optional<CountedRtp> CountRecord(const media::SpoolRecord& r, const StreamInfo& info,
                                      StreamStats* st, std::array<uint8_t, 128>* kinds = nullptr);

}  // namespace callvault::recording::internal
