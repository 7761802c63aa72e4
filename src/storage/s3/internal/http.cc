#include "storage/s3/internal/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>
#include <optional>

#include "crypto/sha256.h"
#include "storage/s3/errors.h"

namespace callvault::storage::s3::internal {
namespace {

constexpr size_t kMaxIdleHandles = 16;

// State shared with curl's callbacks during one Perform().
struct Exchange {
  const HttpRequest* request = nullptr;
  CURL* curl = nullptr;
  HttpResponse response;
  uint64_t sent = 0;          // body bytes handed to curl
  std::optional<crypto::Sha256> sha;  // when hash_body
  Status read_error;          // the body file's error, if any
  bool overflow = false;      // an answer longer than allowed
};

uint64_t BodyLength(const HttpRequest& r) { return r.file ? r.file_length : r.body.size(); }

size_t ReadBody(char* buf, size_t size, size_t nitems, void* userdata) {
  auto* x = static_cast<Exchange*>(userdata);
  const HttpRequest& r = *x->request;
  const uint64_t left = BodyLength(r) - x->sent;
  const size_t want = static_cast<size_t>(std::min<uint64_t>(left, size * nitems));
  if (want == 0) return 0;
  size_t got = want;
  if (r.file != nullptr) {
    Result<size_t> n = r.file->Read(r.file_offset + x->sent, want, buf);
    if (!n.ok()) {
      x->read_error = n.status();
      return CURL_READFUNC_ABORT;
    }
    if (*n != want) {
      x->read_error = DataLossError("reading " + r.file->path() + ": the file is shorter than " +
                                    std::to_string(r.file_offset + r.file_length) + " bytes");
      return CURL_READFUNC_ABORT;
    }
    got = *n;
  } else {
    std::memcpy(buf, r.body.data() + x->sent, want);
  }
  if (x->sha) x->sha->Update(std::string_view(buf, got));
  x->sent += got;
  return got;
}

// curl rewinds the body when it must send it again (e.g. on a reused connection that closed).
int SeekBody(void* userdata, curl_off_t offset, int origin) {
  auto* x = static_cast<Exchange*>(userdata);
  if (origin != SEEK_SET || offset != 0) return CURL_SEEKFUNC_CANTSEEK;
  x->sent = 0;
  if (x->sha) x->sha.emplace();
  return CURL_SEEKFUNC_OK;
}

size_t WriteBody(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* x = static_cast<Exchange*>(userdata);
  const size_t n = size * nmemb;
  long status = 0;
  curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
  const HttpRequest& r = *x->request;
  if (r.out != nullptr && status >= 200 && status < 300) {
    if (n > r.out_capacity - x->response.out_length) {
      x->overflow = true;
      return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
    }
    std::memcpy(r.out + x->response.out_length, data, n);
    x->response.out_length += n;
    return n;
  }
  if (x->response.body.size() + n > kMaxBody) {
    x->overflow = true;
    return 0;
  }
  x->response.body.append(data, n);
  return n;
}

size_t WriteHeader(char* data, size_t size, size_t nitems, void* userdata) {
  auto* x = static_cast<Exchange*>(userdata);
  const size_t n = size * nitems;
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    x->response.headers.clear();  // a new answer (after 100 Continue)
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  x->response.headers[std::move(name)] = std::string(value);
  return n;
}

}  // namespace

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpTransport::HttpTransport(const S3Options& options)
    : options_(options),
      sigv4_("aws:amz:" + options.region + ":s3"),
      key_id_(options.access_key_id),
      secret_(options.secret_access_key) {
  GlobalInit();
}

HttpTransport::~HttpTransport() {
  MutexLock lock(&mu_);
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
  idle_.clear();
}

void HttpTransport::SetCredentials(std::string access_key_id, std::string secret_access_key) {
  MutexLock lock(&mu_);
  key_id_ = std::move(access_key_id);
  secret_ = std::move(secret_access_key);
}

void* HttpTransport::Acquire() {
  {
    MutexLock lock(&mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      curl_easy_reset(static_cast<CURL*>(h));  // keeps its connections and caches
      return h;
    }
  }
  return curl_easy_init();
}

void HttpTransport::Release(void* handle) {
  MutexLock lock(&mu_);
  if (idle_.size() < kMaxIdleHandles) {
    idle_.push_back(handle);
  } else {
    curl_easy_cleanup(static_cast<CURL*>(handle));
  }
}

Result<HttpResponse> HttpTransport::Perform(std::string_view what, const HttpRequest& request) {
  CURL* curl = static_cast<CURL*>(Acquire());
  if (curl == nullptr) return S3Error(kReasonNetwork, what, "curl_easy_init failed");
  std::string key_id, secret;
  {
    MutexLock lock(&mu_);
    key_id = key_id_;
    secret = secret_;
  }
  Exchange x;
  x.request = &request;
  x.curl = curl;
  if (request.hash_body) x.sha.emplace();
  char errbuf[CURL_ERROR_SIZE] = {0};

  curl_slist* headers = nullptr;
  for (const std::string& h : request.headers) headers = curl_slist_append(headers, h.c_str());

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4_.c_str());
  curl_easy_setopt(curl, CURLOPT_USERNAME, key_id.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, secret.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &x);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &x);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);

  const auto length = static_cast<curl_off_t>(BodyLength(request));
  if (request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, length);
  } else if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, length);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, &x);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, SeekBody);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &x);
  }

  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &x.response.status);
  curl_slist_free_all(headers);
  Release(curl);

  if (!x.read_error.ok()) return x.read_error.Annotate(what);
  if (x.overflow) {
    return S3Error(
        kReasonProtocol, what,
        "the answer is longer than asked for (HTTP " + std::to_string(x.response.status) + ")");
  }
  if (rc != CURLE_OK) {
    std::string detail = curl_easy_strerror(rc);
    if (errbuf[0] != '\0') detail += std::string(" (") + errbuf + ")";
    return S3Error(kReasonNetwork, what, detail);
  }
  // A final answer that is not a success is the answer, whatever of the body was sent: a server
  // refusing the request (403 SignatureDoesNotMatch, 404, 503...) may answer before reading the
  // body (Expect: 100-continue, or after its first bytes) and the caller must see that status,
  // not a "short body" protocol error that hides an auth failure.
  const bool success = x.response.status >= 200 && x.response.status < 300;
  if (x.sha && success) {
    if (x.sent != BodyLength(request)) {
      return S3Error(kReasonProtocol, what,
                     "sent " + std::to_string(x.sent) + " of " +
                         std::to_string(BodyLength(request)) + " body bytes");
    }
    x.response.sent_sha256 = x.sha->HexDigest();
  }
  return std::move(x.response);
}

}  // namespace callvault::storage::s3::internal
