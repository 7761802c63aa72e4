// codec.h: names and RTP mappings, errors for what this build cannot decode, payload size
// errors, comfort noise, telephone-event parsing, and random payloads never crashing.
#include "codec/codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace callvault::codec {
namespace {

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

TEST(CodecTest, NamesAreCaseInsensitive) {
  for (const char* name : {"pcmu", "PCMU", "Pcma", "G722", "g722", "CN", "cn"}) {
    EXPECT_TRUE(CanDecode({.name = name})) << name;
    EXPECT_TRUE(NewDecoder({.name = name}).ok()) << name;
  }
  for (const char* name : {"opus", "OPUS"}) {
    EXPECT_TRUE(CanDecode({.name = name, .clock_rate = 48000, .channels = 2})) << name;
  }
  EXPECT_TRUE(CanDecode({.name = "TELEPHONE-EVENT"}));
  EXPECT_EQ(CanDecode({.name = "g729"}), CALLVAULT_HAVE_G729 != 0);
}

TEST(CodecTest, UnsupportedCodecsAreRejectedByName) {
  for (const char* name : {"GSM", "G723", "iLBC", "AMR", "AMR-WB", "speex", "G726-32", "", "PCM"}) {
    EXPECT_FALSE(CanDecode({.name = name})) << name;
    auto decoder = NewDecoder({.name = name});
    ASSERT_FALSE(decoder.ok()) << name;
    EXPECT_EQ(decoder.status().code(), StatusCode::kUnimplemented);
    EXPECT_TRUE(Contains(decoder.status().message(), std::string(name) + "/8000")) << name;
  }
}

TEST(CodecTest, WrongClockRateOrChannelsIsRejected) {
  EXPECT_FALSE(CanDecode({.name = "PCMU", .clock_rate = 16000}));
  EXPECT_FALSE(CanDecode({.name = "PCMA", .channels = 2}));
  EXPECT_FALSE(CanDecode({.name = "G722", .clock_rate = 16000}));  // RFC 3551 says 8000
  EXPECT_FALSE(CanDecode({.name = "opus", .clock_rate = 8000}));
  EXPECT_FALSE(CanDecode({.name = "opus", .clock_rate = 48000, .channels = 3}));
  EXPECT_TRUE(CanDecode({.name = "CN", .clock_rate = 16000}));
  EXPECT_FALSE(CanDecode({.name = "CN", .clock_rate = 11025}));
  auto decoder = NewDecoder({.name = "PCMU", .clock_rate = 16000});
  ASSERT_FALSE(decoder.ok());
  EXPECT_EQ(decoder.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(decoder.status().message(), "PCMU/16000"));
}

TEST(CodecTest, DecodableCodecsListsWhatCanDecodeAccepts) {
  const std::vector<std::string> names = DecodableCodecs();
  EXPECT_EQ(names.front(), "opus");
  EXPECT_EQ(std::count(names.begin(), names.end(), "G729"), CALLVAULT_HAVE_G729 ? 1 : 0);
  for (const std::string& name : names) {
    const int rate = name == "opus" ? 48000 : 8000;
    EXPECT_TRUE(CanDecode({.name = name, .clock_rate = rate})) << name;
  }
}

TEST(CodecTest, TelephoneEventIsNotAudio) {
  auto decoder = NewDecoder({.name = "telephone-event"});
  ASSERT_FALSE(decoder.ok());
  EXPECT_TRUE(Contains(decoder.status().message(), "ParseTelephoneEvent"));
}

TEST(CodecTest, ParseTelephoneEvent) {
  // '#', end, volume 10, duration 1000 (RFC 4733 §2.3 layout).
  auto e = ParseTelephoneEvent(std::string("\x0b\x8a\x03\xe8", 4));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->event, 11);
  EXPECT_TRUE(e->end);
  EXPECT_EQ(e->volume, 10);
  EXPECT_EQ(e->duration, 1000);
  EXPECT_EQ(e->Digit(), '#');
  // The R bit is ignored; extra bytes (more events) are ignored: the first one counts.
  e = ParseTelephoneEvent(std::string("\x05\x7f\xff\xff\x06\x80\x00\x01", 8));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->event, 5);
  EXPECT_FALSE(e->end);
  EXPECT_EQ(e->volume, 63);
  EXPECT_EQ(e->duration, 65535);
  EXPECT_FALSE(ParseTelephoneEvent("").has_value());
  EXPECT_FALSE(ParseTelephoneEvent("abc").has_value());
  const std::string digits = "0123456789*#ABCD";
  for (int i = 0; i < 16; ++i) EXPECT_EQ(TelephoneEvent{.event = i}.Digit(), digits[i]);
  EXPECT_EQ(TelephoneEvent{.event = 16}.Digit(), '?');  // flash and beyond
  EXPECT_EQ(TelephoneEvent{.event = 255}.Digit(), '?');
}

