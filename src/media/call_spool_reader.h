// CallSpoolReader: every media record of one call's spool directory (docs/formats/spool.md), with
// the stream each belongs to, whatever the spool's version: the version 2 call file
// `media.spool` and any version 1 stream files `<stream-id>.rtp`, merged by arrival time (each
// file's own order is kept; between files the record with the earliest arrival goes first).
// Memory is bounded by the file count (one ~1 MiB read window per file), not by the call's length,
// so the finalizer can read a 10-hour call; it reads a call several times by opening it again.
//
// Who calls it: recording/ (the finalizer, crash recovery), media tests and tools.
// Thread-safety: a value used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/fs.h"
#include "base/status.h"
#include "media/spool_reader.h"

namespace callvault::media {

struct CallRecord {
  std::string_view stream_id;  // valid while the reader lives
  SpoolRecord record;          // its payload is valid until the next Next()
};

// What became of one spool file of the call.
struct SpoolFileReport {
  std::string name;            // file name inside the call directory
  uint16_t version = 0;        // 0: the file could not be opened as a spool (see `tail`)
  std::string stream_id;       // version 1: the stream the file holds
  uint64_t bytes = 0;          // the file's size
  uint64_t records = 0;        // valid records read
  uint64_t ignored_bytes = 0;  // torn or corrupt tail (or the whole file when unreadable)
  Status tail;                 // why bytes were ignored (OK: none)
};

class CallSpoolReader {
 public:
  // Lists the call directory and opens its spool files. A file that is not a readable spool
  // (shorter than its header, bad magic, unknown version) is reported in files() with its
  // bytes ignored, not an error. Errors: listing the directory or opening a file failed (Fs).
  static Result<CallSpoolReader> Open(Fs& fs, const std::string& call_dir);

  CallSpoolReader(CallSpoolReader&&) noexcept;
  CallSpoolReader& operator=(CallSpoolReader&&) noexcept;
  ~CallSpoolReader();

  // The next record in merged arrival order (stream declarations included); false at the end of
  // every file or on a read error (read_error()).
  bool Next(CallRecord* record);

  // Not OK when a file could not be read to its end (an I/O error): the call must not be taken as
  // complete.
  const Status& read_error() const { return read_error_; }
  // The stream ids met so far (file names, declarations), in order of first appearance; every
  // one after the last Next().
  const std::vector<std::string>& stream_ids() const { return stream_ids_; }
  // Per file; `records`, `ignored_bytes` and `tail` are final after Next() returned false.
  std::vector<SpoolFileReport> files() const;

 private:
  struct File;
  CallSpoolReader() = default;
  bool Advance(File& f);
  std::string_view Intern(std::string_view id);

  std::vector<std::unique_ptr<File>> files_;
  std::vector<std::string> stream_ids_;
  std::vector<std::unique_ptr<std::string>> interned_;  // stable storage for stream_id views
  File* last_ = nullptr;  // the file whose record Next() returned last (advanced on the next call)
  Status read_error_;
};

}  // namespace callvault::media
