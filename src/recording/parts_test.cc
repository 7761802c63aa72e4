// The finalizer's parts: RTP header parsing, the session log reader, name templates, and the
// timeline's statistics and DTMF on hand-made packets.
#include <gtest/gtest.h>

#include <chrono>

#include "base/time_format.h"
#include "crypto/sha256.h"
#include "recording/audio_writer.h"
#include "recording/name_template.h"
#include "recording/rtp_packet.h"
#include "recording/session_log.h"
#include "recording/stream_timeline.h"
#include "recording/testing/spool_fixture.h"

namespace callvault::recording {
namespace {

std::string Rtp(std::string header_extra, std::string payload, uint8_t b0 = 0x80, uint8_t b1 = 0) {
  std::string b = {static_cast<char>(b0),
                   static_cast<char>(b1),
                   0x12,
                   0x34,
                   0,
                   0,
                   0x01,
                   0x00,
                   0x0a,
                   0x0b,
                   0x0c,
                   0x0d};
  return b + header_extra + payload;
}

TEST(RtpPacketTest, ParsesCsrcsExtensionAndPadding) {
  // CC=2, X=1, P=1: 2 CSRCs, a 1-word extension, payload "abc", 3 bytes of padding.
  std::string csrcs(8, '\x01');
  std::string ext = {'\xbe', '\xde', 0, 1, 1, 2, 3, 4};
  const std::string pkt =
      Rtp(csrcs + ext, std::string("abc") + '\0' + '\0' + '\x03', 0x80 | 0x20 | 0x10 | 2, 0x80 | 8);
  RtpParseError err;
  std::optional<RtpPacket> p = ParseRtp(pkt, &err);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->payload, "abc");
  EXPECT_TRUE(p->marker);
  EXPECT_EQ(p->payload_type, 8);
  EXPECT_EQ(p->sequence, 0x1234);
  EXPECT_EQ(p->timestamp, 0x100u);
  EXPECT_EQ(p->ssrc, 0x0a0b0c0du);
}

TEST(RtpPacketTest, RejectsBadPackets) {
  RtpParseError err;
  EXPECT_FALSE(ParseRtp("short", &err));
  EXPECT_EQ(err, RtpParseError::kTooShort);
  EXPECT_FALSE(ParseRtp(Rtp("", "x", 0x40), &err));
  EXPECT_EQ(err, RtpParseError::kBadVersion);
  EXPECT_FALSE(ParseRtp(Rtp("", "", 0x80 | 3), &err));  // 3 CSRCs announced, none there
  EXPECT_EQ(err, RtpParseError::kTooShort);
  EXPECT_FALSE(ParseRtp(Rtp("", std::string("ab") + '\x09', 0xa0), &err));  // padding > payload
  EXPECT_EQ(err, RtpParseError::kTooShort);
  EXPECT_FALSE(ParseRtp(Rtp("", "", 0x80, 200), &err));  // RTCP SR on the RTP port
  EXPECT_EQ(err, RtpParseError::kRtcp);
}

TEST(SessionLogTest, ReadsEventsAndIgnoresATornLastLine) {
  const std::string text =
      R"({"v":1,"t":"start","at":"2026-11-25T08:00:00.000Z","call_id":"c","from":"a"})"
      "\n"
      R"({"v":1,"t":"sdp","at":"2026-11-25T08:00:00.010Z","source":"INVITE","offer":"o","answer":"a"})"
      "\n"
      "not json\n"
      R"({"v":1,"t":"stream","at":"2026-11-25T08:00:00.010Z","stream":"s0","index":0,"payload_types":{"0":{"name":"PCMU","rate":8000},"101":{"name":"telephone-event","rate":8000}}})"
      "\n"
      R"({"v":1,"t":"metadata","at":"2026-11-25T08:00:00.010Z","source":"INVITE","content_type":"application/rs-metadata+xml","raw":"<x/>"})"
      "\n"
      R"({"v":1,"t":"state","at":"2026-11-25T08:00:10.000Z","state":"paused"})"
      "\n"
      R"({"v":1,"t":"future","at":"2026-11-25T08:00:11.000Z"})"
      "\n"
      R"({"v":1,"t":"state","at":"2026-11-25T08:00:40.000Z","state":"resumed"})"
      "\n"
      R"({"v":1,"t":"end","at":"2026-11-25T08:01:00.000Z","reas)";
  SessionLog log = ParseSessionLog(text);
  ASSERT_TRUE(log.start.has_value());
  EXPECT_EQ((*log.start)["from"], "a");
  EXPECT_EQ(log.first_answer_ns - log.start_ns, 10'000'000);
  ASSERT_EQ(log.streams.size(), 1u);
  EXPECT_EQ(log.streams[0].payload_types.at(101).name, "telephone-event");
  ASSERT_EQ(log.metadata.size(), 1u);
  EXPECT_EQ(log.metadata[0].raw, "<x/>");
  ASSERT_EQ(log.paused.size(), 1u);
  EXPECT_EQ(log.paused[0].end_ns - log.paused[0].start_ns, 30'000'000'000);
  EXPECT_FALSE(log.has_end);
  EXPECT_TRUE(log.torn_tail);
  EXPECT_EQ(log.bad_lines, 1);
}

TEST(NameTemplateTest, ExpandsAndSanitizes) {
  NameFields f{.start_ns = ParseRfc3339Ns("2026-11-25T08:09:10Z").value(),
               .call_id = "0193-abc",
               .caller = "../../etc/passwd",
               .callee = "bob\r\nx y",
               .tenant = "",
               .node = "rec-a"};
  EXPECT_EQ(ExpandNameTemplate("{date}/{time}_{call_id}", f).value(), "2026/11/25/080910_0193-abc");
  EXPECT_EQ(ExpandNameTemplate("{tenant}/{caller}-{callee}@{node}", f).value(),
            "unknown/_.._etc_passwd-bob__x_y@rec-a");
  f.caller = std::string(300, 'a');
  EXPECT_EQ(ExpandNameTemplate("{caller}", f).value().size(), 64u);
  EXPECT_FALSE(ValidateNameTemplate("{date}/{nope}").ok());
  EXPECT_FALSE(ValidateNameTemplate("/abs/{call_id}").ok());
  EXPECT_FALSE(ValidateNameTemplate("a/../{call_id}").ok());
  EXPECT_FALSE(ValidateNameTemplate("a//{call_id}").ok());
  EXPECT_FALSE(ValidateNameTemplate("{call_id").ok());
  EXPECT_TRUE(ValidateNameTemplate("{date}/{time}_{call_id}").ok());
  EXPECT_EQ(UserOfUri("\"Alice\" <sip:+15551234567@a.example;user=phone>;tag=1"), "+15551234567");
  EXPECT_EQ(UserOfUri("tel:+4930123"), "+4930123");
}

// Records for BuildTimeline from test packets (the payload views point into `storage`).
std::vector<media::SpoolRecord> Records(const std::vector<testing::Packet>& packets,
                                        std::vector<std::string>* storage) {
  storage->clear();
  storage->reserve(packets.size());
  std::vector<media::SpoolRecord> out;
  for (const testing::Packet& p : packets) {
    storage->push_back(p.Bytes());
    out.push_back(media::SpoolRecord{.kind = media::spool::RecordKind::kRtp,
                                     .arrival_ns = p.arrival_ns,
                                     .payload = storage->back()});
  }
  return out;
}

TEST(StreamTimelineTest, TelephoneEventsBecomeDtmfNotAudio) {
  StreamInfo info{.id = "s0"};
  info.payload_types[0] = {.name = "PCMU"};
  info.payload_types[101] = {.name = "telephone-event"};
  std::vector<testing::Packet> p =
      testing::MakeStream({.start_ns = 1'000'000'000'000, .seconds = 4});
  // Digit 5 at 2.0 s for 160 ms: 3 updates + 3 end packets, all with the event's start timestamp.
  const size_t at = 100;
  const uint32_t ts = p[at].ts;
  std::vector<testing::Packet> events;
  for (int k = 0; k < 6; ++k) {
    testing::Packet e = p[at + k];
    e.pt = 101;
    e.ts = ts;
    const int duration = std::min(1280, 320 * (k + 1));
    e.payload = {5, static_cast<char>(k >= 3 ? 0x8a : 0x0a), static_cast<char>(duration >> 8),
                 static_cast<char>(duration & 0xff)};
    events.push_back(e);
  }
  for (int k = 0; k < 6; ++k) p[at + k] = events[k];
  std::vector<std::string> storage;
  StreamTimeline tl = BuildTimeline(Records(p, &storage), info);
  ASSERT_EQ(tl.stats.dtmf.size(), 1u);
  EXPECT_EQ(tl.stats.dtmf[0].digit, '5');
  EXPECT_EQ(tl.stats.dtmf[0].duration_ms, 160);
  const Segment& seg = tl.sources[0].segments[0];
  EXPECT_NEAR(
      static_cast<double>(tl.stats.dtmf[0].start_ns - seg.WallNs(p[0].ts + (int64_t{1} << 32))) /
          1e6,
      2000, 1);
  EXPECT_EQ(tl.stats.lost, 0u);
  EXPECT_EQ(tl.stats.payload_type_packets.at(101), 6u);
}

TEST(StreamTimelineTest, SequenceWrapAndBadPacketsAreCounted) {
  StreamInfo info{.id = "s0"};
  std::vector<testing::Packet> p = testing::MakeStream(
      {.seq0 = 65530, .ts0 = 0xfffffe00u, .start_ns = 1'000'000'000'000, .seconds = 1});
  p.erase(p.begin() + 10);  // seq 65540 → 4 after the wrap
  std::vector<std::string> storage;
  std::vector<media::SpoolRecord> recs = Records(p, &storage);
  storage.reserve(storage.size() + 1);
  recs.push_back({.kind = media::spool::RecordKind::kRtp,
                  .arrival_ns = recs.back().arrival_ns,
                  .payload = "\x40garbage-not-rtp"});
  StreamTimeline tl = BuildTimeline(recs, info);
  EXPECT_EQ(tl.stats.lost, 1u);
  EXPECT_EQ(tl.stats.bad, 1u);
  EXPECT_EQ(tl.stats.packets, 50u);
  ASSERT_EQ(tl.sources.size(), 1u);
  EXPECT_EQ(tl.sources[0].segments.size(), 1u);
}

TEST(StreamTimelineTest, ANewSsrcPerPacketStaysCheap) {
  StreamInfo info{.id = "s0"};
  std::vector<testing::Packet> p =
      testing::MakeStream({.start_ns = 1'000'000'000'000, .seconds = 400});
  for (size_t i = 0; i < p.size(); ++i) p[i].ssrc = static_cast<uint32_t>(i * 2654435761u);
  std::vector<std::string> storage;
  const auto begin = std::chrono::steady_clock::now();
  StreamTimeline tl = BuildTimeline(Records(p, &storage), info);
  EXPECT_EQ(tl.sources.size(), p.size());
  EXPECT_EQ(tl.stats.ssrcs.size(), p.size());
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(5));
}

