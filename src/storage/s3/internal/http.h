// One HTTP exchange with S3 through libcurl, signed with SigV4 by curl (CURLOPT_AWS_SIGV4
// "aws:amz:<region>:s3", key id and secret as user name and password). The caller gives the
// canonical URL (url.h) and the x-amz-content-sha256 header; curl signs that value, so a body
// streamed from a file is never read twice. While sending, the SHA-256 of the bytes actually sent
// is computed when asked.
//
// Easy handles are pooled (one per concurrent request, reused: their connection caches keep
// connections alive), with TCP keepalive, no signals (CURLOPT_NOSIGNAL) and the options'
// timeouts and TLS settings. curl_global_init runs once per process (GlobalInit()).
//
// Who calls it: s3::Client only.
// Thread-safety: Perform() and SetCredentials() may be called from any thread at once.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/fs.h"
#include "base/mutex.h"
#include "base/status.h"
#include "storage/s3/options.h"

namespace callvault::storage::s3::internal {

struct HttpRequest {
  std::string method;                // GET HEAD PUT POST DELETE
  std::string url;                   // canonical (RequestUrl())
  std::vector<std::string> headers;  // "Name: value", x-amz-content-sha256 among them
  // The request body (PUT, POST): `file` bytes [file_offset, file_offset + file_length) when
  // `file` is set, else `body`. Both must stay valid during Perform().
  std::string_view body;
  const RandomAccessFile* file = nullptr;
  uint64_t file_offset = 0;
  uint64_t file_length = 0;
  // Hash the body as it is sent (HttpResponse::sent_sha256).
  bool hash_body = false;
  // A 2xx answer's body goes to `out` (at most `out_capacity` bytes: more is a protocol error)
  // when set; anything else goes to HttpResponse::body.
  char* out = nullptr;
  size_t out_capacity = 0;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lowercase names; the last value of each
  std::string body;                            // bounded (kMaxBody); error and XML answers
  size_t out_length = 0;                       // bytes written to HttpRequest::out
  std::string sent_sha256;                     // when hash_body: hex SHA-256 of the bytes sent
};

// Bodies longer than this (other than into HttpRequest::out) are a protocol error.
inline constexpr size_t kMaxBody = 16 << 20;

// curl_global_init, once per process.
void GlobalInit();

class HttpTransport {
 public:
  // REQUIRES: ValidateOptions(options).ok().
  explicit HttpTransport(const S3Options& options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  void SetCredentials(std::string access_key_id, std::string secret_access_key);

  // Sends `request` and returns the answer, whatever its HTTP status. Errors: network (no answer:
  // connect, reset, timeout), protocol (an answer too long), or the body file's read error;
  // messages start with `what`.
  Result<HttpResponse> Perform(std::string_view what, const HttpRequest& request);

 private:
  void* Acquire();
  void Release(void* handle);

  const S3Options options_;  // timeouts, TLS, region
  const std::string sigv4_;  // "aws:amz:<region>:s3"
  Mutex mu_;
  std::string key_id_ GUARDED_BY(mu_);
  std::string secret_ GUARDED_BY(mu_);
  std::vector<void*> idle_ GUARDED_BY(mu_);  // CURL*
};

}  // namespace callvault::storage::s3::internal
