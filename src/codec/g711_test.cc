// G.711 decoding against a reference encoder written here from ITU-T G.711's rules, the
// standard table values, and 1 kHz tones encoded by sox.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "codec/codec.h"
#include "codec/internal/decoders.h"
#include "codec/testing/test_util.h"

namespace callvault::codec {
namespace {

using internal::AlawToLinear;
using internal::UlawToLinear;

// µ-law encoder (G.711 §3): bias 132, clip at 32635, segment = highest set bit, 4-bit mantissa,
// sign bit 0x80 for negative values, all bits inverted.
uint8_t ReferenceUlaw(int x) {
  const int sign = x < 0 ? 0x80 : 0;
  int magnitude = (x < 0 ? -x : x);
  if (magnitude > 32635) magnitude = 32635;
  magnitude += 132;
  int exponent = 7;
  for (int mask = 0x4000; (magnitude & mask) == 0 && exponent > 0; mask >>= 1) --exponent;
  const int mantissa = (magnitude >> (exponent + 3)) & 0x0F;
  return static_cast<uint8_t>(~(sign | exponent << 4 | mantissa));
}

// A-law encoder (G.711 §2) on the 13-bit magnitude (16-bit value / 8): segment 0 and 1 have
// step 2, each further segment doubles; sign bit 0x80 for positive values; even bits inverted.
uint8_t ReferenceAlaw(int x) {
  const int sign = x >= 0 ? 0x80 : 0;
  int magnitude = (x >= 0 ? x : -x) >> 3;
  if (magnitude > 4095) magnitude = 4095;
  int exponent = 0;
  if (magnitude >= 32) {
    exponent = 1;
    while ((magnitude >> (exponent + 5)) != 0) ++exponent;
  }
  const int mantissa = (magnitude >> (exponent == 0 ? 1 : exponent)) & 0x0F;
  return static_cast<uint8_t>((sign | exponent << 4 | mantissa) ^ 0x55);
}

TEST(G711Test, StandardValues) {
  EXPECT_EQ(UlawToLinear(0x00), -32124);
  EXPECT_EQ(UlawToLinear(0x80), 32124);
  EXPECT_EQ(UlawToLinear(0xFF), 0);
  EXPECT_EQ(UlawToLinear(0x7F), 0);  // "negative zero"
  EXPECT_EQ(UlawToLinear(0xFE), 8);
  EXPECT_EQ(UlawToLinear(0x7E), -8);
  EXPECT_EQ(UlawToLinear(0xEF), 132);   // segment 1, mantissa 0: (0·8 + 132)·2 - 132
  EXPECT_EQ(UlawToLinear(0x70), -120);  // segment 0, mantissa 15: 15·8 + 132 - 132
  EXPECT_EQ(AlawToLinear(0xD5), 8);
  EXPECT_EQ(AlawToLinear(0x55), -8);
  EXPECT_EQ(AlawToLinear(0xAA), 32256);
  EXPECT_EQ(AlawToLinear(0x2A), -32256);
  EXPECT_EQ(AlawToLinear(0xC5), 264);  // segment 1, mantissa 0: (0 + 264) << 0
}

TEST(G711Test, AllCodesRoundTripThroughReferenceEncoder) {
  for (int code = 0; code < 256; ++code) {
    const auto c = static_cast<uint8_t>(code);
    // µ-law has two zeros; the encoder writes +0 (0xFF).
    EXPECT_EQ(ReferenceUlaw(UlawToLinear(c)), code == 0x7F ? 0xFF : code) << "µ-law " << code;
    EXPECT_EQ(ReferenceAlaw(AlawToLinear(c)), code) << "A-law " << code;
  }
}

TEST(G711Test, DecodedValuesAreSymmetricAndMonotonic) {
  for (int code = 0; code < 128; ++code) {
    EXPECT_EQ(UlawToLinear(static_cast<uint8_t>(code)),
              -UlawToLinear(static_cast<uint8_t>(code | 0x80)));
    EXPECT_EQ(AlawToLinear(static_cast<uint8_t>(code)),
              -AlawToLinear(static_cast<uint8_t>(code | 0x80)));
  }
  // Over the whole 16-bit range, encode → decode never moves further than half a step, and the
  // reconstruction never decreases as the input grows.
  int prev_u = -32768, prev_a = -32768;
  for (int x = -32768; x <= 32767; ++x) {
    const int u = UlawToLinear(ReferenceUlaw(x));
    const int a = AlawToLinear(ReferenceAlaw(x));
    ASSERT_GE(u, prev_u) << x;
    ASSERT_GE(a, prev_a) << x;
    prev_u = u, prev_a = a;
    const int clipped_u = std::clamp(x, -32124, 32124);
    const int clipped_a = std::clamp(x, -32256, 32256);
    ASSERT_LE(std::abs(u - clipped_u), std::abs(clipped_u) / 16 + 8) << x;
    ASSERT_LE(std::abs(a - clipped_a), std::abs(clipped_a) / 16 + 16) << x;
  }
}

TEST(G711Test, DecoderUsesTheTables) {
  for (const char* name : {"PCMU", "pcma"}) {
    auto decoder = NewDecoder({.name = name});
    ASSERT_TRUE(decoder.ok()) << decoder.status().ToString();
    std::string payload;
    for (int i = 0; i < 256; ++i) payload.push_back(static_cast<char>(i));
    std::vector<int16_t> out = {42};
    ASSERT_TRUE((*decoder)->Decode(payload, &out).ok());
    ASSERT_EQ(out.size(), 257u);
    EXPECT_EQ(out[0], 42);  // appended, not replaced
    const bool alaw = std::string(name) == "pcma";
    for (int i = 0; i < 256; ++i) {
      EXPECT_EQ(out[i + 1], alaw ? AlawToLinear(i) : UlawToLinear(i)) << name << " " << i;
    }
    EXPECT_EQ((*decoder)->sample_rate(), 8000);
    EXPECT_EQ((*decoder)->samples_per_rtp_unit_milli(), 1000);
  }
}

// A 1 s, 1 kHz sine made by sox in the given encoding decodes to a 1 kHz tone (±1 %).
void ExpectSoxTone(const std::string& codec, const std::string& sox_encoding) {
  if (std::system("command -v sox >/dev/null 2>&1") != 0) GTEST_SKIP() << "sox not installed";
  const std::string dir = testing::MakeTempDir();
  ASSERT_FALSE(dir.empty());
  const std::string file = dir + "/tone.raw";
  const std::string cmd =
      "sox -n -r 8000 -c 1 -e " + sox_encoding + " -t raw " + file + " synth 1 sine 1000 vol 0.5";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const auto bytes = testing::ReadFile(file);
  std::system(("rm -rf " + dir).c_str());
  ASSERT_TRUE(bytes.has_value());
  ASSERT_EQ(bytes->size(), 8000u);

  auto decoder = NewDecoder({.name = codec});
  ASSERT_TRUE(decoder.ok());
  std::vector<int16_t> pcm;
  for (size_t off = 0; off < bytes->size(); off += 160) {
    ASSERT_TRUE((*decoder)->Decode(std::string_view(*bytes).substr(off, 160), &pcm).ok());
  }
  ASSERT_EQ(pcm.size(), 8000u);
  const double f = testing::DominantFrequency(pcm, 0, pcm.size(), 8000);
  EXPECT_NEAR(f, 1000, 10) << codec;
  // Half of full scale: RMS ≈ 0.5 · 32767 / √2 ≈ 11585.
  EXPECT_NEAR(testing::Rms(pcm), 11585, 11585 * 0.05) << codec;
}

TEST(G711Test, SoxAlawToneIs1kHz) { ExpectSoxTone("PCMA", "a-law"); }
TEST(G711Test, SoxUlawToneIs1kHz) { ExpectSoxTone("PCMU", "u-law"); }

}  // namespace
}  // namespace callvault::codec
