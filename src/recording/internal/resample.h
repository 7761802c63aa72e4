// Sample-rate conversion of one mono PCM16 block with speexdsp's resampler, private to
// recording/. The block is converted as a whole: the resampler's start-up delay is skipped and
// its tail flushed, so sample k of the input lands at sample round(k·out/in) of the output.
//
// Thread-safety: pure function.
#pragma once

#include <cstdint>
#include <vector>

namespace callvault::recording::internal {

// REQUIRES: in_rate > 0, out_rate > 0. Returns `in` unchanged when the rates are equal.
std::vector<int16_t> Resample(const std::vector<int16_t>& in, int in_rate, int out_rate);

}  // namespace callvault::recording::internal
