// SDP parser tests: SDP in → fields and warnings out. The SDPs are our own, modelled on the
// vendor quirks listed in ../shared/siprec-samples/SOURCES.md (named after the vendor).
#include "siprec/sdp.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "siprec/sdp_crypto.h"

namespace callvault::siprec {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string Crlf(std::string_view lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

SessionDescription MustParse(std::string_view text) {
  auto r = ParseSdp(text);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : SessionDescription{};
}

// Oracle/Acme SBC: labels are big integers, a=label before a=sendonly, maxptime on the 2nd.
constexpr std::string_view kOracle =
    "v=0\n"
    "o=- 20076 595552 IN IP4 192.0.2.140\n"
    "s=-\n"
    "c=IN IP4 192.0.2.141\n"
    "t=0 0\n"
    "m=audio 20106 RTP/AVP 0 101\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=rtpmap:101 telephone-event/8000\n"
    "a=fmtp:101 0-15\n"
    "a=ptime:20\n"
    "a=label:16777227\n"
    "a=sendonly\n"
    "m=audio 20110 RTP/AVP 0\n"
    "a=rtpmap:0 PCMU/8000\n"
    "a=maxptime:150\n"
    "a=sendonly\n"
    "a=label:16777228\n";

TEST(SdpParseTest, OracleTwoStreamsCrlf) {
  const SessionDescription sd = MustParse(Crlf(kOracle));
  EXPECT_EQ(sd.origin.username, "-");
  EXPECT_EQ(sd.origin.session_id, "20076");
  EXPECT_EQ(sd.origin.session_version, "595552");
  EXPECT_EQ(sd.origin.net_type, "IN");
  EXPECT_EQ(sd.origin.addr_type, "IP4");
  EXPECT_EQ(sd.origin.address, "192.0.2.140");
  EXPECT_EQ(sd.session_name, "-");
  ASSERT_TRUE(sd.connection.has_value());
  EXPECT_EQ(sd.connection->address, "192.0.2.141");
  EXPECT_EQ(sd.timing, "0 0");
  EXPECT_THAT(sd.warnings, IsEmpty());
  ASSERT_EQ(sd.media.size(), 2u);
  const MediaDescription& m0 = sd.media[0];
  EXPECT_EQ(m0.line, 6u);
  EXPECT_EQ(m0.media, "audio");
  EXPECT_EQ(m0.port, 20106);
  EXPECT_EQ(m0.port_count, 1);
  EXPECT_EQ(m0.proto, "RTP/AVP");
  EXPECT_THAT(m0.formats, ElementsAre("0", "101"));
  ASSERT_EQ(m0.payloads.size(), 2u);
  EXPECT_EQ(m0.payloads[0].codec.name, "PCMU");
  EXPECT_TRUE(m0.payloads[0].has_rtpmap);
  EXPECT_EQ(m0.payloads[1].payload_type, 101);
  EXPECT_EQ(m0.payloads[1].codec.name, "telephone-event");
  EXPECT_EQ(m0.payloads[1].codec.fmtp, "0-15");
  EXPECT_EQ(m0.connection.address, "192.0.2.141");
  EXPECT_FALSE(m0.connection_is_media_level);
  EXPECT_EQ(m0.direction, Direction::kSendOnly);
  EXPECT_TRUE(m0.direction_explicit);
  EXPECT_EQ(m0.label, "16777227");
  EXPECT_EQ(m0.ptime, 20);
  EXPECT_EQ(m0.payloads[0].codec.ptime_ms, 20);  // a=ptime applies to every format
  EXPECT_EQ(sd.media[1].payloads[0].codec.ptime_ms, 0);
  EXPECT_FALSE(m0.maxptime.has_value());
  EXPECT_EQ(sd.media[1].label, "16777228");
  EXPECT_EQ(sd.media[1].maxptime, 150);
  EXPECT_THAT(m0.attributes, IsEmpty());
}

TEST(SdpParseTest, LfOnlySameAsCrlf) {
  const SessionDescription a = MustParse(kOracle);
  const SessionDescription b = MustParse(Crlf(kOracle));
  ASSERT_EQ(a.media.size(), b.media.size());
  EXPECT_EQ(a.media[1].label, b.media[1].label);
  EXPECT_EQ(a.media[0].payloads[1].codec.fmtp, b.media[0].payloads[1].codec.fmtp);
}

// Oracle fronting Avaya: the 2nd m-line lists static PT 8 without a=rtpmap.
// Oracle SBC (MiaRec replay): a stray "--metaswitch-boundary" part embedded after the SDP.
TEST(SdpParseTest, ForeignBoundaryLineEndsTheSdp) {
  auto sd = ParseSdp(
      "v=0\r\no=- 7097 237305 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 8 0\r\na=label:16777227\r\na=sendonly\r\n\r\n"
      "--metaswitch-boundary \r\nContent-Type: application/sdp\r\n\r\nv=0\r\n"
      "o=- 1 1 IN IP4 192.0.2.1\r\nm=audio 4002 RTP/AVP 8\r\n");
  ASSERT_TRUE(sd.ok()) << sd.status().ToString();
  ASSERT_EQ(sd->media.size(), 1u);
  EXPECT_EQ(sd->media[0].port, 4000);
  bool warned = false;
  for (const auto& w : sd->warnings) warned |= w.find("foreign MIME boundary") != std::string::npos;
  EXPECT_TRUE(warned);
  // Before any m= line it is still an error (nothing usable was described).
  EXPECT_FALSE(ParseSdp("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n--b\r\n").ok());
}

TEST(SdpParseTest, StaticPayloadTypesWithoutRtpmap) {
  const SessionDescription sd = MustParse(
      "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 33806 RTP/AVP 8 18 9 3 4 13 101\r\na=rtpmap:101 telephone-event/8000\r\n");
  const MediaDescription& m = sd.media[0];
  ASSERT_EQ(m.payloads.size(), 7u);
  const char* names[] = {"PCMA", "G729", "G722", "GSM", "G723", "CN"};
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(m.payloads[i].codec.name, names[i]);
    EXPECT_EQ(m.payloads[i].codec.clock_rate, 8000);
    EXPECT_FALSE(m.payloads[i].has_rtpmap);
  }
  EXPECT_EQ(m.FindPayload(101)->codec.name, "telephone-event");
  EXPECT_EQ(m.direction, Direction::kSendRecv);  // no direction attribute at all
  EXPECT_FALSE(m.direction_explicit);
  EXPECT_FALSE(m.label.has_value());
  EXPECT_THAT(sd.warnings, IsEmpty());
}

// OpenSIPS (Connectel): no c= and no t= at all.
TEST(SdpParseTest, OpensipsNoConnectionNoTiming) {
  const SessionDescription sd = MustParse(
      "v=0\no=- 1516628962 0 IN IP4 0.0.0.0\ns=-\nm=audio 35011 RTP/AVP 0 8 3 101\n"
      "a=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000\na=rtpmap:3 GSM/8000\n"
      "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\na=maxptime:150\na=label:1\n"
      "a=sendonly\n");
  EXPECT_FALSE(sd.connection.has_value());
  EXPECT_FALSE(sd.timing.has_value());
  ASSERT_EQ(sd.media.size(), 1u);
  EXPECT_EQ(sd.media[0].connection.address, "");
  EXPECT_THAT(sd.warnings,
              ElementsAre("line 1: missing t= line",
                          "line 4: no c= line for this media (session or media level); address "
                          "left empty"));
}

// Oracle 2023: media-level c= on some m-lines, `pcmu/8000a`, inactive m-lines without rtpmap.
TEST(SdpParseTest, OracleMediaLevelConnectionAndGarbageClockRate) {
  const SessionDescription sd = MustParse(
      "v=0\no=- 13849481 771639 IN IP4 10.23.90.68\ns=-\nc=IN IP4 10.23.90.86\nt=0 0\n"
      "m=audio 33098 RTP/AVP 0 101\na=rtpmap:0 pcmu/8000a\na=rtpmap:101 telephone-event/8000\n"
      "a=sendonly\na=label:268749245\n"
      "m=audio 59064 RTP/AVP 0 8 18 4 9 100 101\nc=IN IP4 10.23.90.113\na=label:268749246\n"
      "a=inactive\n");
  ASSERT_EQ(sd.media.size(), 2u);
  const PayloadFormat& pcmu = sd.media[0].payloads[0];
  EXPECT_EQ(pcmu.codec.name, "PCMU");
  EXPECT_EQ(pcmu.encoding_name_as_written, "pcmu");
  EXPECT_EQ(pcmu.codec.clock_rate, 8000);
  EXPECT_EQ(sd.media[0].connection.address, "10.23.90.86");
  EXPECT_EQ(sd.media[1].connection.address, "10.23.90.113");
  EXPECT_TRUE(sd.media[1].connection_is_media_level);
  EXPECT_EQ(sd.media[1].direction, Direction::kInactive);
  EXPECT_EQ(sd.media[1].payloads[5].codec.name, "");  // 100: dynamic without rtpmap
  EXPECT_THAT(sd.warnings,
              ElementsAre("line 7: a=rtpmap:0 garbage 'a' after the clock rate ignored",
                          "line 11: payload type 100 has no a=rtpmap and is not static; it "
                          "cannot be used",
                          "line 11: payload type 101 has no a=rtpmap and is not static; it "
                          "cannot be used"));
}

// SEMS: a=direction:both next to a=sendonly, labels a_leg/b_leg.
TEST(SdpParseTest, SemsDirectionBothIgnored) {
  const SessionDescription sd = MustParse(
      "v=0\no=sems 1 2 IN IP4 192.0.2.7\ns=sems\nc=IN IP4 192.0.2.7\nt=0 0\n"
      "m=audio 12654 RTP/AVP 8\nc=IN IP4 192.0.2.7\na=rtpmap:8 PCMA/8000\na=direction:both\n"
      "a=sendonly\na=label:a_leg\n");
  const MediaDescription& m = sd.media[0];
  EXPECT_EQ(m.direction, Direction::kSendOnly);
  EXPECT_EQ(m.label, "a_leg");
  ASSERT_EQ(m.attributes.size(), 1u);
  EXPECT_EQ(m.attributes[0].name, "direction");
  EXPECT_EQ(m.attributes[0].value, "both");
  EXPECT_THAT(sd.warnings,
              ElementsAre("line 9: a=direction:both is not a media direction (RFC 4145); ignored"));
}

TEST(SdpParseTest, SessionLevelDirectionIsTheDefault) {
  const SessionDescription sd = MustParse(
      "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\na=sendonly\n"
      "m=audio 4000 RTP/AVP 0\nm=audio 4002 RTP/AVP 0\na=inactive\n");
  EXPECT_EQ(sd.direction, Direction::kSendOnly);
  EXPECT_EQ(sd.media[0].direction, Direction::kSendOnly);
  EXPECT_TRUE(sd.media[0].direction_explicit);
  EXPECT_EQ(sd.media[1].direction, Direction::kInactive);
}

TEST(SdpParseTest, Ipv6ConnectionAndOrigin) {
  const SessionDescription sd = MustParse(
      "v=0\no=- 1 1 IN IP6 2001:db8::1\ns=-\nc=IN IP6 2001:db8::2\nt=0 0\n"
      "m=audio 4000 RTP/AVP 0\nc=IN IP6 2001:db8::3\n");
  EXPECT_EQ(sd.origin.addr_type, "IP6");
  EXPECT_EQ(sd.connection->addr_type, "IP6");
  EXPECT_EQ(sd.media[0].connection.address, "2001:db8::3");
  EXPECT_THAT(sd.warnings, IsEmpty());
}

TEST(SdpParseTest, MulticastTtlStrippedAndHostnameWarned) {
  const SessionDescription sd = MustParse(
      "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 233.252.0.1/127\nt=0 0\n"
      "m=audio 4000/2 RTP/AVP 0\nc=IN IP4 media.example.com\n");
  EXPECT_EQ(sd.connection->address, "233.252.0.1");
  EXPECT_EQ(sd.media[0].port_count, 2);
  EXPECT_EQ(sd.media[0].connection.address, "media.example.com");
  EXPECT_THAT(sd.warnings,
              ElementsAre("line 7: c= address 'media.example.com' is not an IP4 literal"));
}

TEST(SdpParseTest, CryptoRtcpAndRawAttributes) {
  const SessionDescription sd = MustParse(
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nb=AS:80\r\n"
      "a=group:BUNDLE 0\r\n"
      "m=audio 4000 RTP/SAVP 0\r\nb=TIAS:64000\r\na=mid:0\r\n"
      "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
      "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4\r\n"
      "a=crypto:2 AES_256_CM_HMAC_SHA1_80 "
      "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLQ==\r\n"
      "a=crypto:3 AES_CM_128_HMAC_SHA1_32 "
      "inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj UNENCRYPTED_SRTCP\r\n"
      "a=rtcp:4001 IN IP4 192.0.2.9\r\na=rtcp-mux\r\na=ptime:20.0\r\na=x-vendor\r\n");
  EXPECT_THAT(sd.warnings, IsEmpty());
  ASSERT_EQ(sd.bandwidths.size(), 1u);
  EXPECT_EQ(sd.bandwidths[0].type, "AS");
  EXPECT_EQ(sd.bandwidths[0].value, 80u);
  ASSERT_EQ(sd.attributes.size(), 1u);
  EXPECT_EQ(sd.attributes[0].name, "group");
  const MediaDescription& m = sd.media[0];
  EXPECT_TRUE(m.IsRtp());
  EXPECT_TRUE(m.IsSrtp());
  EXPECT_FALSE(m.IsDtlsSrtp());
  EXPECT_EQ(m.bandwidths[0].type, "TIAS");
  ASSERT_EQ(m.crypto.size(), 3u);
  EXPECT_EQ(m.crypto[0].tag, 1u);
  EXPECT_EQ(m.crypto[0].suite, "AES_CM_128_HMAC_SHA1_80");
  EXPECT_EQ(m.crypto[0].master_key.size(), 30u);
  EXPECT_EQ(m.crypto[0].lifetime, "2^20");
  EXPECT_EQ(m.crypto[0].mki, "1:4");
  EXPECT_EQ(m.crypto[1].master_key.size(), 46u);
  EXPECT_EQ(m.crypto[1].master_key[45], '\x2d');
  EXPECT_EQ(m.crypto[2].session_params, "UNENCRYPTED_SRTCP");
  EXPECT_EQ(m.rtcp_port, 4001);
  EXPECT_EQ(m.rtcp_address, "192.0.2.9");
  EXPECT_TRUE(m.rtcp_mux);
  EXPECT_EQ(m.ptime, 20);
  ASSERT_EQ(m.attributes.size(), 2u);
  EXPECT_EQ(m.attributes[0].name, "mid");
  EXPECT_EQ(m.attributes[0].value, "0");
  EXPECT_EQ(m.attributes[1].name, "x-vendor");
  EXPECT_FALSE(m.attributes[1].has_value);
}

TEST(SdpParseTest, ToleratedQuirksAreWarnings) {
  const SessionDescription sd = MustParse(
      "v=0\no=- abc 1 IN IP4 192.0.2.1\nc=IN IP4 192.0.2.1\nt=0 0\n\n"
      "m=audio 4000 RTP/AVP 0 0 97 \nx=unknown\na=rtpmap:8 PCMA/8000\na=rtpmap:0 PCMA/8000\n"
      "a=rtpmap:97 opus/48000/two\na=fmtp:96 x\na=sendonly\na=recvonly\na=label:\n"
      "a=label:1\na=label:2\na=ptime:x\na=rtcp:x\nb=XY\na=crypto:1 AES_CM_128_HMAC_SHA1_80 "
      "foo:bar\n\n\n");
  const MediaDescription& m = sd.media[0];
  EXPECT_EQ(m.FindPayload(0)->codec.name, "PCMA");
  EXPECT_EQ(m.FindPayload(97)->codec.name, "opus");
  EXPECT_EQ(m.FindPayload(97)->codec.channels, 1);
  EXPECT_EQ(m.direction, Direction::kSendOnly);
  EXPECT_EQ(m.label, "1");
  EXPECT_THAT(m.crypto, IsEmpty());
  EXPECT_THAT(
      sd.warnings,
      ElementsAre("line 2: o= sess-id 'abc' is not numeric", "line 5: empty line ignored",
                  "line 6: leading or trailing whitespace ignored", "line 1: missing s= line",
                  "line 6: m= payload type 0 listed twice; the repeat is ignored",
                  "line 7: unknown line type 'x=' ignored",
                  "line 10: a=rtpmap:97 encoding parameters 'two' are not a channel count; 1 "
                  "channel assumed",
                  "line 13: second direction attribute 'recvonly' ignored",
                  "line 14: empty a=label ignored", "line 16: second a=label ignored",
                  "line 17: a=ptime:x is not a number; ignored",
                  "line 18: a=rtcp:x is not <port> [IN IP4|IP6 <address>]; ignored",
                  "line 19: b= 'XY' is not <bwtype>:<bandwidth>; ignored",
                  "line 20: a=crypto key method 'foo' is not inline; line ignored",
                  "line 8: a=rtpmap:8 for a payload type not on the m= line ignored",
                  "line 9: a=rtpmap:0 maps static payload type 0 (PCMU) to PCMA",
                  "line 11: a=fmtp:96 for a format not on the m= line ignored"));
}

TEST(SdpParseTest, WarningsAreBounded) {
  std::string sdp = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=audio 4000 RTP/AVP 0\n";
  for (int i = 0; i < 100; ++i) sdp += "a=rtpmap:" + std::to_string(i + 1) + " X/8000\n";
  const SessionDescription sd = MustParse(sdp);
  EXPECT_EQ(sd.warnings.size(), kMaxSdpWarnings);
  EXPECT_EQ(sd.warnings_dropped, 101u - kMaxSdpWarnings);
}

TEST(SdpParseTest, NonRtpMediaKeepsRawFormats) {
  const SessionDescription sd = MustParse(
      "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
      "m=image 5000 udptl t38\na=T38FaxVersion:0\nm=application 9 TCP/MRCPv2 1\n");
  EXPECT_FALSE(sd.media[0].IsRtp());
  EXPECT_THAT(sd.media[0].formats, ElementsAre("t38"));
  EXPECT_THAT(sd.media[0].payloads, IsEmpty());
  EXPECT_EQ(sd.media[1].proto, "TCP/MRCPv2");
}

TEST(SdpParseTest, StaticTableAndCanonicalNames) {
  EXPECT_EQ(StaticPayloadCodec(0)->name, "PCMU");
  EXPECT_EQ(StaticPayloadCodec(9)->name, "G722");
  EXPECT_EQ(StaticPayloadCodec(9)->clock_rate, 8000);
  EXPECT_EQ(StaticPayloadCodec(10)->channels, 2);
  EXPECT_EQ(StaticPayloadCodec(18)->name, "G729");
  EXPECT_FALSE(StaticPayloadCodec(2).has_value());
  EXPECT_FALSE(StaticPayloadCodec(96).has_value());
  EXPECT_EQ(CanonicalEncodingName("pcmu"), "PCMU");
  EXPECT_EQ(CanonicalEncodingName("TELEPHONE-EVENT"), "telephone-event");
  EXPECT_EQ(CanonicalEncodingName("OPUS"), "opus");
  EXPECT_EQ(CanonicalEncodingName("x-Foo"), "x-Foo");
  EXPECT_TRUE(EncodingIs("g722", "G722"));
  EXPECT_EQ(DirectionName(Direction::kRecvOnly), "recvonly");
}

TEST(SdesTest, Base64AndKeys) {
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Decode("Zm8="), "fo");
  EXPECT_EQ(Base64Decode("Zm8"), "fo");
  EXPECT_EQ(Base64Decode("Zm9vYg=="), "foob");
  EXPECT_FALSE(Base64Decode("Zm9=").has_value());  // non-canonical trailing bits
  EXPECT_FALSE(Base64Decode("Z").has_value());
  EXPECT_FALSE(Base64Decode("Zm 8").has_value());
  EXPECT_FALSE(Base64Decode("").has_value());
  for (std::string_view suite :
       {"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AES_256_CM_HMAC_SHA1_80"}) {
    EXPECT_TRUE(IsSupportedSdesSuite(suite));
    auto k1 = GenerateSdesKey(suite);
    auto k2 = GenerateSdesKey(suite);
    ASSERT_TRUE(k1.ok());
    EXPECT_EQ(Base64Decode(*k1)->size(), *SdesMasterKeyLength(suite));
    EXPECT_NE(*k1, *k2);
  }
  EXPECT_FALSE(IsSupportedSdesSuite("AEAD_AES_256_GCM"));
  EXPECT_EQ(SdesMasterKeyLength("AEAD_AES_256_GCM"), 44u);
  EXPECT_EQ(GenerateSdesKey("F8_128_HMAC_SHA1_80").status().message(),
            "sdes: unsupported SRTP crypto suite 'F8_128_HMAC_SHA1_80'");
}

}  // namespace
}  // namespace callvault::siprec
