// Recorder SDP answer tests: offer in → exact answer text and answered streams out, per vendor
// family of ../shared/siprec-samples/SOURCES.md (SDPs are our own, modelled on them).
#include "siprec/sdp_answer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "siprec/sdp_crypto.h"

namespace callvault::siprec {
namespace {

using ::testing::HasSubstr;

// 30 and 46 bytes 0x00, 0x01, ...: deterministic answer keys.
constexpr std::string_view kKey128 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd";
constexpr std::string_view kKey256 =
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLQ==";
constexpr std::string_view kOfferKey = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";

// A build without G.729 (CALLVAULT_G729=OFF): G.711, G.722, opus, CN.
bool DecodesWithoutG729(const codec::CodecSpec& c) {
  for (const char* n : {"PCMU", "PCMA", "G722", "opus", "CN"}) {
    if (EncodingIs(c.name, n)) return true;
  }
  return false;
}

AnswerOptions Options(size_t streams) {
  AnswerOptions o;
  o.local_ipv4 = "198.51.100.10";
  o.local_ipv6 = "2001:db8::10";
  o.session_id = "1700000000";
  o.session_version = 1;
  for (size_t i = 0; i < streams; ++i) o.ports.push_back(static_cast<uint16_t>(30000 + 2 * i));
  o.can_decode = DecodesWithoutG729;
  o.make_sdes_key = [](std::string_view suite) -> Result<std::string> {
    return std::string(suite.find("256") != std::string_view::npos ? kKey256 : kKey128);
  };
  return o;
}

SdpAnswer Answer(std::string_view offer_text, AnswerOptions options) {
  auto offer = ParseSdp(offer_text);
  EXPECT_TRUE(offer.ok()) << offer.status().ToString();
  if (!offer.ok()) return {};
  auto answer = BuildRecorderAnswer(*offer, options);
  EXPECT_TRUE(answer.ok()) << answer.status().ToString();
  if (!answer.ok()) return {};
  // Every answer is itself valid SDP with one m= line per offered one.
  auto reparsed = ParseSdp(answer->text);
  EXPECT_TRUE(reparsed.ok()) << reparsed.status().ToString();
  if (reparsed.ok()) {
    EXPECT_EQ(reparsed->media.size(), offer->media.size());
    EXPECT_TRUE(reparsed->warnings.empty()) << reparsed->warnings[0];
  }
  return std::move(answer).value();
}

SdpAnswer Answer(std::string_view offer_text) {
  const size_t streams = ParseSdp(offer_text).value_or({}).media.size();
  return Answer(offer_text, Options(streams));
}

constexpr std::string_view kHead =
    "v=0\r\no=callvault 1700000000 1 IN IP4 198.51.100.10\r\ns=-\r\nc=IN IP4 198.51.100.10\r\n"
    "t=0 0\r\n";

std::string Expected(std::string_view media) { return std::string(kHead) + std::string(media); }

// Oracle fronting Avaya: big-integer labels before a=sendonly, G.729 first, static PT 8 without
// rtpmap on the 2nd m-line.
TEST(SdpAnswerTest, OracleAvayaUcidStaticPayloadType) {
  const SdpAnswer a = Answer(
      "v=0\no=- 15345885 220 IN IP4 10.89.88.243\ns=-\nc=IN IP4 10.89.88.244\nt=0 0\n"
      "m=audio 33802 RTP/AVP 18 8 101\na=rtpmap:8 PCMA/8000\na=rtpmap:18 G729/8000\n"
      "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\na=ptime:20\na=label:201835599\n"
      "a=sendonly\n"
      "m=audio 33806 RTP/AVP 8 101\na=rtpmap:101 telephone-event/8000\na=ptime:20\n"
      "a=label:201835600\na=sendonly\n");
  EXPECT_EQ(a.text, Expected("m=audio 30000 RTP/AVP 8 101\r\n"
                             "a=rtpmap:8 PCMA/8000\r\n"
                             "a=rtpmap:101 telephone-event/8000\r\n"
                             "a=fmtp:101 0-15\r\n"
                             "a=label:201835599\r\n"
                             "a=recvonly\r\n"
                             "m=audio 30002 RTP/AVP 8 101\r\n"
                             "a=rtpmap:8 PCMA/8000\r\n"
                             "a=rtpmap:101 telephone-event/8000\r\n"
                             "a=label:201835600\r\n"
                             "a=recvonly\r\n"));
  ASSERT_EQ(a.media.size(), 2u);
  const AnsweredMedia& m = a.media[1];
  EXPECT_TRUE(m.accepted);
  EXPECT_EQ(m.index, 1u);
  EXPECT_EQ(m.local_port, 30002);
  EXPECT_EQ(m.remote_address, "10.89.88.244");
  EXPECT_EQ(m.remote_port, 33806);
  EXPECT_EQ(m.remote_rtcp_port, 33807);
  EXPECT_EQ(m.payload_type, 8);
  EXPECT_EQ(m.codec.name, "PCMA");
  EXPECT_EQ(m.telephone_event_pt, 101);
  EXPECT_EQ(m.comfort_noise_pt, -1);
  EXPECT_EQ(m.offer_direction, Direction::kSendOnly);
  EXPECT_EQ(m.answer_direction, Direction::kRecvOnly);
  EXPECT_EQ(m.label, "201835600");
  EXPECT_EQ(m.srtp_suite, "");
  EXPECT_EQ(a.accepted_count(), 2u);
  EXPECT_EQ(a.local_address, "198.51.100.10");
}

TEST(SdpAnswerTest, G729ChosenWhenDecodable) {
  AnswerOptions o = Options(1);
  o.can_decode = [](const codec::CodecSpec&) { return true; };
  o.session_version = 7;
  const SdpAnswer a = Answer(
      "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
      "m=audio 4000 RTP/AVP 18 0 8\na=fmtp:18 annexb=no\n",
      o);
  EXPECT_EQ(a.text,
            "v=0\r\no=callvault 1700000000 7 IN IP4 198.51.100.10\r\ns=-\r\n"
            "c=IN IP4 198.51.100.10\r\nt=0 0\r\n"
            "m=audio 30000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"
            "a=fmtp:18 annexb=no\r\na=recvonly\r\n");
  EXPECT_EQ(a.media[0].codec.fmtp, "annexb=no");
}

// Metaswitch CFS: one mixed m-line, no direction, no rtpmap, G.729 first.
TEST(SdpAnswerTest, MetaswitchMixedNoDirectionNoRtpmap) {
  const SdpAnswer a = Answer(
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 18 0 8\r\n");
  EXPECT_EQ(a.text, Expected("m=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                             "a=recvonly\r\n"));
  EXPECT_EQ(a.media[0].offer_direction, Direction::kSendRecv);
  EXPECT_FALSE(a.media[0].label.has_value());
}

// OpenSIPS (Connectel): no c=, no t=; labels after a=sendonly... here before it, as sent.
TEST(SdpAnswerTest, OpensipsNoConnectionNoTiming) {
  const SdpAnswer a = Answer(
      "v=0\no=- 1516628962 0 IN IP4 0.0.0.0\ns=-\nm=audio 35011 RTP/AVP 0 8 3 101\n"
      "a=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000\na=rtpmap:3 GSM/8000\n"
      "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\na=maxptime:150\na=label:1\n"
      "a=sendonly\nm=audio 35012 RTP/AVP 8 0 101\na=rtpmap:8 PCMA/8000\na=rtpmap:0 PCMU/8000\n"
      "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\na=maxptime:150\na=label:2\n"
      "a=sendonly\n");
  EXPECT_EQ(a.text, Expected("m=audio 30000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
                             "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
                             "a=label:1\r\na=recvonly\r\n"
                             "m=audio 30002 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"
                             "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
                             "a=label:2\r\na=recvonly\r\n"));
  EXPECT_EQ(a.media[0].remote_address, "");
}

// Oracle SBC for Genesys, 2024: 4 m-lines, two inactive without any rtpmap.
TEST(SdpAnswerTest, OracleGenesysFourStreamsTwoInactive) {
  const SdpAnswer a = Answer(
      "v=0\no=- 3169224 683914 IN IP4 10.173.186.4\ns=-\nc=IN IP4 10.173.186.101\nt=0 0\n"
      "m=audio 43810 RTP/AVP 0 101\na=rtpmap:0 pcmu/8000\na=ptime:20\na=maxptime:20\n"
      "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\na=sendonly\na=label:1006644281\n"
      "m=audio 43814 RTP/AVP 0 8 18 4 9 100 101\na=label:1006644282\na=inactive\n"
      "m=audio 43818 RTP/AVP 0 101\na=rtpmap:0 pcmu/8000\na=rtpmap:101 telephone-event/8000\n"
      "a=fmtp:101 0-15\na=sendonly\na=label:1006644283\n"
      "m=audio 43822 RTP/AVP 0 8 18 4 9 100 101\na=label:1006644284\na=inactive\n");
  EXPECT_EQ(a.text, Expected("m=audio 30000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
                             "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
                             "a=label:1006644281\r\na=recvonly\r\n"
                             "m=audio 30002 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                             "a=label:1006644282\r\na=inactive\r\n"
                             "m=audio 30004 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
                             "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
                             "a=label:1006644283\r\na=recvonly\r\n"
                             "m=audio 30006 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                             "a=label:1006644284\r\na=inactive\r\n"));
  EXPECT_EQ(a.media[1].answer_direction, Direction::kInactive);
  EXPECT_EQ(a.media[1].telephone_event_pt, -1);  // 101 has no rtpmap there
}

// Oracle 2023: `pcmu/8000a` and media-level c= on some m-lines; Sonus: media-level c= only.
TEST(SdpAnswerTest, MediaLevelConnectionAndGarbageClockRate) {
  const SdpAnswer a = Answer(
      "v=0\no=Sonus_UAC 328001 655768 IN IP4 172.16.169.181\ns=SIP Media Capabilities\nt=0 0\n"
      "m=audio 33098 RTP/AVP 0 101\nc=IN IP4 10.23.90.86\na=rtpmap:0 pcmu/8000a\n"
      "a=rtpmap:101 telephone-event/8000\na=sendonly\na=label:268749245\n"
      "m=audio 48926 RTP/AVP 0\nc=IN IP4 172.16.169.132\na=label:2\na=rtpmap:0 PCMU/8000\n"
      "a=sendonly\na=maxptime:20\n");
  EXPECT_EQ(a.text, Expected("m=audio 30000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
                             "a=rtpmap:101 telephone-event/8000\r\n"
                             "a=label:268749245\r\na=recvonly\r\n"
                             "m=audio 30002 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                             "a=label:2\r\na=recvonly\r\n"));
  EXPECT_EQ(a.media[0].remote_address, "10.23.90.86");
  EXPECT_EQ(a.media[1].remote_address, "172.16.169.132");
}

// SEMS: labels a_leg/b_leg, a=direction:both ignored.
TEST(SdpAnswerTest, SemsNonNumericLabels) {
  const SdpAnswer a = Answer(
      "v=0\no=sems 1 2 IN IP4 192.0.2.7\ns=sems\nc=IN IP4 192.0.2.7\nt=0 0\n"
      "m=audio 12654 RTP/AVP 8\na=rtpmap:8 PCMA/8000\na=direction:both\na=sendonly\n"
      "a=label:a_leg\n");
  EXPECT_EQ(a.text, Expected("m=audio 30000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n"
                             "a=label:a_leg\r\na=recvonly\r\n"));
}

// Cisco CUBE on hold: both inactive, CN (PT 19) offered.
TEST(SdpAnswerTest, CiscoInactiveWithComfortNoise) {
  const SdpAnswer a = Answer(
      "v=0\no=CiscoSystemsSIP-GW-UserAgent 5179 6446 IN IP4 192.0.2.2\ns=SIP Call\n"
      "c=IN IP4 192.0.2.2\nt=0 0\nm=audio 19254 RTP/AVP 0 101 19\nc=IN IP4 192.0.2.2\n"
      "a=rtpmap:0 PCMU/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\n"
      "a=rtpmap:19 CN/8000\na=ptime:20\na=inactive\na=label:1\n");
  EXPECT_EQ(a.text, Expected("m=audio 30000 RTP/AVP 0 101 19\r\na=rtpmap:0 PCMU/8000\r\n"
                             "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
                             "a=rtpmap:19 CN/8000\r\na=label:1\r\na=inactive\r\n"));
  EXPECT_EQ(a.media[0].comfort_noise_pt, 19);
}

// Metaswitch G.722: `RTP/AVP 9 0 8 101`; static 13 CN without rtpmap; recvonly offer.
TEST(SdpAnswerTest, G722WithTelephoneEventAndStaticCn) {
  const SdpAnswer a = Answer(
      "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
      "m=audio 4000 RTP/AVP 9 0 8 13 101\na=rtpmap:101 telephone-event/8000\n"
      "a=fmtp:101 0-15\na=recvonly\n");
  EXPECT_EQ(a.text, Expected("m=audio 30000 RTP/AVP 9 13 101\r\na=rtpmap:9 G722/8000\r\n"
                             "a=rtpmap:13 CN/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
                             "a=fmtp:101 0-15\r\na=inactive\r\n"));
  EXPECT_EQ(a.media[0].codec.name, "G722");
  EXPECT_EQ(a.media[0].codec.clock_rate, 8000);
}

// telephone-event at the audio codec's clock rate wins (RFC 4733 §2.1).
TEST(SdpAnswerTest, OpusTelephoneEventMatchingRate) {
  const SdpAnswer a = Answer(
      "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
      "m=audio 4000 RTP/AVP 111 126 110 0\na=rtpmap:111 OPUS/48000/2\n"
      "a=fmtp:111 minptime=10;useinbandfec=1\na=rtpmap:126 telephone-event/8000\n"
      "a=rtpmap:110 telephone-event/48000\na=sendrecv\na=rtcp-mux\n");
  EXPECT_EQ(a.text, Expected("m=audio 30000 RTP/AVP 111 110\r\na=rtpmap:111 opus/48000/2\r\n"
                             "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
                             "a=rtpmap:110 telephone-event/48000\r\na=rtcp-mux\r\n"
                             "a=recvonly\r\n"));
  EXPECT_TRUE(a.media[0].rtcp_mux);
  EXPECT_EQ(a.media[0].remote_rtcp_port, 4000);
  EXPECT_EQ(a.media[0].codec.channels, 2);
}

// SDES: the first crypto line with a suite libsrtp2 handles, same tag, our key.
TEST(SdpAnswerTest, SavpFirstSupportedCrypto) {
  const std::string offer =
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 4000 RTP/SAVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
      "a=crypto:1 AEAD_AES_256_GCM "
      "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKis=\r\n"
      "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:" +
      std::string(kOfferKey) +
      "|2^31|1:1\r\n"
      "a=crypto:3 AES_256_CM_HMAC_SHA1_80 inline:" +
      std::string(kKey256) +
      "\r\n"
      "a=crypto:4 AES_CM_128_HMAC_SHA1_32 inline:" +
      std::string(kOfferKey) +
      "\r\n"
      "a=rtcp:4005\r\na=sendonly\r\na=label:1\r\n";
  const SdpAnswer a = Answer(offer);
  EXPECT_EQ(a.text, Expected("m=audio 30000 RTP/SAVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
                             "a=rtpmap:101 telephone-event/8000\r\n"
                             "a=crypto:3 AES_256_CM_HMAC_SHA1_80 inline:" +
                             std::string(kKey256) + "\r\na=label:1\r\na=recvonly\r\n"));
  const AnsweredMedia& m = a.media[0];
  EXPECT_EQ(m.srtp_suite, "AES_256_CM_HMAC_SHA1_80");
  EXPECT_EQ(m.crypto_tag, 3u);
  EXPECT_EQ(m.remote_master_key, *Base64Decode(kKey256));
  EXPECT_EQ(m.local_master_key.size(), 46u);
  EXPECT_EQ(m.remote_rtcp_port, 4005);
}

TEST(SdpAnswerTest, SavpWithRealRandomKey) {
  AnswerOptions o = Options(1);
  o.make_sdes_key = nullptr;  // GenerateSdesKey
  const SdpAnswer a = Answer(
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 4000 RTP/SAVP 8\r\na=crypto:7 AES_CM_128_HMAC_SHA1_32 inline:" +
          std::string(kOfferKey) + "\r\n",
      o);
  EXPECT_THAT(a.text, HasSubstr("a=crypto:7 AES_CM_128_HMAC_SHA1_32 inline:"));
  EXPECT_EQ(a.media[0].local_master_key.size(), 30u);
  EXPECT_NE(a.media[0].local_master_key, a.media[0].remote_master_key);
}

TEST(SdpAnswerTest, SavpOnlyUnsupportedSuitesIsRejected) {
  const SdpAnswer a = Answer(
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 4000 RTP/SAVP 0 8\r\na=crypto:1 F8_128_HMAC_SHA1_80 inline:" +
      std::string(kOfferKey) + "\r\na=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:" +
      std::string(kOfferKey) + " KDR=1\r\nm=audio 4002 RTP/SAVP 0\r\na=sendonly\r\n");
  EXPECT_EQ(a.text, Expected("m=audio 0 RTP/SAVP 0 8\r\nm=audio 0 RTP/SAVP 0\r\n"));
  EXPECT_FALSE(a.media[0].accepted);
  EXPECT_EQ(a.media[0].reject_reason, "no a=crypto with a supported suite");
  EXPECT_EQ(a.media[0].local_port, 0);
  EXPECT_EQ(a.accepted_count(), 0u);
}

TEST(SdpAnswerTest, RejectedStreams) {
  AnswerOptions o = Options(6);
  o.ports[1] = 0;
  const SdpAnswer a = Answer(
      "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
      "m=audio 0 RTP/AVP 0\n"     // disabled by the offer
      "m=audio 4002 RTP/AVP 0\n"  // the caller has no port
      "m=video 4004 RTP/AVP 96\na=rtpmap:96 H264/90000\n"
      "m=audio 4006 UDP/TLS/RTP/SAVP 0\n"
      "m=audio 4008 RTP/AVP 18 4 96 101\na=rtpmap:101 telephone-event/8000\n"
      "m=image 4010 udptl t38\n",
      o);
  EXPECT_EQ(a.text, Expected("m=audio 0 RTP/AVP 0\r\nm=audio 0 RTP/AVP 0\r\n"
                             "m=video 0 RTP/AVP 96\r\nm=audio 0 UDP/TLS/RTP/SAVP 0\r\n"
                             "m=audio 0 RTP/AVP 18 4 96 101\r\nm=image 0 udptl t38\r\n"));
  const char* reasons[] = {
      "offer disabled the stream (port 0)", "no local port",
      "media 'video' is not recorded",      "DTLS-SRTP (UDP/TLS/RTP/SAVP) is not supported",
      "no decodable codec offered",         "media 'image' is not recorded"};
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(a.media[i].reject_reason, reasons[i]) << i;
}

TEST(SdpAnswerTest, Ipv6OfferGetsIpv6Answer) {
  const SdpAnswer a = Answer(
      "v=0\no=- 1 1 IN IP6 2001:db8::1\ns=-\nc=IN IP6 2001:db8::2\nt=0 0\n"
      "m=audio 4000 RTP/AVP 8\na=sendonly\n");
  EXPECT_EQ(a.text,
            "v=0\r\no=callvault 1700000000 1 IN IP6 2001:db8::10\r\ns=-\r\n"
            "c=IN IP6 2001:db8::10\r\nt=0 0\r\nm=audio 30000 RTP/AVP 8\r\n"
            "a=rtpmap:8 PCMA/8000\r\na=recvonly\r\n");
  AnswerOptions only_v4 = Options(1);
  only_v4.local_ipv6.clear();
  EXPECT_THAT(
      Answer("v=0\no=- 1 1 IN IP6 ::1\ns=-\nc=IN IP6 ::1\nm=audio 1 RTP/AVP 0\n", only_v4).text,
      HasSubstr("c=IN IP4 198.51.100.10\r\n"));
}

TEST(SdpAnswerTest, BrokenOptionsAreErrors) {
  auto offer = ParseSdp("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nm=audio 4000 RTP/AVP 0\n");
  ASSERT_TRUE(offer.ok());
  AnswerOptions o = Options(2);
  EXPECT_EQ(BuildRecorderAnswer(*offer, o).status().message(),
            "sdp answer: 2 ports for 1 m= lines");
  o = Options(1);
  o.local_ipv4 = "not-an-address";
  o.local_ipv6.clear();
  EXPECT_EQ(BuildRecorderAnswer(*offer, o).status().message(),
            "sdp answer: local address 'not-an-address' is not an IPv4 literal");
  o = Options(1);
  o.can_decode = nullptr;
  EXPECT_EQ(BuildRecorderAnswer(*offer, o).status().message(),
            "sdp answer: no can_decode predicate");
  o = Options(1);
  o.session_id = "12a";
  EXPECT_EQ(BuildRecorderAnswer(*offer, o).status().message(),
            "sdp answer: session id '12a' is not a decimal number");
}

TEST(SdpAnswerTest, BadKeyFromCallbackIsAnError) {
  auto offer = ParseSdp(
      "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nm=audio 4000 RTP/SAVP 0\n"
      "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" +
      std::string(kOfferKey) + "\n");
  ASSERT_TRUE(offer.ok());
  AnswerOptions o = Options(1);
  o.make_sdes_key = [](std::string_view) -> Result<std::string> { return std::string("AAAA"); };
  EXPECT_EQ(BuildRecorderAnswer(*offer, o).status().message(),
            "sdp answer: the SDES key for AES_CM_128_HMAC_SHA1_80 is invalid");
}

}  // namespace
}  // namespace callvault::siprec
