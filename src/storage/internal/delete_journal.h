// The delete journal's entries (docs/formats/delete-journal.md): a durable intent to delete one
// recording, so that LocalRecordingStore can finish a delete that a crash interrupted.
// Private to storage/.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace callvault::storage::internal {

// docs/formats/delete-journal.md.
inline constexpr std::string_view kJournalDir = ".deleting";  // under the recordings directory
inline constexpr std::string_view kIntentSuffix = ".delete";  // "<call id>.delete"
inline constexpr std::string_view kDeleteFormat = "callvault-delete";
inline constexpr int kDeleteVersion = 1;
// docs/formats/manifest.md: the manifest is "<audio file>.json".
inline constexpr std::string_view kManifestSuffix = ".json";

struct DeleteIntent {
  std::string call_id;
  std::string audio_file;  // relative to the recordings directory
};

// OK when `call_id` can be a file name: 1-128 of [A-Za-z0-9._-], not starting with '.'.
[[nodiscard]] Status CheckCallId(std::string_view call_id);

// One line of JSON, "\n"-terminated. REQUIRES: CheckCallId and CheckRelativePath pass.
std::string EncodeDeleteIntent(const DeleteIntent& intent);

// DataLoss naming what is wrong: not JSON, another format or a newer version, a missing field,
// a bad call id or audio path.
Result<DeleteIntent> ParseDeleteIntent(std::string_view text);

}  // namespace callvault::storage::internal
