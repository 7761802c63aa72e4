// Helpers shared by the decoders (codec/internal/decoders.h): payload size checks, the
// repeat-and-fade concealer, and the comfort noise (RFC 3389) decoder.
#include <algorithm>
#include <string>

#include "codec/internal/decoders.h"

namespace callvault::codec::internal {

Status CheckPayloadSize(std::string_view codec, std::string_view payload) {
  if (payload.empty())
    return InvalidArgumentError(std::string(codec) + ": empty payload (0 bytes)");
  if (payload.size() > kMaxPayloadBytes) {
    return InvalidArgumentError(std::string(codec) + ": payload too large for RTP (" +
                                std::to_string(payload.size()) + " bytes)");
  }
  return Status::Ok();
}

FadeConcealer::FadeConcealer(int sample_rate)
    : max_history_(static_cast<size_t>(sample_rate) / 50),
      fade_samples_(static_cast<size_t>(sample_rate) / 50) {
  last_.reserve(max_history_);
}

void FadeConcealer::Remember(const int16_t* samples, size_t n) {
  const size_t keep = std::min(n, max_history_);
  last_.assign(samples + (n - keep), samples + n);
  concealed_ = 0;
}

void FadeConcealer::Conceal(int samples, std::vector<int16_t>* out) {
  if (samples <= 0) return;
  const size_t n = static_cast<size_t>(samples);
  const size_t start = out->size();
  out->resize(start + n, 0);  // silence, unless there is something to repeat below
  if (last_.empty()) return;
  for (size_t i = 0; i < n && concealed_ < fade_samples_; ++i, ++concealed_) {
    // Gain falls from 1 to 0 over fade_samples_; the history repeats cyclically.
    const int64_t gain_num = static_cast<int64_t>(fade_samples_ - concealed_);
    const int64_t sample = last_[concealed_ % last_.size()];
    (*out)[start + i] =
        static_cast<int16_t>(sample * gain_num / static_cast<int64_t>(fade_samples_));
  }
}

namespace {

// RFC 3389 comfort noise recorded as silence: a CN packet (noise level byte, optional spectral
// coefficients) stands for one frame of background noise; the decoder appends one frame of
// silence (a=ptime, or 20 ms when unknown). Gaps after it are silence too.
class ComfortNoiseDecoder final : public Decoder {
 public:
  static constexpr int kMaxPtimeMs = 200;  // a larger a=ptime is taken as unknown

  ComfortNoiseDecoder(int sample_rate, int ptime_ms)
      : sample_rate_(sample_rate),
        frame_samples_(static_cast<size_t>(
            sample_rate / 1000 * (ptime_ms > 0 && ptime_ms <= kMaxPtimeMs ? ptime_ms : 20))) {}

  int sample_rate() const override { return sample_rate_; }
  int samples_per_rtp_unit_milli() const override { return 1000; }

  Status Decode(std::string_view payload, std::vector<int16_t>* out) override {
    CV_RETURN_IF_ERROR(CheckPayloadSize("CN", payload));
    out->resize(out->size() + frame_samples_, 0);
    return Status::Ok();
  }

  void Conceal(int samples, std::vector<int16_t>* out) override {
    if (samples > 0) out->resize(out->size() + static_cast<size_t>(samples), 0);
  }

 private:
  int sample_rate_;
  size_t frame_samples_;
};

}  // namespace

std::unique_ptr<Decoder> NewComfortNoiseDecoder(int sample_rate, int ptime_ms) {
  return std::make_unique<ComfortNoiseDecoder>(sample_rate, ptime_ms);
}

}  // namespace callvault::codec::internal
