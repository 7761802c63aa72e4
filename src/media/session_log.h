// SessionLog: the call's event log `data/spool/<call-id>/session.jsonl` (docs/formats/spool.md):
// JSON Lines, one complete object per line, append-only. Every line gets "v": 1, "t" (type) and
// "at" (wall clock, RFC 3339 UTC with milliseconds).
//
// Append() hands each line to the kernel at once (survives kill -9). When the disk refuses it
// (full), the part of the line the kernel did not take is kept in memory and written first by the
// next Append(), Sync() or WriteUnwritten() — so a full disk never tears a line nor loses one
// while the process lives (issue 21). Sync() makes the lines durable
// (fdatasync; the first Sync also syncs the call directory and its parent so the names survive a
// power loss). The spec requires a Sync() after `start` (before the 200 OK) and after `end`.
// With a GroupSync (base/group_sync.h), Sync() and SyncAsync() go through it: the syncs of many
// calls' logs are done together (one syncfs of the spool root for a large round), and a log is
// released only by a round that started after its lines were appended.
//
// Who calls it: siprec/ (writes the events, via recording::LocalBackend); ReadSessionLog:
// recording/ and crash recovery.
// Thread-safety: SessionLog is thread-safe. ReadSessionLog is a pure function of the Fs.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/fs.h"
#include "base/group_sync.h"
#include "base/mutex.h"
#include "base/status.h"

namespace callvault::media {

class SessionLog : public std::enable_shared_from_this<SessionLog> {
 public:
  // Creates `call_dir` if needed and opens `call_dir`/session.jsonl for appending (an existing
  // log is continued, after a torn last line if any: a newline is written first so the torn line
  // stays a line of its own and is ignored by readers). `group` null: Sync() syncs on the
  // caller's thread.
  // REQUIRES: `fs`, `clock` and `group` (if set) outlive the log.
  static Result<std::shared_ptr<SessionLog>> Open(Fs* fs, const Clock* clock,
                                                  const std::string& call_dir,
                                                  GroupSync* group = nullptr);
  ~SessionLog();

  // Appends {"v":1,"t":type,"at":now, ...fields}. `fields` must be an object (or null); its
  // "v" and "t" are overwritten, its "at" (an RFC 3339 string: when the event happened, e.g. a
  // passive copy's capture time) is kept instead of now.
  // A write error is returned with the line kept for a retry (see above).
  Status Append(std::string_view type, const nlohmann::json& fields = nullptr) EXCLUDES(mu_);
  // Writes what a failed Append() kept (no-op when nothing); OK when all of it is written.
  Status WriteUnwritten() EXCLUDES(mu_);
  bool has_unwritten() const EXCLUDES(mu_);
  // Makes every appended line durable (waits for a group round when there is a group).
  Status Sync() EXCLUDES(mu_);
  // Sync() without waiting: `done` gets the outcome once, on the group's thread (inline when
  // there is no group); it must not block. The log is kept alive until then.
  void SyncAsync(std::function<void(Status)> done) EXCLUDES(mu_);
  Status Close() EXCLUDES(mu_);

  const std::string& path() const { return path_; }

 private:
  SessionLog(Fs* fs, const Clock* clock, std::string dir, std::unique_ptr<AppendableFile> f,
             GroupSync* group);
  // fdatasync of the file (no directories).
  Status SyncFile() EXCLUDES(mu_);
  Status WriteUnwrittenLocked() REQUIRES(mu_);
  GroupSync::Request MakeRequest(std::function<void(Status)> done) EXCLUDES(mu_);

  Fs* const fs_;
  const Clock* const clock_;
  GroupSync* const group_;
  const std::string dir_, path_;
  mutable Mutex mu_;
  std::unique_ptr<AppendableFile> file_ GUARDED_BY(mu_);
  std::string unwritten_ GUARDED_BY(mu_);  // bytes of lines the disk refused, in order
  bool dirs_synced_ GUARDED_BY(mu_) = false;
};

// The complete lines of a session log, parsed, in order. A last line without '\n' (torn) is
// ignored; so is a line that is not a JSON object (counted in `*bad_lines` when non-null).
Result<std::vector<nlohmann::json>> ReadSessionLog(Fs& fs, const std::string& path,
                                                   int* bad_lines = nullptr);

}  // namespace callvault::media
