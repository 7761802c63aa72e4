// Real captures from ../shared/siprec-samples (read in place, skipped when absent): G.722 and
// G.729 streams decode to audio of the expected duration with energy, and the RFC 4733 events of
// a PCMU call with DTMF are counted and spelled.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "codec/codec.h"
#include "codec/testing/test_util.h"

namespace callvault::codec {
namespace {

std::vector<testing::RtpPacket> Capture(const std::string& name) {
  const auto bytes = testing::ReadFile(std::string(CALLVAULT_SAMPLES_DIR) + "/" + name);
  if (!bytes) return {};
  return testing::ReadRtpFromPcap(*bytes);
}

#define SKIP_WITHOUT_SAMPLES(packets) \
  if ((packets).empty()) GTEST_SKIP() << "no samples at " CALLVAULT_SAMPLES_DIR

// Decodes the packets of `pt`; returns the audio and the RTP timestamp span they cover
// (last timestamp - first + the last packet's duration, in RTP units).
struct Decoded {
  std::vector<int16_t> pcm;
  size_t packets = 0;
  uint32_t span = 0;
};
Decoded DecodeStream(Decoder* decoder, const std::vector<testing::RtpPacket>& packets, int pt) {
  Decoded d;
  uint32_t first = 0;
  for (const testing::RtpPacket& p : packets) {
    if (p.payload_type != pt) continue;
    const size_t before = d.pcm.size();
    const Status s = decoder->Decode(p.payload, &d.pcm);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (d.packets++ == 0) first = p.timestamp;
    const auto units = (d.pcm.size() - before) * 1000 / decoder->samples_per_rtp_unit_milli();
    d.span = p.timestamp - first + static_cast<uint32_t>(units);
  }
  return d;
}

TEST(CodecSamplesTest, G722CaptureDecodesToTheCapturedDuration) {
  const auto packets = Capture("10a_g722.pcap");
  SKIP_WITHOUT_SAMPLES(packets);
  auto decoder = NewDecoder({.name = "G722"});
  ASSERT_TRUE(decoder.ok());
  const Decoded d = DecodeStream(decoder->get(), packets, 9);
  // 972 packets in the file: 969 RTP (967 × 20 ms + 2 × 10 ms), 3 ICMP.
  EXPECT_EQ(d.packets, 969u);
  EXPECT_EQ(d.pcm.size(), 967u * 320 + 2 * 160);  // 19.36 s at 16 kHz
  EXPECT_EQ(d.pcm.size(), size_t{d.span} * 2);    // matches the RTP timestamps
  EXPECT_GT(testing::Rms(d.pcm), 300) << "decoded G.722 has no energy";
}

TEST(CodecSamplesTest, G729CaptureDecodes) {
  const auto packets = Capture("12a_g729.pcap");
  SKIP_WITHOUT_SAMPLES(packets);
  if (!CALLVAULT_HAVE_G729) {
    EXPECT_FALSE(NewDecoder({.name = "G729"}).ok());
    GTEST_SKIP() << "built without CALLVAULT_G729";
  }
  auto decoder = NewDecoder({.name = "G729"});
  ASSERT_TRUE(decoder.ok());
  const Decoded d = DecodeStream(decoder->get(), packets, 18);
  EXPECT_EQ(d.packets, 1071u);
  EXPECT_EQ(d.pcm.size(), 1070u * 160 + 80);  // 21.41 s at 8 kHz
  EXPECT_EQ(d.pcm.size(), size_t{d.span});
  EXPECT_GT(testing::Rms(d.pcm), 300) << "decoded G.729 has no energy";
}

TEST(CodecSamplesTest, DtmfCaptureHasThirteenEvents) {
  const auto packets = Capture("09a_2833_dtmf.pcap");
  SKIP_WITHOUT_SAMPLES(packets);
  // One event per RTP timestamp (RFC 4733 §2.5.1.2); its end packets carry the E bit.
  std::map<uint32_t, TelephoneEvent> events;
  size_t event_packets = 0;
  for (const testing::RtpPacket& p : packets) {
    if (p.payload_type != 101) continue;
    ++event_packets;
    const auto e = ParseTelephoneEvent(p.payload);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(p.payload.size(), 4u);  // Ethernet padding is not payload
    auto [it, inserted] = events.try_emplace(p.timestamp, *e);
    if (!inserted && e->end) it->second = *e;
  }
  EXPECT_EQ(event_packets, 94u);
  std::string digits;
  for (const auto& [ts, e] : events) {
    digits += e.Digit();
    EXPECT_TRUE(e.end) << e.Digit();
    EXPECT_EQ(e.volume, 13);
    EXPECT_GE(e.duration, 760);
    EXPECT_LE(e.duration, 1000);
  }
  EXPECT_EQ(digits, "123456789**0#");
  // The PCMU audio around the events decodes with energy.
  auto pcmu = NewDecoder({.name = "pcmu"});
  ASSERT_TRUE(pcmu.ok());
  const Decoded d = DecodeStream(pcmu->get(), packets, 0);
  EXPECT_EQ(d.packets, 2071u);
  EXPECT_GT(testing::Rms(d.pcm), 100);
}

}  // namespace
}  // namespace callvault::codec
