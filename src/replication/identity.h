// The identity of a data directory: `<data>/instance-id`, a UUID made the first time a node
// starts on it. Peers send it with every request and refuse one equal to their own: a node
// started on a copy of another's data directory (a cloned VM, a restored backup) would
// otherwise replicate as if it were that node.
//
// Called by: app/ (serve, at start). Thread-safety: a function over a file; one caller.
#pragma once

#include <string>

#include "base/clock.h"
#include "base/fs.h"
#include "base/status.h"

namespace callvault::replication {

// Reads the instance id at `path`, or makes one (durably) when there is none. DataLoss when the
// file exists but does not hold a UUID.
Result<std::string> LoadOrCreateInstanceId(Fs& fs, const std::string& path, const Clock& clock);

}  // namespace callvault::replication
