#include "storage/s3/internal/xml.h"

#include <gtest/gtest.h>

namespace callvault::storage::s3::internal {
namespace {

TEST(ParseErrorBody, CodeAndMessage) {
  ErrorBody e;
  ASSERT_TRUE(ParseErrorBody(
      "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>no &amp; no"
      "</Message><StringToSign>x</StringToSign></Error>",
      &e));
  EXPECT_EQ(e.code, "SignatureDoesNotMatch");
  EXPECT_EQ(e.message, "no & no");
  EXPECT_FALSE(ParseErrorBody("", &e));
  EXPECT_FALSE(ParseErrorBody("<ListBucketResult/>", &e));
  EXPECT_FALSE(ParseErrorBody("<Error><Code>x", &e));
}

TEST(ParseListObjectsV2, EntriesAndContinuation) {
  Result<ListPage> page = ParseListObjectsV2(
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>"
      "<IsTruncated>true</IsTruncated><NextContinuationToken>tok/+=</NextContinuationToken>"
      "<Contents><Key>a b/é.wav</Key><Size>12</Size><ETag>&quot;e1&quot;</ETag></Contents>"
      "<Contents><Key>c</Key><Size>0</Size><ETag>\"e2\"</ETag></Contents></ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "tok/+=");
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "a b/é.wav");
  EXPECT_EQ(page->objects[0].size, 12u);
  EXPECT_EQ(page->objects[0].etag, "\"e1\"");
  EXPECT_EQ(page->objects[1].size, 0u);
}

TEST(ParseListObjectsV2, RejectsWhatItCannotUse) {
  EXPECT_FALSE(ParseListObjectsV2("<Error/>").ok());
  EXPECT_FALSE(ParseListObjectsV2("not xml").ok());
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated>"
                                  "</ListBucketResult>")
                   .ok());
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><Contents><Key>a</Key><Size>-1</Size>"
                                  "</Contents></ListBucketResult>")
                   .ok());
}

TEST(ParseUploadId, FromInitiateResult) {
  EXPECT_EQ(ParseUploadId("<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                          "<UploadId>abc-123</UploadId></InitiateMultipartUploadResult>")
                .value(),
            "abc-123");
  EXPECT_FALSE(ParseUploadId("<InitiateMultipartUploadResult/>").ok());
}

TEST(ParseCompleteEtag, ResultOrErrorIn200) {
  ErrorBody e;
  EXPECT_EQ(ParseCompleteEtag("<CompleteMultipartUploadResult><ETag>\"x-3\"</ETag>"
                              "</CompleteMultipartUploadResult>",
                              &e)
                .value(),
            "\"x-3\"");
  EXPECT_TRUE(e.code.empty());
  EXPECT_EQ(ParseCompleteEtag("<Error><Code>InternalError</Code></Error>", &e).value(), "");
  EXPECT_EQ(e.code, "InternalError");
  EXPECT_FALSE(ParseCompleteEtag("<Foo/>", &e).ok());
}

TEST(CompleteMultipartBody, PartsInOrderEscaped) {
  EXPECT_EQ(CompleteMultipartBody({"\"a\"", "\"b\""}),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag>"
            "</Part><Part><PartNumber>2</PartNumber><ETag>&quot;b&quot;</ETag></Part>"
            "</CompleteMultipartUpload>");
}

}  // namespace
}  // namespace callvault::storage::s3::internal
