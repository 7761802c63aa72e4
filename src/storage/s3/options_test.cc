#include "storage/s3/options.h"

#include <gtest/gtest.h>

#include "base/fault_injecting_fs.h"

namespace callvault::storage::s3 {
namespace {

S3Options Good() {
  return S3Options{.endpoint = "http://127.0.0.1:9000",
                   .bucket = "rec",
                   .prefix = "recordings/",
                   .access_key_id = "AKID",
                   .secret_access_key = "secret",
                   .path_style = true};
}

TEST(ValidateOptions, AcceptsGoodOptions) {
  EXPECT_TRUE(ValidateOptions(Good()).ok());
  S3Options o = Good();
  o.endpoint = "https://s3.eu-west-1.amazonaws.com/";
  o.sse = "aws:kms";
  o.sse_kms_key_id = "arn:aws:kms:eu-west-1:1:key/x";
  EXPECT_TRUE(ValidateOptions(o).ok());
}

TEST(ValidateOptions, NamesTheBadField) {
  auto bad = [](auto change) {
    S3Options o = Good();
    change(o);
    return ValidateOptions(o).ToString();
  };
  EXPECT_NE(bad([](S3Options& o) { o.endpoint = "ftp://x"; }).find("endpoint"), std::string::npos);
  EXPECT_NE(bad([](S3Options& o) { o.endpoint = "http://h/path"; }).find("no path"),
            std::string::npos);
  EXPECT_NE(bad([](S3Options& o) { o.bucket = ""; }).find("bucket"), std::string::npos);
  EXPECT_NE(bad([](S3Options& o) { o.prefix = "recordings"; }).find("prefix"), std::string::npos);
  EXPECT_NE(bad([](S3Options& o) { o.secret_access_key = ""; }).find("secret"), std::string::npos);
  EXPECT_NE(bad([](S3Options& o) { o.sse = "aes"; }).find("sse"), std::string::npos);
  EXPECT_NE(bad([](S3Options& o) { o.sse_kms_key_id = "k"; }).find("sse_kms_key_id"),
            std::string::npos);
  EXPECT_NE(bad([](S3Options& o) { o.part_size_mb = 4; }).find("part_size_mb"), std::string::npos);
  EXPECT_NE(bad([](S3Options& o) { o.parts_in_flight = 0; }).find("parts_in_flight"),
            std::string::npos);
}

TEST(LoadSecretFile, TrimsWhitespaceAndRefusesEmpty) {
  char tmpl[] = "/tmp/cv-s3-secret-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  Fs& fs = *DefaultFs();
  ASSERT_TRUE(WriteFileDurably(fs, dir + "/s", "  wJalr/K7+x \n").ok());
  EXPECT_EQ(LoadSecretFile(fs, dir + "/s").value(), "wJalr/K7+x");
  ASSERT_TRUE(WriteFileDurably(fs, dir + "/empty", " \n\t").ok());
  const Status empty = LoadSecretFile(fs, dir + "/empty").status();
  EXPECT_EQ(empty.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.message().find("empty"), std::string_view::npos);
  EXPECT_EQ(LoadSecretFile(fs, dir + "/missing").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(fs.RemoveAll(dir).ok());
}

}  // namespace
}  // namespace callvault::storage::s3