TEST(AudioWriterTest, StreamedWavIsByteForByteWhatLibsndfileWrites) {
  std::vector<int16_t> left(100003), right(100003);
  for (size_t i = 0; i < left.size(); ++i) {
    left[i] = static_cast<int16_t>((i * 7919) % 65536 - 32768);
    right[i] = static_cast<int16_t>(-static_cast<int>(i % 30000));
  }
  const std::string dir = ::testing::TempDir() + "/cv-audio-writer";
  ASSERT_TRUE(DefaultFs()->CreateDirs(dir).ok());
  for (int rate : {8000, 16000}) {
    Result<WrittenAudio> w =
        WriteAudioFile(*DefaultFs(), dir + "/a.wav", AudioFormat::kWav, rate, left, right);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    const std::string expected = EncodeAudio(AudioFormat::kWav, rate, left, right).value();
    const std::string written = DefaultFs()->ReadFile(dir + "/a.wav").value();
    EXPECT_EQ(written, expected);
    EXPECT_EQ(w->bytes, expected.size());
    EXPECT_EQ(w->sha256, crypto::Sha256Hex(expected));
  }
  Result<WrittenAudio> empty =
      WriteAudioFile(*DefaultFs(), dir + "/e.wav", AudioFormat::kWav, 8000, {}, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(DefaultFs()->ReadFile(dir + "/e.wav").value(),
            EncodeAudio(AudioFormat::kWav, 8000, {}, {}).value());
  DefaultFs()->RemoveAll(dir).IgnoreError();
}

}  // namespace
}  // namespace callvault::recording
