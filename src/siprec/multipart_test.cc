// Multipart splitter tests: body in → parts (content type, headers, exact body bytes) and
// warnings out, or the error. Vendor quirks are named after the vendor whose traffic showed
// them (../shared/siprec-samples/SOURCES.md); the messages here are our own.
#include "siprec/multipart.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace callvault::siprec {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr std::string_view kSdp =
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 0\r\na=label:1\r\na=sendonly\r\n";
constexpr std::string_view kXml =
    "<?xml version=\"1.0\"?>\r\n<recording xmlns=\"urn:ietf:params:xml:ns:recording:1\">\r\n"
    "<datamode>complete</datamode>\r\n</recording>";

// A well-formed SIPREC body with CRLF line ends: SDP then metadata, closing delimiter.
std::string SiprecBody(std::string_view boundary = "b1") {
  std::string b = "--" + std::string(boundary) + "\r\n";
  b += "Content-Type: application/sdp\r\n\r\n";
  b += kSdp;
  b += "\r\n--" + std::string(boundary) + "\r\n";
  b += "Content-Type: application/rs-metadata+xml\r\n";
  b += "Content-Disposition: recording-session\r\n\r\n";
  b += kXml;
  b += "\r\n--" + std::string(boundary) + "--\r\n";
  return b;
}

std::string Lf(std::string s) {
  std::string out;
  for (char c : s) {
    if (c != '\r') out += c;
  }
  return out;
}

bool PointsInto(std::string_view view, std::string_view buffer) {
  return view.data() >= buffer.data() && view.data() + view.size() <= buffer.data() + buffer.size();
}

TEST(MultipartTest, UnquotedBoundaryCrlf) {
  const std::string body = SiprecBody();
  auto r = SplitMultipart("multipart/mixed;boundary=b1", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->parts.size(), 2u);
  EXPECT_EQ(r->parts[0].content_type, "application/sdp");
  EXPECT_EQ(r->parts[0].body, kSdp);  // the CRLF before the delimiter belongs to the delimiter
  EXPECT_EQ(r->parts[1].content_type, "application/rs-metadata+xml");
  EXPECT_EQ(r->parts[1].content_disposition, "recording-session");
  EXPECT_EQ(r->parts[1].body, kXml);
  EXPECT_THAT(r->warnings, IsEmpty());
  ASSERT_EQ(r->parts[1].headers.size(), 2u);
  EXPECT_EQ(r->parts[1].headers[1].id, sip::HeaderId::kContentDisposition);
  // Zero copy: every view points into the input.
  for (const BodyPart& p : r->parts) {
    EXPECT_TRUE(PointsInto(p.body, body));
    EXPECT_TRUE(PointsInto(p.content_type, body));
  }
}

TEST(MultipartTest, QuotedBoundaryWithSpaceAndSpecials) {
  const std::string boundary = "Part '(x)'+_,-./:=? 1";
  const std::string ct = "Multipart/Mixed; charset=utf-8; BOUNDARY=\"" + boundary + "\"";
  auto b = ContentTypeParam(ct, "boundary");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*b, boundary);
  EXPECT_TRUE(PointsInto(*b, ct));
  const std::string body = SiprecBody(boundary);
  auto r = SplitMultipart(ct, body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->parts.size(), 2u);
}

TEST(MultipartTest, LfOnlyLineEnds) {
  const std::string body = Lf(SiprecBody());
  auto r = SplitMultipart("multipart/mixed;boundary=b1", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->parts.size(), 2u);
  EXPECT_EQ(r->parts[0].body, Lf(std::string(kSdp)));
  EXPECT_EQ(r->parts[1].body, Lf(std::string(kXml)));
  EXPECT_THAT(r->warnings, IsEmpty());
}

TEST(MultipartTest, PreambleAndLeadingBlankLinesAreIgnored) {
  // Intrado/Oracle bodies begin with a blank line; RFC 2046 allows any preamble.
  const std::string body = "\r\n\r\nThis is a MIME preamble.\r\n" + SiprecBody();
  auto r = SplitMultipart("multipart/mixed;boundary=b1", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->parts.size(), 2u);
  EXPECT_EQ(r->parts[0].body, kSdp);
  EXPECT_THAT(r->warnings, IsEmpty());
}

