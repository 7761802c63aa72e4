// File-name claiming in the recordings directory, the one rule for names: picks the first free
// name ("<base>.<ext>", "<base>_2.<ext>", …) and reserves it with a durable placeholder holding
// "callvault claim <call id>\n" (so a re-run after a crash recognises its own), or finds that a
// manifest for this call id already exists there.
//
// Called by: the finalizer (recording/), the replication receiver (a call recorded elsewhere
// lands under its origin's name, or "_2"… when that name is taken here).
// Thread-safety: ClaimName is thread-safe (a process-wide mutex covers check-and-create);
// InFlight is a process-wide set of call ids being finalized.
#pragma once

#include <string>

#include "base/fs.h"
#include "base/status.h"

namespace callvault::recording {

struct Claim {
  std::string relative;   // audio path relative to the recordings dir
  bool existing = false;  // a manifest with this call id is already there
};

// REQUIRES: `base` is a valid relative path (ExpandNameTemplate).
Result<Claim> ClaimName(Fs& fs, const std::string& recordings_dir, const std::string& base,
                        const std::string& extension, const std::string& call_id);

// True when `manifest_path` exists and names `call_id`.
bool ManifestIsFor(Fs& fs, const std::string& manifest_path, const std::string& call_id);

// Creates every directory of `relative_dir` under `root` and fsyncs each parent, so the new
// names survive a power loss. A directory this process already made durable (and that still
// exists) costs a lookup, not a sync per component.
[[nodiscard]] Status CreateDirsDurably(Fs& fs, const std::string& root,
                                       const std::string& relative_dir);

// RAII: registers `call_id` as being finalized; ok() is false when it already was.
class InFlight {
 public:
  explicit InFlight(std::string call_id);
  ~InFlight();
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  bool ok() const { return ok_; }

 private:
  std::string call_id_;
  bool ok_ = false;
};

}  // namespace callvault::recording
