// SIP start line recognition: requests, responses, RTP and near misses.
#include "capture/sip_start_line.h"

#include <gtest/gtest.h>

namespace callvault::capture {
namespace {

TEST(SipStartLine, RequestsAndResponses) {
  EXPECT_TRUE(LooksLikeSipStartLine("INVITE sip:srs@192.0.2.1 SIP/2.0\r\nVia: x\r\n"));
  EXPECT_TRUE(LooksLikeSipStartLine("OPTIONS sips:a@b;transport=tcp SIP/2.0\n"));
  EXPECT_TRUE(LooksLikeSipStartLine("BYE tel:+15551234 SIP/2.0\r\n"));
  EXPECT_TRUE(LooksLikeSipStartLine("SIP/2.0 200 OK\r\n"));
  EXPECT_TRUE(LooksLikeSipStartLine("SIP/2.0 100\r\n"));
  EXPECT_TRUE(LooksLikeSipStartLine("sip/2.0 180 Ringing\r\n"));
}

TEST(SipStartLine, NotStartLines) {
  EXPECT_FALSE(LooksLikeSipStartLine(""));
  EXPECT_FALSE(LooksLikeSipStartLine("\x80\x08\x00\x01rtp"));
  EXPECT_FALSE(LooksLikeSipStartLine("INVITE sip:a@b SIP/2.0"));  // no LF yet
  EXPECT_FALSE(LooksLikeSipStartLine("Via: SIP/2.0/UDP a\r\n"));
  EXPECT_FALSE(LooksLikeSipStartLine("GET / HTTP/1.1\r\n"));
  EXPECT_FALSE(LooksLikeSipStartLine("SIP/2.0 20 OK\r\n"));
  EXPECT_FALSE(LooksLikeSipStartLine("INVITE  SIP/2.0\r\n"));
  EXPECT_FALSE(LooksLikeSipStartLine("v=0\r\n"));
}

TEST(SipStartLine, FindsTheNextLine) {
  const std::string s = "ength: 0\r\n\r\nbody\r\nACK sip:a@b SIP/2.0\r\nVia: x\r\n";
  EXPECT_EQ(FindSipStartLine(s), s.find("ACK"));
  EXPECT_EQ(FindSipStartLine("no start line\r\nat all\r\n"), std::string_view::npos);
  EXPECT_EQ(FindSipStartLine("x\r\nBYE sip:a@b SIP/2.0"), std::string_view::npos);  // cut
}

}  // namespace
}  // namespace callvault::capture
