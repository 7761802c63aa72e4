#include "storage/s3/url.h"

#include <algorithm>

namespace callvault::storage::s3 {

std::string PercentEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() + s.size() / 2);
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                            c == '~' || (keep_slash && c == '/');
    if (unreserved) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string CanonicalQuery(const QueryParams& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& [name, value] : params) {
    encoded.emplace_back(PercentEncode(name, false), PercentEncode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::string RequestUrl(const S3Options& options, std::string_view key, const QueryParams& params) {
  std::string_view endpoint = options.endpoint;
  if (endpoint.ends_with('/')) endpoint.remove_suffix(1);
  std::string url;
  if (options.path_style) {
    url = std::string(endpoint) + "/" + PercentEncode(options.bucket, false);
    if (!key.empty()) url += "/" + PercentEncode(key, true);
  } else {
    const size_t scheme_end = endpoint.find("://");
    const size_t host_begin = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
    url = std::string(endpoint.substr(0, host_begin)) + options.bucket + "." +
          std::string(endpoint.substr(host_begin)) + "/" + PercentEncode(key, true);
  }
  if (!params.empty()) url += "?" + CanonicalQuery(params);
  return url;
}

std::string S3Url(std::string_view bucket, std::string_view key) {
  return "s3://" + std::string(bucket) + "/" + std::string(key);
}

}  // namespace callvault::storage::s3