TEST(CodecTest, ComfortNoiseIsSilenceOfOneFrame) {
  auto cn = NewDecoder({.name = "CN"});
  ASSERT_TRUE(cn.ok());
  std::vector<int16_t> out;
  ASSERT_TRUE((*cn)->Decode(std::string("\x40", 1), &out).ok());              // level only
  EXPECT_EQ(out.size(), 160u);                                                // 20 ms at 8 kHz
  ASSERT_TRUE((*cn)->Decode(std::string("\x40\x01\x02\x03", 4), &out).ok());  // + spectrum
  EXPECT_EQ(out.size(), 320u);
  EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](int16_t s) { return s == 0; }));
  EXPECT_FALSE((*cn)->Decode("", &out).ok());
  auto wide = NewDecoder({.name = "CN", .clock_rate = 16000, .ptime_ms = 30});
  ASSERT_TRUE(wide.ok());
  out.clear();
  ASSERT_TRUE((*wide)->Decode("\x20", &out).ok());
  EXPECT_EQ(out.size(), 480u);
  (*wide)->Conceal(100, &out);
  EXPECT_EQ(out.size(), 580u);
}

TEST(CodecTest, WrongSizesNameCodecAndSize) {
  for (const char* name : {"PCMU", "PCMA", "G722", "CN"}) {
    auto decoder = NewDecoder({.name = name});
    ASSERT_TRUE(decoder.ok());
    std::vector<int16_t> out;
    const Status s = (*decoder)->Decode("", &out);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(Contains(s.message(), name)) << s.ToString();
    EXPECT_TRUE(Contains(s.message(), "0 bytes")) << s.ToString();
    EXPECT_TRUE(out.empty());
  }
  auto opus = NewDecoder({.name = "opus", .clock_rate = 48000, .channels = 2});
  ASSERT_TRUE(opus.ok());
  std::vector<int16_t> out;
  // TOC code 3 (arbitrary frame count) without its frame count byte is malformed.
  const Status s = (*opus)->Decode("\x03", &out);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.message(), "opus")) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "1 bytes")) << s.ToString();
  EXPECT_TRUE(out.empty());
}

#if CALLVAULT_HAVE_G729
TEST(CodecTest, G729PayloadSizes) {
  auto decoder = NewDecoder({.name = "G729"});
  ASSERT_TRUE(decoder.ok());
  EXPECT_EQ((*decoder)->sample_rate(), 8000);
  std::vector<int16_t> out;
  for (size_t size : {1u, 7u, 9u, 11u, 13u, 25u}) {
    const Status s = (*decoder)->Decode(std::string(size, '\x55'), &out);
    EXPECT_FALSE(s.ok()) << size;
    EXPECT_TRUE(Contains(s.message(), "G729")) << s.ToString();
    EXPECT_TRUE(Contains(s.message(), std::to_string(size) + " bytes")) << s.ToString();
  }
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE((*decoder)->Decode(std::string(20, '\x55'), &out).ok());
  EXPECT_EQ(out.size(), 160u);
  ASSERT_TRUE((*decoder)->Decode(std::string(12, '\x55'), &out).ok());  // frame + SID
  EXPECT_EQ(out.size(), 320u);
  EXPECT_TRUE(std::all_of(out.end() - 80, out.end(), [](int16_t s) { return s == 0; }));
  (*decoder)->Conceal(200, &out);  // after SID: silence
  ASSERT_EQ(out.size(), 520u);
  EXPECT_TRUE(std::all_of(out.end() - 200, out.end(), [](int16_t s) { return s == 0; }));
  ASSERT_TRUE((*decoder)->Decode(std::string(2, '\x12'), &out).ok());  // SID only
  EXPECT_EQ(out.size(), 600u);
}
#endif

// Random payloads of every size up to 400 bytes, for every decoder: never a crash; a failure
// appends nothing; success appends at least one sample.
TEST(CodecTest, RandomPayloadsNeverCrash) {
  std::mt19937 rng(1234);
  std::vector<CodecSpec> specs = {{.name = "PCMU"},
                                  {.name = "PCMA"},
                                  {.name = "G722"},
                                  {.name = "CN"},
                                  {.name = "opus", .clock_rate = 48000},
                                  {.name = "opus", .clock_rate = 48000, .channels = 2}};
  if (CALLVAULT_HAVE_G729) specs.push_back({.name = "G729"});
  for (const CodecSpec& spec : specs) {
    auto decoder = NewDecoder(spec);
    ASSERT_TRUE(decoder.ok()) << spec.name;
    std::vector<int16_t> out;
    for (size_t size = 0; size <= 400; ++size) {
      std::string payload(size, '\0');
      for (char& c : payload) c = static_cast<char>(rng());
      const size_t before = out.size();
      const Status s = (*decoder)->Decode(payload, &out);
      if (s.ok()) {
        EXPECT_GT(out.size(), before) << spec.name << " " << size;
      } else {
        EXPECT_EQ(out.size(), before) << spec.name << " " << size;
      }
      if (size % 37 == 0) (*decoder)->Conceal(static_cast<int>(size), &out);
    }
  }
}

}  // namespace
}  // namespace callvault::codec
