// Opus (RFC 7587; dynamic PT, rtpmap always "opus/48000/2") through libopus, decoded at 48 kHz.
// A decoder made for 2 channels decodes stereo and downmixes (L+R)/2 to mono; mono packets in a
// stereo stream come out with L == R. Conceal uses libopus's PLC (opus_decode with no data).
#include <opus.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "codec/internal/decoders.h"

namespace callvault::codec::internal {
namespace {

constexpr int kSampleRate = 48000;
constexpr int kMaxFrameSamples = kSampleRate * 120 / 1000;  // the longest Opus packet: 120 ms
constexpr int kPlcStep = kSampleRate * 20 / 1000;           // conceal in 20 ms frames
constexpr int kPlcQuantum = kSampleRate * 25 / 10000;       // PLC sizes: multiples of 2.5 ms
constexpr int kMaxPlcSamples = kSampleRate / 5;             // after 200 ms of PLC: silence

struct OpusDecoderFree {
  void operator()(OpusDecoder* d) const { opus_decoder_destroy(d); }
};

class OpusAudioDecoder final : public Decoder {
 public:
  OpusAudioDecoder(OpusDecoder* decoder, int channels)
      : decoder_(decoder),
        channels_(channels),
        pcm_(static_cast<size_t>(kMaxFrameSamples * channels)) {}

  int sample_rate() const override { return kSampleRate; }
  int samples_per_rtp_unit_milli() const override { return 1000; }

  Status Decode(std::string_view payload, std::vector<int16_t>* out) override {
    CV_RETURN_IF_ERROR(CheckPayloadSize("opus", payload));
    const auto* data = reinterpret_cast<const unsigned char*>(payload.data());
    const auto len = static_cast<opus_int32>(payload.size());
    const int expected = opus_packet_get_nb_samples(data, len, kSampleRate);
    if (expected < 0 || expected > kMaxFrameSamples) {
      return InvalidArgumentError("opus: malformed packet (" + std::to_string(payload.size()) +
                                  " bytes): " + Reason(expected));
    }
    const int n = opus_decode(decoder_.get(), data, len, pcm_.data(), kMaxFrameSamples, 0);
    if (n < 0) {
      return InvalidArgumentError("opus: cannot decode packet (" + std::to_string(payload.size()) +
                                  " bytes): " + Reason(n));
    }
    Append(n, out);
    plc_samples_ = 0;
    return Status::Ok();
  }

  void Conceal(int samples, std::vector<int16_t>* out) override {
    while (samples > 0 && plc_samples_ < kMaxPlcSamples) {
      // PLC frames must be a multiple of 2.5 ms: round up and drop the excess.
      int step = std::min(samples, kPlcStep);
      step = (step + kPlcQuantum - 1) / kPlcQuantum * kPlcQuantum;
      const int n = opus_decode(decoder_.get(), nullptr, 0, pcm_.data(), step, 0);
      if (n <= 0) break;
      const int used = std::min(n, samples);
      Append(used, out);
      samples -= used;
      plc_samples_ += used;
    }
    if (samples > 0) out->resize(out->size() + static_cast<size_t>(samples), 0);
  }

 private:
  static std::string Reason(int error) {
    return error < 0 ? opus_strerror(error) : "longer than 120 ms";
  }

  // Appends n samples per channel from pcm_, downmixed to mono.
  void Append(int n, std::vector<int16_t>* out) {
    const size_t start = out->size();
    out->resize(start + static_cast<size_t>(n));
    int16_t* dst = out->data() + start;
    if (channels_ == 1) {
      std::copy(pcm_.begin(), pcm_.begin() + n, dst);
      return;
    }
    for (int i = 0; i < n; ++i) {
      dst[i] = static_cast<int16_t>((pcm_[2 * i] + pcm_[2 * i + 1]) / 2);
    }
  }

  std::unique_ptr<OpusDecoder, OpusDecoderFree> decoder_;
  int channels_;
  std::vector<opus_int16> pcm_;  // interleaved decode buffer, 120 ms
  int plc_samples_ = 0;          // concealed since the last good packet
};

}  // namespace

Result<std::unique_ptr<Decoder>> NewOpusDecoder(int channels) {
  CV_CHECK(channels == 1 || channels == 2);
  int error = OPUS_OK;
  OpusDecoder* decoder = opus_decoder_create(kSampleRate, channels, &error);
  if (decoder == nullptr || error != OPUS_OK) {
    if (decoder != nullptr) opus_decoder_destroy(decoder);
    return InternalError(std::string("opus: opus_decoder_create: ") + opus_strerror(error));
  }
  return std::unique_ptr<Decoder>(std::make_unique<OpusAudioDecoder>(decoder, channels));
}

}  // namespace callvault::codec::internal
