#include "storage/s3/errors.h"

#include <gtest/gtest.h>

namespace callvault::storage::s3 {
namespace {

TEST(HttpError, ClassifiesByStatusAndCode) {
  struct Case {
    long http;
    const char* code;
    std::string_view reason;
    StatusCode status;
  };
  const Case cases[] = {
      {403, "SignatureDoesNotMatch", kReasonAuth, StatusCode::kPermissionDenied},
      {403, "InvalidAccessKeyId", kReasonAuth, StatusCode::kPermissionDenied},
      {401, "", kReasonAuth, StatusCode::kPermissionDenied},
      {404, "NoSuchKey", kReasonNotFound, StatusCode::kNotFound},
      {500, "InternalError", kReasonServer, StatusCode::kUnavailable},
      {503, "SlowDown", kReasonServer, StatusCode::kUnavailable},
      {400, "InvalidArgument", kReasonClient, StatusCode::kFailedPrecondition},
      {409, "", kReasonClient, StatusCode::kFailedPrecondition},
      {416, "InvalidRange", kReasonClient, StatusCode::kOutOfRange},
      {400, "XAmzContentSHA256Mismatch", kReasonVerify, StatusCode::kDataLoss},
      {301, "PermanentRedirect", kReasonProtocol, StatusCode::kInternal},
  };
  for (const Case& c : cases) {
    const Status s = HttpError("s3 PutObject a/b.wav", c.http, c.code, "msg");
    EXPECT_EQ(s.code(), c.status) << c.http << " " << c.code;
    EXPECT_EQ(ErrorReason(s), c.reason) << s.ToString();
  }
}

TEST(HttpError, MessageNamesOperationKeyStatusAndCode) {
  const Status s = HttpError("s3 PutObject recordings/a.wav", 403, "SignatureDoesNotMatch",
                             "The request signature we calculated does not match");
  EXPECT_EQ(s.message(),
            "s3 PutObject recordings/a.wav: HTTP 403 SignatureDoesNotMatch: The request signature "
            "we calculated does not match [reason=auth]");
}

TEST(ErrorReason, SurvivesAnnotateAndDefaultsToOther) {
  EXPECT_EQ(ErrorReason(Status::Ok()), "");
  EXPECT_EQ(ErrorReason(S3Error(kReasonNetwork, "s3 HeadObject k", "Couldn't connect")
                            .Annotate("relocating call 1")),
            kReasonNetwork);
  EXPECT_EQ(S3Error(kReasonNetwork, "w", "d").code(), StatusCode::kUnavailable);
  EXPECT_EQ(S3Error(kReasonVerify, "w", "d").code(), StatusCode::kDataLoss);
  EXPECT_EQ(S3Error(kReasonProtocol, "w", "d").code(), StatusCode::kInternal);
  EXPECT_EQ(ErrorReason(IoError("reading /x", 5)), "other");
  EXPECT_EQ(ErrorReason(InternalError("x [reason=bogus]")), "other");
}

}  // namespace
}  // namespace callvault::storage::s3
