// G.722 (RTP PT 9) through spandsp: 64 kbit/s, one byte per two 16 kHz samples. The RTP clock
// says 8000 but the audio is sampled at 16000 (RFC 3551 §4.5.2), hence 2000 samples per 1000
// RTP units. spandsp's decoder (without G722_SAMPLE_RATE_8000) already returns full-scale PCM16:
// its QMF output is scaled back to 16 bits, so its encoder → decoder round trip keeps the level
// (codec_tone_test checks this), and no rescaling from the 14-bit G.722 core is needed here.
//
// Only <spandsp/telephony.h> and <spandsp/g722.h> are included: the umbrella <spandsp.h> pulls
// in <tiffio.h> (for fax) and lives under /usr/include/x86_64-linux-gnu on Debian.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

// telephony.h must come first (it defines SPAN_DECLARE).
// clang-format off
#include <spandsp/telephony.h>
#include <spandsp/g722.h>
// clang-format on

#include "codec/internal/decoders.h"

namespace callvault::codec::internal {
namespace {

constexpr int kSampleRate = 16000;

struct G722StateFree {
  void operator()(g722_decode_state_t* s) const { g722_decode_free(s); }
};

class G722Decoder final : public Decoder {
 public:
  G722Decoder() : state_(g722_decode_init(nullptr, 64000, 0)), concealer_(kSampleRate) {
    CV_CHECK_MSG(state_ != nullptr, "g722_decode_init failed (out of memory)");
  }

  int sample_rate() const override { return kSampleRate; }
  int samples_per_rtp_unit_milli() const override { return 2000; }

  Status Decode(std::string_view payload, std::vector<int16_t>* out) override {
    CV_RETURN_IF_ERROR(CheckPayloadSize("G722", payload));
    const size_t start = out->size();
    out->resize(start + 2 * payload.size());
    const int n = g722_decode(state_.get(), out->data() + start,
                              reinterpret_cast<const uint8_t*>(payload.data()),
                              static_cast<int>(payload.size()));
    if (n < 0 || static_cast<size_t>(n) > 2 * payload.size()) {
      out->resize(start);
      return InternalError("G722: g722_decode returned " + std::to_string(n) + " for " +
                           std::to_string(payload.size()) + " bytes");
    }
    out->resize(start + static_cast<size_t>(n));
    concealer_.Remember(out->data() + start, static_cast<size_t>(n));
    return Status::Ok();
  }

  void Conceal(int samples, std::vector<int16_t>* out) override {
    concealer_.Conceal(samples, out);
  }

 private:
  std::unique_ptr<g722_decode_state_t, G722StateFree> state_;
  FadeConcealer concealer_;
};

}  // namespace

std::unique_ptr<Decoder> NewG722Decoder() { return std::make_unique<G722Decoder>(); }

}  // namespace callvault::codec::internal
