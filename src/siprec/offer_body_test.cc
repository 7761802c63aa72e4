#include "siprec/offer_body.h"

#include <gtest/gtest.h>

namespace callvault::siprec {
namespace {

TEST(OfferBodyTest, Kinds) {
  auto empty = ExtractOfferBody("", "");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->sdp);
  auto sdp = ExtractOfferBody("application/SDP", "v=0\r\n");
  ASSERT_TRUE(sdp.ok());
  EXPECT_EQ(*sdp->sdp, "v=0\r\n");
  auto md = ExtractOfferBody("application/rs-metadata", "<recording/>");
  ASSERT_TRUE(md.ok());
  ASSERT_EQ(md->metadata.size(), 1u);
  EXPECT_EQ(ExtractOfferBody("text/plain", "x").status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(ExtractOfferBody("", "x").status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(ExtractOfferBody("multipart/mixed", "x").status().code(), StatusCode::kInvalidArgument);
}

TEST(OfferBodyTest, MultipartWithGtdAndMangledMetadataType) {
  std::string body =
      "--b\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n"
      "--b\r\nContent-Type: application/ +xml\r\n\r\n<recording/>\r\n"
      "--b\r\nContent-Type: application/gtd\r\n\r\nIAM,\r\n--b--\r\n";
  auto r = ExtractOfferBody("multipart/mixed;boundary=b", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->sdp);
  EXPECT_EQ(*r->sdp, "v=0");
  ASSERT_EQ(r->metadata.size(), 1u);
  EXPECT_EQ(r->metadata[0].raw, "<recording/>");
  ASSERT_EQ(r->ignored.size(), 1u);
  EXPECT_EQ(r->ignored[0], "application/gtd");
  EXPECT_FALSE(r->warnings.empty());
}

}  // namespace
}  // namespace callvault::siprec
