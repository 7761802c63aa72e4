// G.729 / G.729A (RTP PT 18, RFC 3551 §4.5.6) through bcg729 — GPL-3+: this file is built into
// its own library, cv_codec_g729, linked only with CALLVAULT_G729=ON (see CMakeLists.txt).
//
// A payload holds N 10-byte frames (10 ms, 80 samples each) followed by at most one 2-byte
// Annex B SID frame. A SID frame starts a silence period: it is recorded as 10 ms of silence
// ("comfort silence"), and Conceal stays silent until the next speech frame. Otherwise Conceal
// runs bcg729's frame-erasure concealment (G.729 §4.4) for up to 200 ms, then silence.
#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

extern "C" {  // bcg729's headers lack extern "C" (DESIGN.md §Dependencies)
#include <bcg729/decoder.h>
}

#include "codec/internal/decoders.h"

namespace callvault::codec::internal {
namespace {

constexpr size_t kFrameBytes = 10;
constexpr size_t kSidBytes = 2;
constexpr int kFrameSamples = 80;
constexpr int kMaxPlcSamples = 8000 / 5;  // 200 ms

struct Bcg729Free {
  void operator()(bcg729DecoderChannelContextStruct* c) const { closeBcg729DecoderChannel(c); }
};

class G729Decoder final : public Decoder {
 public:
  G729Decoder() : channel_(initBcg729DecoderChannel()) {
    CV_CHECK_MSG(channel_ != nullptr, "initBcg729DecoderChannel failed (out of memory)");
  }

  int sample_rate() const override { return 8000; }
  int samples_per_rtp_unit_milli() const override { return 1000; }

  Status Decode(std::string_view payload, std::vector<int16_t>* out) override {
    CV_RETURN_IF_ERROR(CheckPayloadSize("G729", payload));
    const size_t rest = payload.size() % kFrameBytes;
    if (rest != 0 && rest != kSidBytes) {
      return InvalidArgumentError("G729: payload of " + std::to_string(payload.size()) +
                                  " bytes is not N×10 bytes (+ a 2-byte SID frame)");
    }
    const size_t frames = payload.size() / kFrameBytes;
    const auto* data = reinterpret_cast<const uint8_t*>(payload.data());
    const size_t start = out->size();
    out->resize(start + frames * kFrameSamples + (rest != 0 ? kFrameSamples : 0), 0);
    for (size_t i = 0; i < frames; ++i) {
      bcg729Decoder(channel_.get(), data + i * kFrameBytes, kFrameBytes, /*frameErasureFlag=*/0,
                    /*SIDFrameFlag=*/0, /*rfc3389PayloadFlag=*/0,
                    out->data() + start + i * kFrameSamples);
    }
    // A trailing SID frame leaves its 80 samples at zero (resize above).
    silent_ = rest != 0;
    plc_samples_ = 0;
    return Status::Ok();
  }

  void Conceal(int samples, std::vector<int16_t>* out) override {
    if (samples <= 0) return;
    const size_t start = out->size();
    out->resize(start + static_cast<size_t>(samples), 0);
    std::array<int16_t, kFrameSamples> frame;
    static constexpr std::array<uint8_t, kFrameBytes> kNoBits{};
    size_t done = 0;
    while (!silent_ && done < static_cast<size_t>(samples) && plc_samples_ < kMaxPlcSamples) {
      bcg729Decoder(channel_.get(), kNoBits.data(), kFrameBytes, /*frameErasureFlag=*/1, 0, 0,
                    frame.data());
      const size_t used = std::min<size_t>(kFrameSamples, static_cast<size_t>(samples) - done);
      std::copy_n(frame.begin(), used, out->begin() + static_cast<ptrdiff_t>(start + done));
      done += used;
      plc_samples_ += kFrameSamples;
    }
  }

 private:
  std::unique_ptr<bcg729DecoderChannelContextStruct, Bcg729Free> channel_;
  bool silent_ = false;  // the last payload ended with a SID frame (Annex B DTX)
  int plc_samples_ = 0;  // concealed since the last good payload
};

}  // namespace

std::unique_ptr<Decoder> NewG729Decoder() { return std::make_unique<G729Decoder>(); }

}  // namespace callvault::codec::internal
