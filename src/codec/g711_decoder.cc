// G.711 µ-law (PCMU, RTP PT 0) and A-law (PCMA, RTP PT 8) decoders, RFC 3551 §4.5.14: one
// byte per sample at 8 kHz. The 256-entry tables are built at compile time from ITU-T G.711's
// decoding rules (segment/exponent + mantissa), not copied from any implementation.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codec/internal/decoders.h"

namespace callvault::codec::internal {
namespace {

// µ-law (G.711 table 2a): the code is sent inverted; sign bit 7 (1 = negative after inversion),
// exponent bits 4-6, mantissa bits 0-3; magnitude = ((mantissa·8 + 132) << exponent) - 132 on
// the 16-bit scale, i.e. the 14-bit table value ×4.
constexpr int16_t DecodeUlaw(uint8_t code) {
  const int inverted = static_cast<uint8_t>(~code);
  const int exponent = (inverted >> 4) & 0x07;
  const int mantissa = inverted & 0x0F;
  const int magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return static_cast<int16_t>((inverted & 0x80) ? -magnitude : magnitude);
}

// A-law (G.711 table 1a): even bits are inverted (XOR 0x55); sign bit 7 (1 = positive), exponent
// bits 4-6, mantissa bits 0-3; magnitude = mantissa·16 + 8 in segment 0, else
// (mantissa·16 + 264) << (exponent - 1), i.e. the 13-bit table value ×8.
constexpr int16_t DecodeAlaw(uint8_t code) {
  const int toggled = code ^ 0x55;
  const int exponent = (toggled >> 4) & 0x07;
  const int mantissa = toggled & 0x0F;
  const int magnitude =
      exponent == 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return static_cast<int16_t>((toggled & 0x80) ? magnitude : -magnitude);
}

template <int16_t (*kDecode)(uint8_t)>
constexpr std::array<int16_t, 256> MakeTable() {
  std::array<int16_t, 256> table{};
  for (int i = 0; i < 256; ++i) table[i] = kDecode(static_cast<uint8_t>(i));
  return table;
}

constexpr std::array<int16_t, 256> kUlaw = MakeTable<DecodeUlaw>();
constexpr std::array<int16_t, 256> kAlaw = MakeTable<DecodeAlaw>();

// Spot values from G.711's tables: full scale, zero and the smallest steps.
static_assert(kUlaw[0x00] == -32124 && kUlaw[0x80] == 32124 && kUlaw[0xFF] == 0 &&
              kUlaw[0x7F] == 0 && kUlaw[0xFE] == 8 && kUlaw[0x7E] == -8);
static_assert(kAlaw[0xD5] == 8 && kAlaw[0x55] == -8 && kAlaw[0xAA] == 32256 &&
              kAlaw[0x2A] == -32256);

constexpr int kSampleRate = 8000;

class G711Decoder final : public Decoder {
 public:
  explicit G711Decoder(bool alaw)
      : name_(alaw ? "PCMA" : "PCMU"), table_(alaw ? kAlaw : kUlaw), concealer_(kSampleRate) {}

  int sample_rate() const override { return kSampleRate; }
  int samples_per_rtp_unit_milli() const override { return 1000; }

  Status Decode(std::string_view payload, std::vector<int16_t>* out) override {
    CV_RETURN_IF_ERROR(CheckPayloadSize(name_, payload));
    const size_t start = out->size();
    out->resize(start + payload.size());
    int16_t* dst = out->data() + start;
    for (size_t i = 0; i < payload.size(); ++i) dst[i] = table_[static_cast<uint8_t>(payload[i])];
    concealer_.Remember(dst, payload.size());
    return Status::Ok();
  }

  void Conceal(int samples, std::vector<int16_t>* out) override {
    concealer_.Conceal(samples, out);
  }

 private:
  std::string_view name_;
  const std::array<int16_t, 256>& table_;
  FadeConcealer concealer_;
};

}  // namespace

int16_t UlawToLinear(uint8_t code) { return kUlaw[code]; }
int16_t AlawToLinear(uint8_t code) { return kAlaw[code]; }

std::unique_ptr<Decoder> NewG711Decoder(bool alaw) { return std::make_unique<G711Decoder>(alaw); }

}  // namespace callvault::codec::internal
