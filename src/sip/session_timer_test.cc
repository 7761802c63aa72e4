#include "sip/session_timer.h"

#include <gtest/gtest.h>

namespace callvault::sip {
namespace {

struct Parsed {
  std::string data;
  Message m;
};

std::unique_ptr<Parsed> Request(const std::string& extra) {
  auto p = std::make_unique<Parsed>();
  p->data =
      "INVITE sip:srs@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\n"
      "To: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n" +
      extra + "Content-Length: 0\r\n\r\n";
  ParseResult r = Parse(p->data);
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  p->m = std::move(r.message);
  return p;
}

TEST(SessionExpiresTest, Parses) {
  auto se = ParseSessionExpires("1800;refresher=uac");
  ASSERT_TRUE(se);
  EXPECT_EQ(se->seconds, 1800u);
  EXPECT_EQ(se->refresher, "uac");
  se = ParseSessionExpires(" 90 ; foo=bar ; REFRESHER = UAS");
  ASSERT_TRUE(se);
  EXPECT_EQ(se->seconds, 90u);
  EXPECT_EQ(se->refresher, "uas");
  EXPECT_FALSE(ParseSessionExpires("abc"));
  EXPECT_FALSE(ParseSessionExpires(""));
  EXPECT_FALSE(ParseSessionExpires("99999999999"));
}

TEST(NegotiateTest, NoTimerWhenUacNeitherAsksNorSupports) {
  auto p = Request("");
  EXPECT_FALSE(NegotiateSessionTimer(p->m, 1800, 90).active);
}

TEST(NegotiateTest, SupportedTimerGetsOurDefaultWithUacRefreshing) {
  auto p = Request("Supported: timer\r\n");
  auto d = NegotiateSessionTimer(p->m, 1800, 90);
  EXPECT_TRUE(d.active);
  EXPECT_EQ(d.interval_s, 1800u);
  EXPECT_TRUE(d.refresher_is_uac);
  EXPECT_TRUE(d.require_timer);
  EXPECT_EQ(d.HeaderValue(), "1800;refresher=uac");
}

TEST(NegotiateTest, TheirMinSeRaisesOurDefault) {
  auto p = Request("Supported: timer\r\nMin-SE: 3600\r\n");
  EXPECT_EQ(NegotiateSessionTimer(p->m, 1800, 90).interval_s, 3600u);
}

TEST(NegotiateTest, BelowMinSeIsRejected) {
  auto p = Request("Supported: timer\r\nSession-Expires: 60\r\n");
  auto d = NegotiateSessionTimer(p->m, 1800, 90);
  EXPECT_TRUE(d.reject);
  EXPECT_EQ(d.min_se, 90u);
}

TEST(NegotiateTest, RequestedRefresherIsKept) {
  auto p = Request("Supported: timer\r\nSession-Expires: 600;refresher=uas\r\n");
  auto d = NegotiateSessionTimer(p->m, 1800, 90);
  EXPECT_TRUE(d.active);
  EXPECT_EQ(d.interval_s, 600u);
  EXPECT_FALSE(d.refresher_is_uac);
  EXPECT_FALSE(d.require_timer);
}

TEST(NegotiateTest, SessionExpiresWithoutSupportedMakesUsRefresher) {
  // A proxy added Session-Expires; the UAC itself cannot refresh (RFC 4028 §9).
  auto p = Request("Session-Expires: 600\r\n");
  auto d = NegotiateSessionTimer(p->m, 1800, 90);
  EXPECT_TRUE(d.active);
  EXPECT_FALSE(d.refresher_is_uac);
}

TEST(NegotiateTest, CompactFormIsUnderstood) {
  auto p = Request("k: timer\r\nx: 300;refresher=uac\r\n");
  auto d = NegotiateSessionTimer(p->m, 1800, 90);
  EXPECT_EQ(d.interval_s, 300u);
  EXPECT_TRUE(d.refresher_is_uac);
}

}  // namespace
}  // namespace callvault::sip
