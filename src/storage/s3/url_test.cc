#include "storage/s3/url.h"

#include <gtest/gtest.h>

namespace callvault::storage::s3 {
namespace {

TEST(PercentEncode, KeepsUnreservedAndSlashInKeys) {
  EXPECT_EQ(PercentEncode("recordings/2026/a-b_c.d~e.wav", true), "recordings/2026/a-b_c.d~e.wav");
  EXPECT_EQ(PercentEncode("a b+c%d", true), "a%20b%2Bc%25d");
  EXPECT_EQ(PercentEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(PercentEncode("=&?#*!'()", true), "%3D%26%3F%23%2A%21%27%28%29");
}

TEST(PercentEncode, Utf8BytesUppercaseHex) {
  EXPECT_EQ(PercentEncode("é/ü", true), "%C3%A9/%C3%BC");
  EXPECT_EQ(PercentEncode(std::string("\x01\xff", 2), true), "%01%FF");
}

TEST(CanonicalQuery, SortedByNameWithEmptyValuesWritten) {
  EXPECT_EQ(CanonicalQuery({}), "");
  EXPECT_EQ(CanonicalQuery({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(CanonicalQuery({{"uploadId", "x/y+z"}, {"partNumber", "3"}}),
            "partNumber=3&uploadId=x%2Fy%2Bz");
  EXPECT_EQ(CanonicalQuery({{"prefix", "rec ordings/"},
                            {"list-type", "2"},
                            {"max-keys", "10"},
                            {"continuation-token", "a=="}}),
            "continuation-token=a%3D%3D&list-type=2&max-keys=10&prefix=rec%20ordings%2F");
}

TEST(CanonicalQuery, SortsOnEncodedNamesThenValues) {
  // Uppercase sorts before lowercase (byte order), as SigV4 wants.
  EXPECT_EQ(CanonicalQuery({{"b", "2"}, {"B", "1"}, {"a", "y"}, {"a", "x"}}), "B=1&a=x&a=y&b=2");
}

TEST(RequestUrl, PathStyle) {
  S3Options o{.endpoint = "http://127.0.0.1:9000/", .bucket = "rec", .path_style = true};
  EXPECT_EQ(RequestUrl(o, "a b/c.wav", {}), "http://127.0.0.1:9000/rec/a%20b/c.wav");
  EXPECT_EQ(RequestUrl(o, "", {{"list-type", "2"}, {"prefix", ""}}),
            "http://127.0.0.1:9000/rec?list-type=2&prefix=");
  EXPECT_EQ(RequestUrl(o, "k", {{"uploads", ""}}), "http://127.0.0.1:9000/rec/k?uploads=");
}

TEST(RequestUrl, VirtualHosted) {
  S3Options o{.endpoint = "https://s3.eu-west-1.amazonaws.com", .bucket = "rec"};
  EXPECT_EQ(RequestUrl(o, "x/y.wav", {}), "https://rec.s3.eu-west-1.amazonaws.com/x/y.wav");
  EXPECT_EQ(RequestUrl(o, "", {{"list-type", "2"}}),
            "https://rec.s3.eu-west-1.amazonaws.com/?list-type=2");
}

TEST(S3Url, KeyAsIs) { EXPECT_EQ(S3Url("b", "recordings/a b.wav"), "s3://b/recordings/a b.wav"); }

}  // namespace
}  // namespace callvault::storage::s3
