#include "storage/internal/delete_journal.h"

#include <nlohmann/json.hpp>

#include "storage/recording_store.h"

namespace callvault::storage::internal {

Status CheckCallId(std::string_view call_id) {
  bool ok = !call_id.empty() && call_id.size() <= 128 && call_id.front() != '.';
  for (char c : call_id) {
    ok = ok && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-');
  }
  if (!ok) return InvalidArgumentError("call id '" + std::string(call_id) + "' is not valid");
  return Status::Ok();
}

std::string EncodeDeleteIntent(const DeleteIntent& intent) {
  const nlohmann::json j = {{"format", kDeleteFormat},
                            {"version", kDeleteVersion},
                            {"call_id", intent.call_id},
                            {"audio", intent.audio_file}};
  return j.dump() + "\n";
}

Result<DeleteIntent> ParseDeleteIntent(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return DataLossError("delete journal entry: not a JSON object");
  auto str = [&j](const char* key) -> std::string {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
  };
  if (str("format") != kDeleteFormat) {
    return DataLossError("delete journal entry: format is not " + std::string(kDeleteFormat));
  }
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer() || version->get<int64_t>() < 1 ||
      version->get<int64_t>() > kDeleteVersion) {
    return DataLossError("delete journal entry: unsupported version");
  }
  DeleteIntent intent{.call_id = str("call_id"), .audio_file = str("audio")};
  if (Status s = CheckCallId(intent.call_id); !s.ok()) {
    return DataLossError("delete journal entry: " + std::string(s.message()));
  }
  if (Status s = CheckRelativePath(intent.audio_file); !s.ok()) {
    return DataLossError("delete journal entry: " + std::string(s.message()));
  }
  return intent;
}

}  // namespace callvault::storage::internal