TEST(MultipartTest, BroadWorksLeadingSpacesBeforeFirstBoundary) {
  // A line of spaces (legal preamble), then an indented first delimiter (tolerated, warned).
  const std::string body = "  \n   " + Lf(SiprecBody());
  auto r = SplitMultipart("multipart/mixed;boundary=b1", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->parts.size(), 2u);
  EXPECT_THAT(r->warnings, ElementsAre(HasSubstr("whitespace before the first boundary")));
}

TEST(MultipartTest, SonusMissingClosingBoundary) {
  std::string body = SiprecBody();
  body.resize(body.size() - std::string_view("\r\n--b1--\r\n").size());
  body += "\r\n";
  auto r = SplitMultipart("multipart/mixed;boundary=b1", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->parts.size(), 2u);
  EXPECT_EQ(r->parts[1].body, std::string(kXml) + "\r\n");  // up to the end of the body
  EXPECT_THAT(r->warnings, ElementsAre(HasSubstr("missing closing boundary")));
}

TEST(MultipartTest, OracleClosingBoundaryFollowedByTrailingSpaces) {
  std::string body = SiprecBody();
  body.resize(body.size() - 2);  // drop the final CRLF
  body += " \t \r\n";
  auto r = SplitMultipart("multipart/mixed;boundary=b1", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->parts.size(), 2u);
  EXPECT_THAT(r->warnings, IsEmpty());
  // Without any line break after the closing delimiter (Oracle 2024 INVITE) too.
  body.resize(body.size() - 5);
  r = SplitMultipart("multipart/mixed;boundary=b1", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(r->warnings, IsEmpty());
}

TEST(MultipartTest, EpilogueIsIgnoredWithWarning) {
  const std::string body = SiprecBody() + "epilogue text\r\n--b1\r\n\r\nnot a part\r\n";
  auto r = SplitMultipart("multipart/mixed;boundary=b1", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->parts.size(), 2u);
  EXPECT_THAT(r->warnings, ElementsAre(HasSubstr("after the closing boundary")));
}

TEST(MultipartTest, WebexMetadataPartFirst) {
  const std::string body =
      "--x\r\nContent-Type: application/rs-metadata+xml\r\n"
      "Content-Disposition: recording-session\r\n\r\n" +
      std::string(kXml) + "\r\n--x\r\nContent-Type: application/sdp\r\n\r\n" + std::string(kSdp) +
      "\r\n--x--\r\n";
  auto r = SplitMultipart("multipart/mixed;boundary=x", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->parts.size(), 2u);
  EXPECT_TRUE(IsRecordingMetadata(r->parts[0].content_type));
  EXPECT_TRUE(MediaTypeIs(r->parts[1].content_type, "application/sdp"));
  EXPECT_EQ(r->parts[1].body, kSdp);
}

TEST(MultipartTest, CiscoThirdGtdPart) {
  std::string body = SiprecBody();
  body.resize(body.size() - std::string_view("--b1--\r\n").size());
  body +=
      "--b1\r\nContent-Type: application/gtd\r\n"
      "Content-Disposition: signal;handling=optional\r\n\r\nIAM,\r\nGCI,9103612857\r\n--b1--\r\n";
  auto r = SplitMultipart("multipart/mixed;boundary=b1", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->parts.size(), 3u);
  EXPECT_TRUE(MediaTypeIs(r->parts[2].content_type, "application/gtd"));
  EXPECT_EQ(r->parts[2].content_disposition, "signal;handling=optional");
  EXPECT_EQ(r->parts[2].body, "IAM,\r\nGCI,9103612857");
}

TEST(MultipartTest, PerPartContentLengthAgreeingAndDisagreeing) {
  const std::string sdp(kSdp);
  std::string body =
      "--b\r\nContent-Type: application/sdp\r\nContent-Length: " + std::to_string(sdp.size()) +
      "\r\n\r\n" + sdp +
      "\r\n--b\r\nContent-Type: application/rs-metadata+xml\r\n"
      "Content-Length: 2012\r\n\r\n" +
      std::string(kXml) + "\r\n--b--\r\n";
  auto r = SplitMultipart("multipart/mixed;boundary=b", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->parts.size(), 2u);
  EXPECT_EQ(r->parts[0].body, kSdp);
  EXPECT_EQ(r->parts[1].body, kXml);  // the boundary wins
  EXPECT_THAT(r->warnings, ElementsAre(HasSubstr("part 2: Content-Length 2012 disagrees")));
}

TEST(MultipartTest, RsMetadataWithAndWithoutXmlSuffix) {
  for (std::string_view type : {"application/rs-metadata", "application/rs-metadata+xml",
                                "Application/RS-Metadata+XML;charset=UTF-8"}) {
    std::string body =
        "--b\r\nContent-Type: " + std::string(type) + "\r\n\r\n" + std::string(kXml) + "\r\n--b--";
    auto r = SplitMultipart("multipart/mixed;boundary=b", body);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->parts.size(), 1u);
    EXPECT_TRUE(IsRecordingMetadata(r->parts[0].content_type)) << type;
    EXPECT_EQ(r->parts[0].content_type, type);
  }
  EXPECT_FALSE(IsRecordingMetadata("application/rs-metadata-request"));
  EXPECT_FALSE(IsRecordingMetadata("application/sdp"));
}

