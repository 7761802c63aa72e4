#include "storage/s3/client.h"

#include <charconv>

#include "crypto/sha256.h"
#include "storage/s3/errors.h"
#include "storage/s3/internal/http.h"
#include "storage/s3/url.h"

namespace callvault::storage::s3 {
namespace {

using crypto::kEmptySha256;
using crypto::Sha256Hex;
using internal::HttpRequest;
using internal::HttpResponse;

constexpr std::string_view kMetaPrefix = "x-amz-meta-";

std::string What(std::string_view op, std::string_view key) {
  return "s3 " + std::string(op) + " " + std::string(key);
}

bool Success(long status) { return status >= 200 && status < 300; }

// The error for a non-2xx answer, with S3's <Code> and <Message> when the body has them.
Status ErrorFrom(std::string_view what, const HttpResponse& r) {
  internal::ErrorBody e;
  internal::ParseErrorBody(r.body, &e);
  return HttpError(what, r.status, e.code, e.message);
}

std::string Header(const HttpResponse& r, const std::string& name) {
  const auto it = r.headers.find(name);
  return it == r.headers.end() ? "" : it->second;
}

bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// "" → UNSIGNED-PAYLOAD; 64 hex digits → lowercase; anything else is a caller's mistake.
Result<std::string> PayloadHash(std::string_view sha256_hex) {
  if (sha256_hex.empty()) return std::string("UNSIGNED-PAYLOAD");
  std::string out(sha256_hex);
  bool hex = out.size() == 64;
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  }
  if (!hex) return InvalidArgumentError("s3: \"" + out + "\" is not a hex SHA-256");
  return out;
}

std::string ContentSha(std::string_view hex) { return "x-amz-content-sha256: " + std::string(hex); }

}  // namespace

Client::Client(const S3Options& options)
    : options_(options), http_(std::make_unique<internal::HttpTransport>(options)) {}

Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Create(const S3Options& options) {
  CV_RETURN_IF_ERROR(ValidateOptions(options));
  return std::unique_ptr<Client>(new Client(options));
}

void Client::SetCredentials(std::string access_key_id, std::string secret_access_key) {
  http_->SetCredentials(std::move(access_key_id), std::move(secret_access_key));
}

Result<std::vector<std::string>> Client::ObjectHeaders(const ObjectMetadata& metadata) const {
  std::vector<std::string> headers = {"Content-Type: application/octet-stream"};
  if (!options_.sse.empty()) {
    headers.push_back("x-amz-server-side-encryption: " + options_.sse);
    if (!options_.sse_kms_key_id.empty()) {
      headers.push_back("x-amz-server-side-encryption-aws-kms-key-id: " + options_.sse_kms_key_id);
    }
  }
  for (const auto& [name, value] : metadata) {
    bool ok = !name.empty();
    for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
    for (char c : value) ok = ok && c >= 0x20 && c < 0x7f;
    if (!ok) return InvalidArgumentError("s3: bad object metadata " + name);
    headers.push_back(std::string(kMetaPrefix) + name + ": " + value);
  }
  return headers;
}

Result<PutResult> Client::PutObject(std::string_view key, const RandomAccessFile& file,
                                    uint64_t offset, uint64_t length, std::string_view sha256_hex,
                                    const ObjectMetadata& metadata) {
  const std::string what = What("PutObject", key);
  CV_ASSIGN_OR_RETURN(const std::string payload, PayloadHash(sha256_hex));
  HttpRequest req{.method = "PUT", .url = RequestUrl(options_, key, {})};
  CV_ASSIGN_OR_RETURN(req.headers, ObjectHeaders(metadata));
  req.headers.push_back(ContentSha(payload));
  req.file = &file;
  req.file_offset = offset;
  req.file_length = length;
  req.hash_body = true;
  CV_ASSIGN_OR_RETURN(HttpResponse r, http_->Perform(what, req));
  if (!Success(r.status)) return ErrorFrom(what, r);
  return PutResult{.etag = Header(r, "etag"), .sent_sha256 = r.sent_sha256, .bytes = length};
}

