#include "storage/s3/options.h"

#include <string_view>

namespace callvault::storage::s3 {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

Status ValidateOptions(const S3Options& o) {
  const std::string_view ep = o.endpoint;
  const bool http = ep.starts_with("http://"), https = ep.starts_with("https://");
  if (!http && !https) {
    return InvalidArgumentError("s3: endpoint \"" + o.endpoint +
                                "\" must start with http:// or https://");
  }
  std::string_view host = ep.substr(http ? 7 : 8);
  if (host.ends_with('/')) host.remove_suffix(1);
  if (host.empty() || host.find_first_of("/?#@ ") != std::string_view::npos) {
    return InvalidArgumentError("s3: endpoint \"" + o.endpoint +
                                "\" must be scheme://host[:port] with no path");
  }
  if (o.bucket.empty() || o.bucket.find_first_of("/?# ") != std::string::npos) {
    return InvalidArgumentError("s3: bucket \"" + o.bucket + "\" is empty or not a bucket name");
  }
  if (!o.prefix.empty() && (o.prefix.back() != '/' || o.prefix.front() == '/')) {
    return InvalidArgumentError("s3: prefix \"" + o.prefix +
                                "\" must end with '/' and not start with one");
  }
  if (o.region.empty()) return InvalidArgumentError("s3: region is empty");
  if (o.access_key_id.empty() || o.secret_access_key.empty()) {
    return InvalidArgumentError("s3: access_key_id and the secret access key are required");
  }
  if (o.access_key_id.find(':') != std::string::npos) {
    return InvalidArgumentError("s3: access_key_id must not contain ':'");
  }
  if (o.sse != "" && o.sse != "AES256" && o.sse != "aws:kms") {
    return InvalidArgumentError("s3: sse \"" + o.sse + "\" is not one of \"\", AES256, aws:kms");
  }
  if (!o.sse_kms_key_id.empty() && o.sse != "aws:kms") {
    return InvalidArgumentError("s3: sse_kms_key_id needs sse = \"aws:kms\"");
  }
  if (o.part_size_mb < 5 || o.part_size_mb > 5120) {
    return InvalidArgumentError("s3: part_size_mb " + std::to_string(o.part_size_mb) +
                                " is outside S3's 5-5120 MiB");
  }
  if (o.multipart_threshold_mb < 1) return InvalidArgumentError("s3: multipart_threshold_mb is 0");
  if (o.parts_in_flight < 1 || o.parts_in_flight > 32) {
    return InvalidArgumentError("s3: parts_in_flight " + std::to_string(o.parts_in_flight) +
                                " is outside 1-32");
  }
  if (o.connect_timeout_ms == 0 || o.request_timeout_ms == 0) {
    return InvalidArgumentError("s3: timeouts must be positive");
  }
  return Status::Ok();
}

Result<std::string> LoadSecretFile(Fs& fs, const std::string& path) {
  CV_ASSIGN_OR_RETURN(std::string text, fs.ReadFile(path));
  size_t begin = 0, end = text.size();
  while (begin < end && IsSpace(text[begin])) ++begin;
  while (end > begin && IsSpace(text[end - 1])) --end;
  if (begin == end) return InvalidArgumentError("s3: secret file " + path + " is empty");
  return text.substr(begin, end - begin);
}

}  // namespace callvault::storage::s3