TEST(MultipartTest, BroadWorksHeadersWithoutSpaceAfterColonAndMangledType) {
  const std::string body =
      "--B\nContent-Type:application/ +xml\nContent-Disposition:recording-session\n"
      "Content-Length:4\n\ntext\n--B\nContent-Type:application/sdp\n\nv=0\n\n--B--\n";
  auto r = SplitMultipart("multipart/mixed;boundary=B", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->parts.size(), 2u);
  EXPECT_EQ(r->parts[0].content_type, "application/ +xml");
  EXPECT_EQ(r->parts[0].content_disposition, "recording-session");
  EXPECT_EQ(r->parts[0].body, "text");
  EXPECT_EQ(r->parts[1].content_type, "application/sdp");
  EXPECT_EQ(r->parts[1].body, "v=0\n");
  EXPECT_THAT(r->warnings, ElementsAre(HasSubstr("part 1: malformed Content-Type")));
}

TEST(MultipartTest, OracleUnknownBoundaryInsidePartIsContent) {
  const std::string first =
      "v=0\r\nm=audio 4000 RTP/AVP 8\r\n\r\n--other-boundary\r\nContent-Type: application/sdp"
      "\r\n\r\nv=0\r\n--b1x\r\n--b1--x\r\n-- b1\r\n";
  const std::string body = "--b1\r\nContent-Type: application/sdp\r\n\r\n" + first +
                           "\r\n--b1\r\nContent-Type: application/rs-metadata+xml\r\n\r\n" +
                           std::string(kXml) + "\r\n--b1--\r\n";
  auto r = SplitMultipart("multipart/mixed; boundary=b1", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->parts.size(), 2u);
  EXPECT_EQ(r->parts[0].body, first);
  EXPECT_THAT(r->warnings, IsEmpty());
}

TEST(MultipartTest, PartWithoutHeaders) {
  auto r = SplitMultipart("multipart/mixed;boundary=b", "--b\r\n\r\nplain text\r\n--b--");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->parts.size(), 1u);
  EXPECT_EQ(r->parts[0].content_type, "");  // RFC 2046: text/plain by default
  EXPECT_EQ(r->parts[0].body, "plain text");
}

TEST(MultipartTest, FoldedPartHeader) {
  auto r = SplitMultipart("multipart/mixed;boundary=b",
                          "--b\r\nContent-Type: application/sdp;\r\n x=1\r\n\r\nv=0\r\n--b--");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->parts[0].content_type, "application/sdp;\r\n x=1");
  EXPECT_TRUE(MediaTypeIs(r->parts[0].content_type, "application/sdp"));
}

TEST(MultipartTest, BoundaryNeverAppearsIsAnError) {
  auto r = SplitMultipart("multipart/mixed;boundary=nothere", SiprecBody("b1"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("'nothere' not found"));
  // A boundary that is only a prefix of the delimiter-looking lines does not match either.
  EXPECT_FALSE(SplitMultipart("multipart/mixed;boundary=b", SiprecBody("b1")).ok());
}

TEST(MultipartTest, EmptyBodyIsAnError) {
  auto r = SplitMultipart("multipart/mixed;boundary=b1", "");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("empty body"));
}