Result<PutResult> Client::PutObject(std::string_view key, std::string_view body,
                                    const ObjectMetadata& metadata) {
  const std::string what = What("PutObject", key);
  HttpRequest req{.method = "PUT", .url = RequestUrl(options_, key, {})};
  CV_ASSIGN_OR_RETURN(req.headers, ObjectHeaders(metadata));
  req.headers.push_back(ContentSha(Sha256Hex(body)));
  req.body = body;
  req.hash_body = true;
  CV_ASSIGN_OR_RETURN(HttpResponse r, http_->Perform(what, req));
  if (!Success(r.status)) return ErrorFrom(what, r);
  return PutResult{.etag = Header(r, "etag"), .sent_sha256 = r.sent_sha256, .bytes = body.size()};
}

Result<std::string> Client::CreateMultipartUpload(std::string_view key,
                                                  const ObjectMetadata& metadata) {
  const std::string what = What("CreateMultipartUpload", key);
  HttpRequest req{.method = "POST", .url = RequestUrl(options_, key, {{"uploads", ""}})};
  CV_ASSIGN_OR_RETURN(req.headers, ObjectHeaders(metadata));
  req.headers.push_back(ContentSha(kEmptySha256));
  CV_ASSIGN_OR_RETURN(HttpResponse r, http_->Perform(what, req));
  if (!Success(r.status)) return ErrorFrom(what, r);
  Result<std::string> id = internal::ParseUploadId(r.body);
  if (!id.ok()) return S3Error(kReasonProtocol, what, id.status().message());
  return id;
}

Result<PutResult> Client::UploadPart(std::string_view key, std::string_view upload_id,
                                     uint32_t part_number, std::string_view data) {
  const std::string what = What("UploadPart", key) + " part " + std::to_string(part_number);
  HttpRequest req{
      .method = "PUT",
      .url = RequestUrl(
          options_, key,
          {{"partNumber", std::to_string(part_number)}, {"uploadId", std::string(upload_id)}}),
      .headers = {"Content-Type: application/octet-stream", ContentSha(Sha256Hex(data))},
      .body = data,
      .hash_body = true};
  CV_ASSIGN_OR_RETURN(HttpResponse r, http_->Perform(what, req));
  if (!Success(r.status)) return ErrorFrom(what, r);
  const std::string etag = Header(r, "etag");
  if (etag.empty()) return S3Error(kReasonProtocol, what, "the answer has no ETag");
  return PutResult{.etag = etag, .sent_sha256 = r.sent_sha256, .bytes = data.size()};
}

Result<std::string> Client::CompleteMultipartUpload(std::string_view key,
                                                    std::string_view upload_id,
                                                    const std::vector<std::string>& part_etags) {
  const std::string what = What("CompleteMultipartUpload", key);
  const std::string body = internal::CompleteMultipartBody(part_etags);
  HttpRequest req{.method = "POST",
                  .url = RequestUrl(options_, key, {{"uploadId", std::string(upload_id)}}),
                  .headers = {"Content-Type: application/xml", ContentSha(Sha256Hex(body))},
                  .body = body};
  CV_ASSIGN_OR_RETURN(HttpResponse r, http_->Perform(what, req));
  if (!Success(r.status)) return ErrorFrom(what, r);
  // S3 may answer 200 and report the failure in the body.
  internal::ErrorBody error;
  Result<std::string> etag = internal::ParseCompleteEtag(r.body, &error);
  if (!etag.ok()) return S3Error(kReasonProtocol, what, etag.status().message());
  if (!error.code.empty()) {
    return HttpError(what, error.code == "InternalError" || error.code == "SlowDown" ? 500 : 400,
                     error.code, error.message);
  }
  return etag;
}

Status Client::AbortMultipartUpload(std::string_view key, std::string_view upload_id) {
  const std::string what = What("AbortMultipartUpload", key);
  HttpRequest req{.method = "DELETE",
                  .url = RequestUrl(options_, key, {{"uploadId", std::string(upload_id)}}),
                  .headers = {ContentSha(kEmptySha256)}};
  CV_ASSIGN_OR_RETURN(HttpResponse r, http_->Perform(what, req));
  if (Success(r.status) || r.status == 404) return Status::Ok();
  return ErrorFrom(what, r);
}

