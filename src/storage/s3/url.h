// Request URLs for S3 and the encodings SigV4 needs (AWS "Create a canonical request"): libcurl
// 7.88 signs the path and the query exactly as they appear in the URL, so the URL must already be
// canonical — the key percent-encoded per RFC 3986 §2.3 (unreserved characters kept, '/' kept),
// query parameters encoded the same way ('/' too), sorted by name, each written as `k=v` even
// when v is empty (`?uploads=`).
//
// Who calls it: s3::Client; unit tests.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/s3/options.h"

namespace callvault::storage::s3 {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// RFC 3986 percent-encoding of the bytes of `s` (UTF-8 stays bytes): A-Z a-z 0-9 - . _ ~ are kept,
// '/' too when `keep_slash`, every other byte becomes %XX (uppercase hex).
std::string PercentEncode(std::string_view s, bool keep_slash);

// The canonical query string: each name and value PercentEncode()d (slash encoded), sorted by
// name then value, joined as "a=1&b=&c=x%2Fy". "" for no parameters.
std::string CanonicalQuery(const QueryParams& params);

// The URL of `key` in the options' bucket (path-style or virtual-hosted), with `params` as the
// canonical query. `key` "" names the bucket itself (for ListObjectsV2).
std::string RequestUrl(const S3Options& options, std::string_view key, const QueryParams& params);

// "s3://<bucket>/<key>" (the key as is, not encoded).
std::string S3Url(std::string_view bucket, std::string_view key);

}  // namespace callvault::storage::s3
