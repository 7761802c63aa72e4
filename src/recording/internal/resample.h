// Sample-rate conversion of mono PCM16 with speexdsp's resampler, private to recording/.
// A block is converted as a whole: the resampler's start-up delay is skipped and its tail
// flushed, so sample k of the input lands at sample round(k·out/in) of the output, and the
// output has in·out/in samples (integer division).
//
// Resample() converts a block held in memory (the in-memory reference renderer) with one
// StreamResampler push; the streaming renderer feeds a StreamResampler in pieces and gets the
// same samples, whatever the pieces.
//
// Thread-safety: Resample is a pure function; a StreamResampler is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

struct SpeexResamplerState_;

namespace callvault::recording::internal {

// REQUIRES: in_rate > 0, out_rate > 0. Returns `in` unchanged when the rates are equal.
std::vector<int16_t> Resample(const std::vector<int16_t>& in, int in_rate, int out_rate);

class StreamResampler {
 public:
  // REQUIRES: in_rate > 0, out_rate > 0.
  StreamResampler(int in_rate, int out_rate);
  ~StreamResampler();
  StreamResampler(const StreamResampler&) = delete;
  StreamResampler& operator=(const StreamResampler&) = delete;

  // The next `n` input samples; appends the output samples they complete to *out.
  void Push(const int16_t* in, size_t n, std::vector<int16_t>* out);
  // The end of the block: appends the rest of the output (the block's total is then
  // in·out/in samples). The resampler is spent.
  void Finish(std::vector<int16_t>* out);

 private:
  void Run(const int16_t* in, size_t n, std::vector<int16_t>* out);

  const int in_rate_, out_rate_;
  std::unique_ptr<SpeexResamplerState_, void (*)(SpeexResamplerState_*)> st_;
  uint64_t in_total_ = 0;   // input samples pushed (without the flush)
  uint64_t out_total_ = 0;  // output samples appended
};

}  // namespace callvault::recording::internal