TEST(MultipartTest, InvalidBoundaryParameterIsAnError) {
  const std::string body = SiprecBody();
  const std::string too_long(71, 'a');
  EXPECT_TRUE(
      SplitMultipart("multipart/mixed;boundary=" + std::string(70, 'a'),
                     "--" + std::string(70, 'a') + "\r\n\r\nx\r\n--" + std::string(70, 'a') + "--")
          .ok());
  for (std::string ct :
       {"multipart/mixed;boundary=" + too_long, std::string("multipart/mixed"),
        std::string("multipart/mixed;boundary="), std::string("multipart/mixed;boundary=\"\""),
        std::string("multipart/mixed;boundary=\"b1 \""),
        std::string("multipart/mixed;boundary=\"a\\\"b\""),
        std::string("multipart/mixed;boundary=b1@x"), std::string("multipart/mixed;boundary=b1{"),
        std::string("multipart/mixed;boundary=\"unterminated"),
        std::string("application/sdp;boundary=b1")}) {
    auto r = SplitMultipart(ct, body);
    EXPECT_FALSE(r.ok()) << ct;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("multipart: ")) << ct;
  }
}

TEST(MultipartTest, ClosingDelimiterFirstIsAnError) {
  EXPECT_FALSE(SplitMultipart("multipart/mixed;boundary=b", "--b--\r\n").ok());
}

TEST(MultipartTest, HeaderLineWithoutColonIsAnError) {
  auto r = SplitMultipart("multipart/mixed;boundary=b", "--b\r\nv=0\r\n--b--");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("part 1: header line without ':'"));
}

TEST(MultipartTest, TooManyPartsIsAnError) {
  std::string body;
  for (size_t i = 0; i <= kMaxBodyParts; ++i) body += "--b\r\n\r\nx\r\n";
  body += "--b--";
  auto r = SplitMultipart("multipart/mixed;boundary=b", body);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("more than 64 body parts"));
}

// Hostile input: 1 MB of dashes (one line, and one dash per line), with boundaries made of
// dashes too. Work must stay linear; a quadratic scan would take minutes here.
TEST(MultipartTest, MegabyteOfDashesIsBoundedWork) {
  const std::string dashes(1 << 20, '-');
  std::string dash_lines;
  for (size_t i = 0; i < (1 << 19); ++i) dash_lines += "-\n";
  const auto start = std::chrono::steady_clock::now();
  for (std::string_view body : {std::string_view(dashes), std::string_view(dash_lines)}) {
    for (std::string_view ct : {"multipart/mixed;boundary=b1", "multipart/mixed;boundary=---",
                                "multipart/mixed;boundary=-"}) {
      auto r = SplitMultipart(ct, body);
      if (r.ok()) {
        EXPECT_LE(r->parts.size(), kMaxBodyParts);
      }
    }
  }
  std::string many_parts = "--b\r\n";
  while (many_parts.size() < (1 << 20)) many_parts += "H: v\r\nH: v\r\n\r\n--b\r\n";
  EXPECT_FALSE(SplitMultipart("multipart/mixed;boundary=b", many_parts).ok());
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(5));  // ~10 ms optimized, well under a second in ASan
}

TEST(ContentTypeParamTest, FindsParameters) {
  constexpr std::string_view kValue =
      "multipart/mixed ; charset = utf-8;flag; Boundary=\"a;b\" ;x=y";
  EXPECT_EQ(ContentTypeParam(kValue, "charset"), "utf-8");
  EXPECT_EQ(ContentTypeParam(kValue, "boundary"), "a;b");
  EXPECT_EQ(ContentTypeParam(kValue, "x"), "y");
  EXPECT_EQ(ContentTypeParam(kValue, "flag"), std::nullopt);
  EXPECT_EQ(ContentTypeParam(kValue, "missing"), std::nullopt);
  EXPECT_EQ(ContentTypeParam("multipart/mixed", "boundary"), std::nullopt);
  EXPECT_EQ(ContentTypeParam("multipart/mixed;boundary=", "boundary"), "");
}

TEST(MediaTypeIsTest, IgnoresCaseAndParameters) {
  EXPECT_TRUE(MediaTypeIs("application/sdp", "application/sdp"));
  EXPECT_TRUE(MediaTypeIs(" Application/SDP ; charset=x", "application/sdp"));
  EXPECT_FALSE(MediaTypeIs("application/sdpx", "application/sdp"));
  EXPECT_FALSE(MediaTypeIs("", "application/sdp"));
}

}  // namespace
}  // namespace callvault::siprec
