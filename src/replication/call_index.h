// CallIndex: a durable set of call ids with a small JSON note each, kept as files
// <root>/<first 8 hex digits>/<call id>.json (the outbox's bucketing: one directory holds about
// a minute of call starts). The replication receiver keeps two: `received` (calls committed
// here from a peer, with the manifest's path) and `tombstones` (calls deleted in the cluster:
// never accepted or sent again). Files, not the catalog: transfers work while the database is
// down (issue 15).
//
// Called by: replication/ (Receiver, Sender, ChangeFeed). Thread-safety: thread-safe; one call
// id's note has one writer at a time (the receiver's per-call lock).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/fs.h"
#include "base/status.h"

namespace callvault::replication {

class CallIndex {
 public:
  // REQUIRES: fs outlives the index.
  CallIndex(std::string root, Fs* fs) : root_(std::move(root)), fs_(fs) {}

  // Creates the root directory (durably).
  [[nodiscard]] Status Open();
  // Durable before it returns (WriteFileDurably, the bucket's name synced when new).
  // REQUIRES: `call_id` is a valid call id (outbox::IsValidCallId).
  [[nodiscard]] Status Put(std::string_view call_id, std::string_view note);
  // Written without syncing (a temp file renamed into place): for notes whose loss in a power
  // failure is harmless because what they say can be found again (the received index: a
  // commit's manifest is durable before its note is written).
  [[nodiscard]] Status PutLazy(std::string_view call_id, std::string_view note);
  bool Contains(std::string_view call_id) const;
  // The note; nullopt when absent (or unreadable: logged).
  std::optional<std::string> Get(std::string_view call_id) const;
  // NotFound is not an error.
  [[nodiscard]] Status Remove(std::string_view call_id);
  const std::string& root() const { return root_; }

 private:
  std::string PathOf(std::string_view call_id) const;

  const std::string root_;
  Fs* const fs_;
};

}  // namespace callvault::replication
