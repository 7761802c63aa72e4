// Constants and small predicates shared by the two implementations of the timeline method
// (stream_timeline.h): the in-memory reference (BuildTimeline) and the streaming one
// (PacketOrderer, internal/segmenter.h). Private to recording/.
//
// Thread-safety: constants and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

#include "recording/stream_timeline.h"

namespace callvault::recording::internal {

inline constexpr int64_t kMaxDropout = 3000;  // RFC 3550 A.1
inline constexpr int64_t kMaxMisorder = 1000;
inline constexpr size_t kMaxEpochsPerSsrc = 64;

// Packets whose timestamps anchor a segment (telephone events carry their event's start).
inline bool AnchorKind(PayloadKind k) {
  return k == PayloadKind::kAudio || k == PayloadKind::kComfortNoise;
}

}  // namespace callvault::recording::internal
