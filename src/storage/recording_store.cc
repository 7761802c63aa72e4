#include "storage/recording_store.h"

namespace callvault::storage {

Status CheckRelativePath(std::string_view relative) {
  const std::string quoted = "audio file path '" + std::string(relative) + "'";
  if (relative.empty() || relative.front() == '/' ||
      relative.find('\0') != std::string_view::npos) {
    return InvalidArgumentError(quoted + " is not relative");
  }
  std::string_view rest = relative;
  while (true) {
    const size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") {
      return InvalidArgumentError(quoted + " leaves the directory");
    }
    if (slash == std::string_view::npos) return Status::Ok();
    rest.remove_prefix(slash + 1);
  }
}

std::string QuotedEtag(std::string_view sha256) {
  return sha256.empty() ? "" : "\"" + std::string(sha256) + "\"";
}

}  // namespace callvault::storage
