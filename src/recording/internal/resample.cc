#include "recording/internal/resample.h"

#include <speex/speex_resampler.h>

#include <memory>

namespace callvault::recording::internal {

std::vector<int16_t> Resample(const std::vector<int16_t>& in, int in_rate, int out_rate) {
  if (in_rate == out_rate || in.empty()) return in;
  int err = 0;
  std::unique_ptr<SpeexResamplerState, void (*)(SpeexResamplerState*)> st(
      speex_resampler_init(1, static_cast<spx_uint32_t>(in_rate),
                           static_cast<spx_uint32_t>(out_rate), SPEEX_RESAMPLER_QUALITY_VOIP, &err),
      speex_resampler_destroy);
  if (st == nullptr) return {};
  speex_resampler_skip_zeros(st.get());
  const size_t want = static_cast<size_t>(static_cast<int64_t>(in.size()) * out_rate / in_rate);
  std::vector<int16_t> out(want + 64);
  std::vector<int16_t> input = in;
  input.resize(in.size() + static_cast<size_t>(speex_resampler_get_input_latency(st.get())) + 8, 0);
  size_t in_pos = 0, out_pos = 0;
  while (in_pos < input.size() && out_pos < out.size()) {
    spx_uint32_t in_len = static_cast<spx_uint32_t>(input.size() - in_pos);
    spx_uint32_t out_len = static_cast<spx_uint32_t>(out.size() - out_pos);
    speex_resampler_process_int(st.get(), 0, input.data() + in_pos, &in_len, out.data() + out_pos,
                                &out_len);
    if (in_len == 0 && out_len == 0) break;
    in_pos += in_len;
    out_pos += out_len;
  }
  out.resize(std::min(out_pos, want));
  out.resize(want, 0);
  return out;
}

}  // namespace callvault::recording::internal
