#include "recording/internal/resample.h"

#include <speex/speex_resampler.h>

#include <algorithm>
#include <memory>

namespace callvault::recording::internal {

std::vector<int16_t> Resample(const std::vector<int16_t>& in, int in_rate, int out_rate) {
  if (in_rate == out_rate || in.empty()) return in;
  StreamResampler r(in_rate, out_rate);
  std::vector<int16_t> out;
  out.reserve(static_cast<size_t>(static_cast<int64_t>(in.size()) * out_rate / in_rate) + 64);
  r.Push(in.data(), in.size(), &out);
  r.Finish(&out);
  return out;
}

StreamResampler::StreamResampler(int in_rate, int out_rate)
    : in_rate_(in_rate), out_rate_(out_rate), st_(nullptr, speex_resampler_destroy) {
  if (in_rate_ == out_rate_) return;
  int err = 0;
  st_.reset(speex_resampler_init(1, static_cast<spx_uint32_t>(in_rate),
                                 static_cast<spx_uint32_t>(out_rate), SPEEX_RESAMPLER_QUALITY_VOIP,
                                 &err));
  if (st_ != nullptr) speex_resampler_skip_zeros(st_.get());
}

StreamResampler::~StreamResampler() = default;

void StreamResampler::Run(const int16_t* in, size_t n, std::vector<int16_t>* out) {
  size_t in_pos = 0;
  while (in_pos < n) {
    const size_t room =
        (n - in_pos) * static_cast<size_t>(out_rate_) / static_cast<size_t>(in_rate_) + 64;
    const size_t at = out->size();
    out->resize(at + room);
    spx_uint32_t in_len = static_cast<spx_uint32_t>(n - in_pos);
    spx_uint32_t out_len = static_cast<spx_uint32_t>(room);
    speex_resampler_process_int(st_.get(), 0, in + in_pos, &in_len, out->data() + at, &out_len);
    out->resize(at + out_len);
    out_total_ += out_len;
    in_pos += in_len;
    if (in_len == 0 && out_len == 0) break;
  }
}

void StreamResampler::Push(const int16_t* in, size_t n, std::vector<int16_t>* out) {
  in_total_ += n;
  if (in_rate_ == out_rate_) {
    out->insert(out->end(), in, in + n);
    out_total_ += n;
    return;
  }
  if (st_ == nullptr) return;  // init failed: Finish() pads with silence
  Run(in, n, out);
}

void StreamResampler::Finish(std::vector<int16_t>* out) {
  if (in_rate_ == out_rate_) return;
  const uint64_t want =
      in_total_ * static_cast<uint64_t>(out_rate_) / static_cast<uint64_t>(in_rate_);
  const size_t before = out->size();
  if (st_ != nullptr && in_total_ > 0) {
    const std::vector<int16_t> zeros(
        static_cast<size_t>(speex_resampler_get_input_latency(st_.get())) + 8, 0);
    Run(zeros.data(), zeros.size(), out);
  }
  if (out_total_ > want) {  // the flush's tail beyond the block
    const size_t cut =
        static_cast<size_t>(std::min<uint64_t>(out_total_ - want, out->size() - before));
    out->resize(out->size() - cut);
    out_total_ -= cut;
  }
  if (out_total_ < want) {
    out->resize(out->size() + static_cast<size_t>(want - out_total_), 0);
    out_total_ = want;
  }
}

}  // namespace callvault::recording::internal
