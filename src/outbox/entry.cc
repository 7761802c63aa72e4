#include "outbox/entry.h"

#include <nlohmann/json.hpp>

namespace callvault::outbox {
namespace {

// Relative, no "." or ".." segment, no empty segment, no NUL.
bool IsRelativeInside(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.find('\0') != std::string_view::npos)
    return false;
  for (;;) {
    const size_t slash = path.find('/');
    const std::string_view segment = path.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") return false;
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

}  // namespace

bool IsValidCallId(std::string_view id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

std::string_view CallIdOfEntryName(std::string_view name) {
  if (!name.ends_with(kEntrySuffix)) return {};
  const std::string_view id = name.substr(0, name.size() - kEntrySuffix.size());
  return IsValidCallId(id) ? id : std::string_view{};
}

std::string SerializeEntry(const Entry& e) {
  nlohmann::json j = {{"format", kEntryFormat}, {"version", kEntryVersion},
                      {"call_id", e.call_id},   {"manifest", e.manifest},
                      {"state", e.state},       {"finalized", e.finalized}};
  if (!e.location.empty()) j["location"] = e.location;
  return j.dump() + "\n";
}

Result<Entry> ParseEntry(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return InvalidArgumentError("outbox entry: not a JSON object");
  const auto str = [&](const char* key) -> const nlohmann::json* {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? &*it : nullptr;
  };
  const nlohmann::json* format = str("format");
  if (!format || *format != kEntryFormat)
    return InvalidArgumentError("outbox entry: format is not \"callvault-outbox\"");
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer())
    return InvalidArgumentError("outbox entry: no integer version");
  if (version->get<int64_t>() != kEntryVersion)
    return InvalidArgumentError("outbox entry: version " + version->dump() +
                                " (this build reads version 1)");
  Entry e;
  const nlohmann::json* call_id = str("call_id");
  if (!call_id || !IsValidCallId(call_id->get<std::string>()))
    return InvalidArgumentError("outbox entry: call_id is not a UUID");
  e.call_id = call_id->get<std::string>();
  const nlohmann::json* manifest = str("manifest");
  if (!manifest) return InvalidArgumentError("outbox entry: no manifest path");
  e.manifest = manifest->get<std::string>();
  if (!IsRelativeInside(e.manifest))
    return InvalidArgumentError("outbox entry: manifest path \"" + e.manifest +
                                "\" is not inside the recordings directory");
  if (const nlohmann::json* s = str("state")) e.state = s->get<std::string>();
  if (const nlohmann::json* f = str("finalized")) e.finalized = f->get<std::string>();
  if (const nlohmann::json* l = str("location")) e.location = l->get<std::string>();
  return e;
}

}  // namespace callvault::outbox
