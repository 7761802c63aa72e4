// An outbox entry (docs/formats/outbox.md, version 1): the durable note that one finished call
// waits for one consumer (catalog ingest; later relocation to S3, one queue per replication
// peer). The file name is the call id, so a queue holds at most one entry per call.
//
// Called by: outbox/ (Put, Drainer), recording/ (the finalizer's hand-off), consumers.
// Thread-safety: pure functions over values.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace callvault::outbox {

inline constexpr std::string_view kEntryFormat = "callvault-outbox";
inline constexpr int kEntryVersion = 1;
inline constexpr std::string_view kEntrySuffix = ".json";

struct Entry {
  std::string call_id;    // a UUID (call ids are UUIDv7: name order is recording order)
  std::string manifest;   // the manifest, relative to the node's recordings directory
  std::string state;      // the manifest's `state` (for logs)
  std::string finalized;  // the manifest's `times.finalized`, RFC 3339 (lag metrics)
  // Optional: where the audio was moved ("s3://bucket/key"), for consumers that send the call
  // on without its bytes (replication to a peer sharing the bucket). "": not moved / not said.
  std::string location;

  bool operator==(const Entry&) const = default;
};

// One line of JSON with a trailing newline.
std::string SerializeEntry(const Entry& entry);

// InvalidArgument naming what is wrong: not JSON, another format, a newer version, a missing
// or mistyped field, a call id that is not a UUID, a manifest path leaving the directory.
Result<Entry> ParseEntry(std::string_view text);

// True for a lowercase canonical UUID (8-4-4-4-12 hex digits), the only keys a queue takes.
bool IsValidCallId(std::string_view call_id);

// "<call id>.json" → the call id; "" when the file name is not an entry's.
std::string_view CallIdOfEntryName(std::string_view file_name);

}  // namespace callvault::outbox
