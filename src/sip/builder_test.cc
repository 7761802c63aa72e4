// Builder tests: what ResponseTo copies (RFC 3261 §8.2.6.2) and that nothing can inject a line.
#include "sip/builder.h"

#include <gtest/gtest.h>

namespace callvault::sip {
namespace {

const char kRequest[] =
    "INVITE sip:srs@h SIP/2.0\r\n"
    "Via: SIP/2.0/UDP p1;branch=z9hG4bK1\r\n"
    "Via: SIP/2.0/UDP p2;branch=z9hG4bK2,\r\n SIP/2.0/UDP p3;branch=z9hG4bK3\r\n"
    "From: <sip:a@h>;tag=f\r\nTo: <sip:b@h>\r\nCall-ID: c1\r\nCSeq: 5 INVITE\r\n"
    "Content-Length: 0\r\n\r\n";

TEST(BuilderTest, ResponseToCopiesTheRequiredHeadersAndAddsTheTag) {
  ParseResult req = Parse(kRequest);
  ASSERT_TRUE(req.status.ok()) << req.status.ToString();
  std::string out = ResponseTo(req.message, 200, {}, "mytag").Header("Server", "cv").Build();
  EXPECT_EQ(out,
            "SIP/2.0 200 OK\r\n"
            "Via: SIP/2.0/UDP p1;branch=z9hG4bK1\r\n"
            "Via: SIP/2.0/UDP p2;branch=z9hG4bK2, SIP/2.0/UDP p3;branch=z9hG4bK3\r\n"
            "From: <sip:a@h>;tag=f\r\nTo: <sip:b@h>;tag=mytag\r\nCall-ID: c1\r\nCSeq: 5 INVITE\r\n"
            "Server: cv\r\nContent-Length: 0\r\n\r\n");
  ParseResult back = Parse(out);
  ASSERT_TRUE(back.status.ok()) << back.status.ToString();
  EXPECT_EQ(back.message.to.tag, "mytag");
  EXPECT_EQ(back.message.AllVias().size(), 3u);
}

TEST(BuilderTest, RequestWithBodyAndNoInjection) {
  std::string out = MessageBuilder::Request("BYE", "sip:x@h")
                        .Header("Reason", "SIP;text=\"a\r\nInjected: yes\"")
                        .Body("application/sdp", "v=0\r\n")
                        .Build();
  EXPECT_EQ(out.find("\r\nInjected"), std::string::npos);
  EXPECT_NE(out.find("Content-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n"),
            std::string::npos);
  EXPECT_EQ(DefaultReason(487), "Request Terminated");
  EXPECT_EQ(DefaultReason(299), "Unknown");
}

}  // namespace
}  // namespace callvault::sip
