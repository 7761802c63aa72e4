// Constructors of the concrete decoders behind codec.h's NewDecoder, and helpers they share.
// Private to codec/ (tests and the benchmark may use them); see codec.h for the contracts.
//
// Thread-safety: the helpers are pure functions; each decoder object is used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "codec/codec.h"

namespace callvault::codec::internal {

// The largest RTP payload a UDP datagram (or an RFC 4571 frame) can carry.
inline constexpr size_t kMaxPayloadBytes = 65535;

// G.711 (ITU-T G.711 §2, tables 1a/2a): PCM16 value of each 8-bit code, full scale (µ-law
// values ×4 of the 14-bit scale, A-law ×8 of the 13-bit scale).
int16_t UlawToLinear(uint8_t code);
int16_t AlawToLinear(uint8_t code);

// InvalidArgument "<codec>: <what> (<n> bytes)" when `payload` is empty or too large for RTP.
Status CheckPayloadSize(std::string_view codec, std::string_view payload);

// Repeat-and-fade loss concealment for codecs without their own PLC: remembers the last decoded
// frame (up to 20 ms) and, for a gap, repeats it with a gain falling linearly to 0 over 20 ms of
// consecutive concealment; the rest of the gap is silence.
class FadeConcealer {
 public:
  explicit FadeConcealer(int sample_rate);
  // Call after every good decode with the samples just appended (resets the fade).
  void Remember(const int16_t* samples, size_t n);
  void Conceal(int samples, std::vector<int16_t>* out);

 private:
  size_t max_history_;         // 20 ms
  size_t fade_samples_;        // 20 ms
  std::vector<int16_t> last_;  // the last decoded frame (≤ 20 ms)
  size_t concealed_ = 0;       // samples concealed since the last good decode
};

std::unique_ptr<Decoder> NewG711Decoder(bool alaw);
std::unique_ptr<Decoder> NewG722Decoder();
// REQUIRES: channels is 1 or 2.
Result<std::unique_ptr<Decoder>> NewOpusDecoder(int channels);
std::unique_ptr<Decoder> NewComfortNoiseDecoder(int sample_rate, int ptime_ms);
#if CALLVAULT_HAVE_G729
// In the separate cv_codec_g729 library (bcg729, GPL-3+).
std::unique_ptr<Decoder> NewG729Decoder();
#endif

}  // namespace callvault::codec::internal