Result<ObjectInfo> Client::HeadObject(std::string_view key) {
  const std::string what = What("HeadObject", key);
  HttpRequest req{.method = "HEAD",
                  .url = RequestUrl(options_, key, {}),
                  .headers = {ContentSha(kEmptySha256)}};
  CV_ASSIGN_OR_RETURN(HttpResponse r, http_->Perform(what, req));
  if (!Success(r.status)) return ErrorFrom(what, r);
  ObjectInfo info;
  if (!ParseU64(Header(r, "content-length"), &info.size)) {
    return S3Error(kReasonProtocol, what, "the answer has no Content-Length");
  }
  info.etag = Header(r, "etag");
  for (const auto& [name, value] : r.headers) {
    if (name.starts_with(kMetaPrefix)) info.metadata[name.substr(kMetaPrefix.size())] = value;
  }
  return info;
}

Result<size_t> Client::GetObjectRange(std::string_view key, uint64_t offset, size_t length,
                                      char* buf) {
  if (length == 0) return size_t{0};
  const uint64_t last = offset + length - 1;
  const std::string what =
      What("GetObject", key) + " bytes=" + std::to_string(offset) + "-" + std::to_string(last);
  HttpRequest req{.method = "GET",
                  .url = RequestUrl(options_, key, {}),
                  .headers = {ContentSha(kEmptySha256), "Range: bytes=" + std::to_string(offset) +
                                                            "-" + std::to_string(last)},
                  .out = buf,
                  .out_capacity = length};
  CV_ASSIGN_OR_RETURN(HttpResponse r, http_->Perform(what, req));
  if (r.status == 200) {
    // A server that ignores Range sends the whole object: usable only from its start.
    uint64_t total = 0;
    if (offset != 0 || !ParseU64(Header(r, "content-length"), &total) || total != r.out_length) {
      return S3Error(kReasonProtocol, what, "HTTP 200 instead of 206 to a ranged GET");
    }
    return r.out_length;
  }
  if (r.status != 206) return ErrorFrom(what, r);
  // Content-Range: bytes <first>-<last>/<total> (RFC 9110 §14.4).
  const std::string range = Header(r, "content-range");
  std::string_view rest = range;
  uint64_t first = 0, got_last = 0;
  bool ok = rest.starts_with("bytes ");
  if (ok) {
    rest.remove_prefix(6);
    const size_t dash = rest.find('-'), slash = rest.find('/');
    ok = dash != std::string_view::npos && slash != std::string_view::npos && dash < slash &&
         ParseU64(rest.substr(0, dash), &first) &&
         ParseU64(rest.substr(dash + 1, slash - dash - 1), &got_last);
  }
  if (!ok || first != offset || got_last > last || got_last < first ||
      got_last - first + 1 != r.out_length) {
    return S3Error(kReasonProtocol, what,
                   "HTTP 206 with Content-Range \"" + range + "\" and " +
                       std::to_string(r.out_length) + " bytes");
  }
  return r.out_length;
}

Status Client::DeleteObject(std::string_view key) {
  const std::string what = What("DeleteObject", key);
  HttpRequest req{.method = "DELETE",
                  .url = RequestUrl(options_, key, {}),
                  .headers = {ContentSha(kEmptySha256)}};
  CV_ASSIGN_OR_RETURN(HttpResponse r, http_->Perform(what, req));
  if (Success(r.status) || r.status == 404) return Status::Ok();
  return ErrorFrom(what, r);
}

Result<ListPage> Client::ListObjectsV2(std::string_view prefix, std::string_view continuation_token,
                                       uint32_t max_keys) {
  const std::string what = What("ListObjectsV2", prefix);
  QueryParams params = {
      {"list-type", "2"},
      {"prefix", std::string(prefix)},
      {"max-keys", std::to_string(max_keys < 1 || max_keys > 1000 ? 1000 : max_keys)}};
  if (!continuation_token.empty()) {
    params.emplace_back("continuation-token", std::string(continuation_token));
  }
  HttpRequest req{.method = "GET",
                  .url = RequestUrl(options_, "", params),
                  .headers = {ContentSha(kEmptySha256)}};
  CV_ASSIGN_OR_RETURN(HttpResponse r, http_->Perform(what, req));
  if (!Success(r.status)) return ErrorFrom(what, r);
  Result<ListPage> page = internal::ParseListObjectsV2(r.body);
  if (!page.ok()) return S3Error(kReasonProtocol, what, page.status().message());
  return page;
}

}  // namespace callvault::storage::s3
