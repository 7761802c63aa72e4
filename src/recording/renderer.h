// The mixer/aligner step of finalizing: decodes each stream's anchored segments
// (stream_timeline.h), converts them to the output rate and lays them on one wall-clock timeline
// per channel, so a sample at wall time t lands at the same offset in both channels.
//
// Loss inside a segment is filled with the decoder's concealment (at most 60 ms, then
// silence); comfort noise, telephone events, pauses and gaps between segments are silence. When
// re-anchoring (drift correction) moves a source's next segment earlier than the end of its
// previous one by at most 100 ms, the overlapping start is dropped; a later start leaves
// silence. Different sources on one channel are mixed (saturating sum).
//
// Output rate: 16 kHz when any decoder runs above 8 kHz (G.722, Opus), else 8 kHz.
// Memory: both channels are held in memory at the output rate (≈ the WAV size). This is the
// in-memory reference: the finalizer renders with StreamRenderer (stream_renderer.h), which the
// differential tests hold to this function's output frame for frame.
//
// Called by: tests (the reference), fuzz/spool_fuzzer.cc.
// Thread-safety: RenderChannels is reentrant; the factory must be safe to call from the
// calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "codec/codec.h"
#include "recording/session_log.h"
#include "recording/stream_timeline.h"

namespace callvault::recording {

using DecoderFactory =
    std::function<Result<std::unique_ptr<codec::Decoder>>(const codec::CodecSpec& spec)>;

struct RenderInput {
  const StreamInfo* info = nullptr;          // REQUIRES: non-null, outlives the call
  const StreamTimeline* timeline = nullptr;  // REQUIRES: non-null, outlives the call
  int channel = 0;                           // 0 = left, 1 = right, -1 = both (mixed stream)
  // Wall-clock intervals [start, end) in ns during which the stream was paused (a=inactive,
  // user pause for privacy): whatever the SRC still sent then is rendered as silence.
  std::vector<std::pair<int64_t, int64_t>> muted;
};

struct RenderedAudio {
  int sample_rate = 8000;
  int64_t origin_ns = 0;             // wall clock of sample 0
  std::vector<int16_t> left, right;  // equal length
  uint64_t undecodable = 0;          // payloads the decoder refused (their time is concealed)
  std::vector<std::string> warnings;
  int64_t frames() const { return static_cast<int64_t>(left.size()); }
};

// `origin_hint_ns`: wall time the file should start at (the call's answer time; 0 = the first
// media). Media earlier than the hint moves the origin earlier (nothing is cut).
RenderedAudio RenderChannels(const std::vector<RenderInput>& inputs, int64_t origin_hint_ns,
                             const DecoderFactory& factory);

}  // namespace callvault::recording
