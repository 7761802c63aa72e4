// Parsing of the XML bodies S3 answers with (pugixml, which is not namespace-aware: elements are
// matched on their local names; it never expands entities). No exception leaves these functions.
//
// Who calls it: s3::Client; unit tests.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace callvault::storage::s3::internal {

// <Error><Code>…</Code><Message>…</Message></Error>; false when `body` is not one.
struct ErrorBody {
  std::string code;
  std::string message;
};
bool ParseErrorBody(std::string_view body, ErrorBody* out);

struct ListedObject {
  std::string key;
  uint64_t size = 0;
  std::string etag;  // as S3 gives it, quoted
};
struct ListPage {
  std::vector<ListedObject> objects;
  bool truncated = false;
  std::string next_continuation_token;  // "" when not truncated
};
// <ListBucketResult> of ListObjectsV2. InvalidArgument describing what is wrong.
Result<ListPage> ParseListObjectsV2(std::string_view body);

// <InitiateMultipartUploadResult><UploadId>.
Result<std::string> ParseUploadId(std::string_view body);

// <CompleteMultipartUploadResult><ETag>; an <Error> body (S3 may send one with 200) is reported
// through `error` with the result "" .
Result<std::string> ParseCompleteEtag(std::string_view body, ErrorBody* error);

// The body of CompleteMultipartUpload for parts 1..n with these ETags (as UploadPart got them).
std::string CompleteMultipartBody(const std::vector<std::string>& part_etags);

}  // namespace callvault::storage::s3::internal
