// Malformed-SDP corpus: each broken offer → the exact error, never a crash. Plus truncation and
// byte-flip sweeps over a valid offer (every result is an error or a parse, nothing else).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "siprec/sdp.h"
#include "siprec/sdp_answer.h"

namespace callvault::siprec {
namespace {

// 5 session lines; the first m= is line 6.
constexpr std::string_view kHead =
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n";
constexpr std::string_view kKey = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";

struct Case {
  std::string name;
  std::string sdp;
  std::string error;
};

std::string H(std::string_view rest) { return std::string(kHead) + std::string(rest); }

std::vector<Case> Corpus() {
  std::string many_m(kHead);
  for (int i = 0; i < 1000; ++i)
    many_m += "m=audio " + std::to_string(4000 + 2 * i) + " RTP/AVP 0\r\n";
  std::string many_lines = H("m=audio 4000 RTP/AVP 0\r\n");
  for (int i = 0; i < 1100; ++i) many_lines += "a=x\r\n";
  std::string too_big = H("m=audio 4000 RTP/AVP 0\r\na=x-big:");
  too_big += std::string(kMaxSdpSize + 1 - too_big.size() - 2, 'x') + "\r\n";
  std::string many_formats = H("m=audio 4000 RTP/AVP");
  for (int i = 0; i < 65; ++i) many_formats += " " + std::to_string(i);
  const std::string crypto = "m=audio 4000 RTP/SAVP 0\r\na=crypto:";
  return {
      {"empty", "", "sdp: empty session description"},
      {"only_blank_lines", " \r\n\r\n\n", "sdp: empty session description"},
      {"no_v", "o=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nm=audio 4000 RTP/AVP 0\r\n",
       "sdp: line 1: expected v=0 as the first line"},
      {"v_1", "v=1\r\n", "sdp: line 1: unsupported SDP version '1'"},
      {"duplicate_v", "v=0\r\nv=0\r\n", "sdp: line 2: duplicate v= line"},
      {"no_o", "v=0\r\ns=-\r\nm=audio 4000 RTP/AVP 0\r\n", "sdp: missing o= line"},
      {"o_5_fields", "v=0\r\no=- 1 1 IN IP4\r\n",
       "sdp: line 2: o= needs 6 fields (<username> <sess-id> <sess-version> <nettype> "
       "<addrtype> <address>), got 5"},
      {"duplicate_o", H("o=- 1 1 IN IP4 192.0.2.1\r\n"), "sdp: line 6: duplicate o= line"},
      {"o_in_media", H("m=audio 4000 RTP/AVP 0\r\no=- 1 1 IN IP4 192.0.2.1\r\n"),
       "sdp: line 7: o= inside a media section"},
      {"t_in_media", H("m=audio 4000 RTP/AVP 0\r\nt=0 0\r\n"),
       "sdp: line 7: t= inside a media section"},
      {"line_without_equals", H("hello world\r\n"),
       "sdp: line 6: expected <type>=<value>, got 'hello world'"},
      {"upper_case_type", H("A=sendonly\r\n"),
       "sdp: line 6: expected <type>=<value>, got 'A=sendonly'"},
      {"c_two_fields", H("m=audio 4000 RTP/AVP 0\r\nc=IN IP4\r\n"),
       "sdp: line 7: c= needs 3 fields (<nettype> <addrtype> <address>), got 2"},
      {"c_bad_nettype", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nc=ATM NSAP 47.0005\r\n",
       "sdp: line 3: c= network type 'ATM' is not IN"},
      {"c_bad_addrtype", H("m=audio 4000 RTP/AVP 0\r\nc=IN IP5 192.0.2.1\r\n"),
       "sdp: line 7: c= address type 'IP5' is not IP4 or IP6"},
      {"duplicate_session_c", H("c=IN IP4 192.0.2.2\r\n"),
       "sdp: line 6: duplicate session-level c= line"},
      {"m_port_not_a_number", H("m=audio abc RTP/AVP 0\r\n"),
       "sdp: line 6: m= port is not a number"},
      {"m_port_negative", H("m=audio -1 RTP/AVP 0\r\n"), "sdp: line 6: m= port is not a number"},
      {"m_port_out_of_range", H("m=audio 70000 RTP/AVP 0\r\n"),
       "sdp: line 6: m= port 70000 is out of range 0-65535"},
      {"m_port_count_zero", H("m=audio 4000/0 RTP/AVP 0\r\n"),
       "sdp: line 6: m= port count is not a number between 1 and 65535"},
      {"m_two_fields", H("m=audio 4000\r\n"),
       "sdp: line 6: m= needs <media> <port> <proto> <fmt>..."},
      {"m_no_formats", H("m=audio 4000 RTP/AVP\r\n"), "sdp: line 6: m= line has no formats"},
      {"m_pt_not_a_number", H("m=audio 4000 RTP/AVP 0 PCMU\r\n"),
       "sdp: line 6: m= payload type 'PCMU' is not a number"},
      {"m_pt_128", H("m=audio 4000 RTP/AVP 128\r\n"),
       "sdp: line 6: m= payload type 128 is out of range 0-127"},
      {"m_huge_pt", H("m=audio 4000 RTP/AVP 99999999999999999999999\r\n"),
       "sdp: line 6: m= payload type 99999999999999999999999 is out of range 0-127"},
      {"m_too_many_formats", many_formats, "sdp: line 6: m= line has more than 64 formats"},
      {"m_lines_1000", many_m, "sdp: line 22: more than 16 m= lines"},
      {"rtpmap_without_name", H("m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 /8000\r\n"),
       "sdp: line 7: a=rtpmap:0 has no encoding name"},
      {"rtpmap_empty", H("m=audio 4000 RTP/AVP 0\r\na=rtpmap:0\r\n"),
       "sdp: line 7: a=rtpmap:0 has no encoding name"},
      {"rtpmap_no_rate", H("m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 opus\r\n"),
       "sdp: line 7: a=rtpmap:96 has no clock rate"},
      {"rtpmap_rate_not_a_number", H("m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 opus/fast\r\n"),
       "sdp: line 7: a=rtpmap:96 clock rate is not a number"},
      {"rtpmap_rate_zero", H("m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 opus/0\r\n"),
       "sdp: line 7: a=rtpmap:96 clock rate is not a number"},
      {"rtpmap_huge_pt", H("m=audio 4000 RTP/AVP 0\r\na=rtpmap:300 X/8000\r\n"),
       "sdp: line 7: a=rtpmap payload type 300 is out of range 0-127"},
      {"rtpmap_pt_not_a_number", H("m=audio 4000 RTP/AVP 0\r\na=rtpmap:x X/8000\r\n"),
       "sdp: line 7: a=rtpmap payload type 'x' is not a number"},
      {"crypto_bad_base64", H(crypto + "1 AES_CM_128_HMAC_SHA1_80 inline:not*base64!\r\n"),
       "sdp: line 7: a=crypto key is not valid base64"},
      {"crypto_short_key", H(crypto + "1 AES_CM_128_HMAC_SHA1_80 inline:AAAA\r\n"),
       "sdp: line 7: a=crypto AES_CM_128_HMAC_SHA1_80 key||salt is 3 bytes, expected 30"},
      {"crypto_tag_not_a_number", H(crypto + "one AES_CM_128_HMAC_SHA1_80 inline:AAAA\r\n"),
       "sdp: line 7: a=crypto tag 'one' is not a number"},
      {"crypto_no_key", H(crypto + "1 AES_CM_128_HMAC_SHA1_80\r\n"),
       "sdp: line 7: a=crypto has no key parameters"},
      {"crypto_no_suite", H(crypto + "1\r\n"), "sdp: line 7: a=crypto has no crypto suite"},
      {"crypto_key_without_method",
       H(crypto + "1 AES_CM_128_HMAC_SHA1_80 " + std::string(kKey) + "\r\n"),
       "sdp: line 7: a=crypto key parameter '" + std::string(kKey) + "' is not <method>:<info>"},
      {"crypto_bad_lifetime",
       H(crypto + "1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kKey) + "|2^x\r\n"),
       "sdp: line 7: a=crypto lifetime '2^x' is invalid"},
      {"crypto_bad_mki",
       H(crypto + "1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kKey) + "|1:999\r\n"),
       "sdp: line 7: a=crypto MKI '1:999' is invalid"},
      {"crypto_repeated_tag",
       H(crypto + "1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(kKey) +
         "\r\na=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:" + std::string(kKey) + "\r\n"),
       "sdp: line 8: a=crypto tag 1 repeated"},
      {"binary_junk", std::string("v=0\r\n\x00\x01\x02\xff\xfe", 10),
       "sdp: line 2: control character 0x00"},
      {"elf_header",
       std::string("\x7f"
                   "ELF\x02\x01\x01",
                   7),
       "sdp: line 1: control character 0x7f"},
      {"nul_in_label", H("m=audio 4000 RTP/AVP 0\r\na=label:1") + std::string(1, '\0') + "\r\n",
       "sdp: line 7: control character 0x00"},
      {"too_many_lines", many_lines, "sdp: more than 1024 lines"},
      {"too_large", too_big, "sdp: 65537 bytes exceed the 65536-byte limit"},
  };
}

class SdpMalformedCorpusTest : public ::testing::TestWithParam<Case> {};

TEST_P(SdpMalformedCorpusTest, FailsWithItsError) {
  const Case& c = GetParam();
  auto r = ParseSdp(c.sdp);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), c.error);
}

INSTANTIATE_TEST_SUITE_P(Corpus, SdpMalformedCorpusTest, ::testing::ValuesIn(Corpus()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

TEST(SdpMalformedTest, CorpusHasAtLeast20Cases) { EXPECT_GE(Corpus().size(), 20u); }

constexpr std::string_view kValid =
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/SAVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20\r\n"
    "a=rtcp:4001\r\na=label:1\r\na=sendonly\r\n"
    "m=audio 4002 RTP/AVP 18 0\r\nc=IN IP6 2001:db8::1\r\na=label:2\r\na=inactive\r\n";

// Every accepted input must also yield a re-parsable answer with as many m= lines.
void CheckAnswer(const SessionDescription& sd) {
  AnswerOptions o;
  o.local_ipv4 = "198.51.100.1";
  o.session_id = "1";
  o.ports.assign(sd.media.size(), 20000);
  o.can_decode = [](const codec::CodecSpec& c) { return !c.name.empty(); };
  o.make_sdes_key = [](std::string_view) -> Result<std::string> {
    return std::string("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd");
  };
  auto answer = BuildRecorderAnswer(sd, o);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  auto again = ParseSdp(answer->text);
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << answer->text;
  EXPECT_EQ(again->media.size(), sd.media.size());
}

TEST(SdpMalformedTest, EveryTruncationParsesOrFailsCleanly) {
  for (size_t n = 0; n <= kValid.size(); ++n) {
    auto r = ParseSdp(kValid.substr(0, n));
    if (r.ok()) CheckAnswer(*r);
  }
}

TEST(SdpMalformedTest, RandomByteFlipsParseOrFailCleanly) {
  std::mt19937 rng(7866);
  const std::string alphabet = "v=om0 :/\r\n\t-a1|;crypto";
  for (int i = 0; i < 3000; ++i) {
    std::string s(kValid);
    for (int k = 0; k < 3; ++k) {
      const size_t pos = rng() % s.size();
      s[pos] =
          (rng() % 4 == 0) ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
    }
    auto r = ParseSdp(s);
    if (r.ok()) CheckAnswer(*r);
  }
}

}  // namespace
}  // namespace callvault::siprec
