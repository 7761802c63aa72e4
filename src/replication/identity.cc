#include "replication/identity.h"

#include "base/uuid.h"

namespace callvault::replication {

Result<std::string> LoadOrCreateInstanceId(Fs& fs, const std::string& path, const Clock& clock) {
  Result<std::string> text = fs.ReadFile(path);
  if (text.ok()) {
    std::string id = text->substr(0, text->find('\n'));
    if (!IsUuid(id))
      return DataLossError(path +
                           " does not hold an instance id (a UUID); remove it to make a "
                           "new one");
    return id;
  }
  if (text.status().code() != StatusCode::kNotFound) return text.status();
  std::string id = NewUuidV7(clock);
  CV_RETURN_IF_ERROR(WriteFileDurably(fs, path, id + "\n"));
  return id;
}

}  // namespace callvault::replication
