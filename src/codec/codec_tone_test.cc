// G.722 and Opus: a 1 kHz tone encoded here (spandsp's g722_encode, libopus) decodes to 1 kHz
// (±1 %) at the right level; and loss concealment behaves (PLC, fade, silence).
#include <gtest/gtest.h>
#include <opus.h>

#include <cmath>
#include <string>
#include <vector>

// telephony.h must come first (it defines SPAN_DECLARE).
// clang-format off
#include <spandsp/telephony.h>
#include <spandsp/g722.h>
// clang-format on

#if CALLVAULT_HAVE_G729
extern "C" {  // bcg729's headers lack extern "C"
#include <bcg729/encoder.h>
}
#endif

#include "codec/codec.h"
#include "codec/testing/test_util.h"

namespace callvault::codec {
namespace {

std::vector<int16_t> Sine(int sample_rate, double freq, double amplitude, int samples) {
  std::vector<int16_t> pcm(static_cast<size_t>(samples));
  for (int i = 0; i < samples; ++i) {
    pcm[i] =
        static_cast<int16_t>(std::lround(amplitude * std::sin(2 * M_PI * freq * i / sample_rate)));
  }
  return pcm;
}

std::unique_ptr<Decoder> MustDecoder(const CodecSpec& spec) {
  auto decoder = NewDecoder(spec);
  EXPECT_TRUE(decoder.ok()) << decoder.status().ToString();
  return decoder.ok() ? std::move(decoder).value() : nullptr;
}

// G.722 payloads of 20 ms (160 bytes) holding 1 s of a 1 kHz tone at 16 kHz.
std::vector<std::string> G722Tone(double amplitude) {
  const std::vector<int16_t> pcm = Sine(16000, 1000, amplitude, 16000);
  g722_encode_state_t* enc = g722_encode_init(nullptr, 64000, 0);
  std::vector<std::string> payloads;
  for (size_t off = 0; off < pcm.size(); off += 320) {
    std::string payload(160, '\0');
    const int n =
        g722_encode(enc, reinterpret_cast<uint8_t*>(payload.data()), pcm.data() + off, 320);
    payload.resize(static_cast<size_t>(n));
    payloads.push_back(payload);
  }
  g722_encode_free(enc);
  return payloads;
}

TEST(CodecToneTest, G722ToneIs1kHzAtFullScale) {
  auto decoder = MustDecoder({.name = "G722"});
  ASSERT_NE(decoder, nullptr);
  EXPECT_EQ(decoder->sample_rate(), 16000);
  EXPECT_EQ(decoder->samples_per_rtp_unit_milli(), 2000);
  std::vector<int16_t> pcm;
  for (const std::string& p : G722Tone(20000)) ASSERT_TRUE(decoder->Decode(p, &pcm).ok());
  ASSERT_EQ(pcm.size(), 16000u);
  EXPECT_NEAR(testing::DominantFrequency(pcm, 1600, 14400, 16000), 1000, 10);
  // Same level as the input (20000 peak → RMS 14142): not 14-bit scaled.
  EXPECT_NEAR(testing::Rms(pcm, 1600), 20000 / std::sqrt(2.0), 14142 * 0.05);
}

// Opus payloads of 20 ms holding 1 s of a 1 kHz tone (stereo: the tone on the left only when
// left_only, else on both channels).
std::vector<std::string> OpusTone(int channels, bool left_only = false) {
  int error = 0;
  OpusEncoder* enc = opus_encoder_create(48000, channels, OPUS_APPLICATION_AUDIO, &error);
  EXPECT_EQ(error, OPUS_OK);
  opus_encoder_ctl(enc, OPUS_SET_BITRATE(64000));
  const std::vector<int16_t> mono = Sine(48000, 1000, 10000, 48000);
  std::vector<int16_t> pcm;
  for (int16_t s : mono) {
    pcm.push_back(s);
    if (channels == 2) pcm.push_back(left_only ? 0 : s);
  }
  std::vector<std::string> payloads;
  for (size_t off = 0; off < mono.size(); off += 960) {
    std::string payload(1500, '\0');
    const int n = opus_encode(enc, pcm.data() + off * channels, 960,
                              reinterpret_cast<unsigned char*>(payload.data()), 1500);
    EXPECT_GT(n, 0);
    payload.resize(static_cast<size_t>(std::max(n, 0)));
    payloads.push_back(payload);
  }
  opus_encoder_destroy(enc);
  return payloads;
}

std::vector<int16_t> DecodeAll(Decoder* decoder, const std::vector<std::string>& payloads) {
  std::vector<int16_t> pcm;
  for (const std::string& p : payloads) EXPECT_TRUE(decoder->Decode(p, &pcm).ok());
  return pcm;
}

TEST(CodecToneTest, OpusMonoToneIs1kHz) {
  auto decoder = MustDecoder({.name = "opus", .clock_rate = 48000, .channels = 1});
  ASSERT_NE(decoder, nullptr);
  EXPECT_EQ(decoder->sample_rate(), 48000);
  EXPECT_EQ(decoder->samples_per_rtp_unit_milli(), 1000);
  const std::vector<int16_t> pcm = DecodeAll(decoder.get(), OpusTone(1));
  ASSERT_EQ(pcm.size(), 48000u);
  EXPECT_NEAR(testing::DominantFrequency(pcm, 4800, 43200, 48000), 1000, 10);
  EXPECT_NEAR(testing::Rms(pcm, 4800), 7071, 7071 * 0.1);
}

TEST(CodecToneTest, OpusStereoIsDownmixedToMono) {
  // rtpmap "opus/48000/2": the usual SDP spelling for every Opus stream.
  auto both = MustDecoder({.name = "OPUS", .clock_rate = 48000, .channels = 2});
  auto left = MustDecoder({.name = "Opus", .clock_rate = 48000, .channels = 2});
  ASSERT_NE(both, nullptr);
  ASSERT_NE(left, nullptr);
  const std::vector<int16_t> pcm = DecodeAll(both.get(), OpusTone(2));
  const std::vector<int16_t> half = DecodeAll(left.get(), OpusTone(2, /*left_only=*/true));
  ASSERT_EQ(pcm.size(), 48000u);  // mono: one sample per 48 kHz tick
  ASSERT_EQ(half.size(), 48000u);
  EXPECT_NEAR(testing::DominantFrequency(pcm, 4800, 43200, 48000), 1000, 10);
  EXPECT_NEAR(testing::DominantFrequency(half, 4800, 43200, 48000), 1000, 10);
  EXPECT_NEAR(testing::Rms(pcm, 4800), 7071, 7071 * 0.1);
  EXPECT_NEAR(testing::Rms(half, 4800), 7071 / 2.0, 7071 * 0.1);  // (L + 0) / 2
  // A mono stream decoded by the stereo decoder keeps its level.
  auto mono_in_stereo = MustDecoder({.name = "opus", .clock_rate = 48000, .channels = 2});
  EXPECT_NEAR(testing::Rms(DecodeAll(mono_in_stereo.get(), OpusTone(1)), 4800), 7071, 7071 * 0.1);
}

TEST(CodecToneTest, OpusConcealUsesPlcThenSilence) {
  auto decoder = MustDecoder({.name = "opus", .clock_rate = 48000, .channels = 1});
  ASSERT_NE(decoder, nullptr);
  std::vector<int16_t> pcm = DecodeAll(decoder.get(), OpusTone(1));
  const size_t start = pcm.size();
  decoder->Conceal(1000, &pcm);  // not a multiple of 2.5 ms
  ASSERT_EQ(pcm.size(), start + 1000);
  EXPECT_GT(testing::Rms(pcm, start, 480), 1000);  // PLC continues the tone at first
  const size_t gap = pcm.size();
  decoder->Conceal(48000, &pcm);
  ASSERT_EQ(pcm.size(), gap + 48000);
  EXPECT_EQ(testing::Rms(pcm, gap + 24000), 0);  // long gaps end in silence
  decoder->Conceal(0, &pcm);
  decoder->Conceal(-5, &pcm);
  EXPECT_EQ(pcm.size(), gap + 48000);
}

TEST(CodecToneTest, G722AndG711ConcealRepeatsAndFades) {
  auto decoder = MustDecoder({.name = "g722"});
  ASSERT_NE(decoder, nullptr);
  std::vector<int16_t> pcm;
  decoder->Conceal(320, &pcm);  // nothing decoded yet: silence
  EXPECT_EQ(testing::Rms(pcm), 0);
  pcm.clear();
  for (const std::string& p : G722Tone(20000)) ASSERT_TRUE(decoder->Decode(p, &pcm).ok());
  const size_t start = pcm.size();
  decoder->Conceal(960, &pcm);
  ASSERT_EQ(pcm.size(), start + 960);
  const double first = testing::Rms(pcm, start, 80);
  const double later = testing::Rms(pcm, start + 160, 80);
  EXPECT_GT(first, 10000);                       // the repeated tone at nearly full gain
  EXPECT_LT(later, first);                       // fading
  EXPECT_EQ(testing::Rms(pcm, start + 320), 0);  // silent after 20 ms
}

#if CALLVAULT_HAVE_G729
// G.729 payloads of 20 ms (two 10-byte frames) from bcg729's encoder; with VAD, frames the
// encoder marks as silence are 2-byte SID frames (sent) or 0 bytes (not sent, RFC 3551 §4.5.6).
std::vector<std::string> G729Encode(const std::vector<int16_t>& pcm, bool vad) {
  bcg729EncoderChannelContextStruct* enc = initBcg729EncoderChannel(vad ? 1 : 0);
  std::vector<std::string> payloads;
  std::string payload;
  for (size_t off = 0; off + 80 <= pcm.size(); off += 80) {
    uint8_t bits[10];
    uint8_t len = 0;
    bcg729Encoder(enc, pcm.data() + off, bits, &len);
    payload.append(reinterpret_cast<const char*>(bits), len);
    if ((off / 80) % 2 == 1) {
      if (!payload.empty()) payloads.push_back(payload);
      payload.clear();
    }
  }
  closeBcg729EncoderChannel(enc);
  return payloads;
}

TEST(CodecToneTest, G729ToneIs1kHz) {
  auto decoder = MustDecoder({.name = "G729"});
  ASSERT_NE(decoder, nullptr);
  const std::vector<int16_t> pcm =
      DecodeAll(decoder.get(), G729Encode(Sine(8000, 1000, 10000, 8000), /*vad=*/false));
  ASSERT_EQ(pcm.size(), 8000u);
  EXPECT_NEAR(testing::DominantFrequency(pcm, 800, 7200, 8000), 1000, 10);
  EXPECT_GT(testing::Rms(pcm, 800), 7071 * 0.5);
}

TEST(CodecToneTest, G729AnnexBSilenceIsSilent) {
  std::vector<int16_t> pcm = Sine(8000, 1000, 10000, 8000);
  pcm.resize(24000, 0);  // then 2 s of digital silence: VAD sends SID frames, then nothing
  const std::vector<std::string> payloads = G729Encode(pcm, /*vad=*/true);
  size_t sid_payloads = 0;
  for (const std::string& p : payloads) sid_payloads += p.size() % 10 == 2;
  EXPECT_GT(sid_payloads, 0u);
  auto decoder = MustDecoder({.name = "G729", .fmtp = "annexb=yes"});
  ASSERT_NE(decoder, nullptr);
  const std::vector<int16_t> out = DecodeAll(decoder.get(), payloads);
  EXPECT_LT(out.size(), pcm.size());  // untransmitted frames are the caller's gaps
  EXPECT_NEAR(testing::DominantFrequency(out, 800, 7200, 8000), 1000, 10);
  EXPECT_EQ(testing::Rms(out, out.size() - 80), 0);  // the last payload is a SID frame
}
#endif

}  // namespace
}  // namespace callvault::codec
