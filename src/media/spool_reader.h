// SpoolReader: iterates the records of one stream spool file (docs/formats/spool.md), verifying
// each record's CRC-32C. It stops at the first record that is short or whose CRC does not match
// (the torn tail a crash leaves) and reports how many bytes it ignored from there.
//
// Who calls it: recording/ (finalizer), crash recovery, media tests and tools.
// Thread-safety: a value used by one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/fs.h"
#include "base/status.h"
#include "media/spool_format.h"

namespace callvault::media {

struct SpoolRecord {
  spool::RecordKind kind = spool::RecordKind::kRtp;  // unknown kinds are returned as they are
  uint8_t flags = 0;
  int64_t arrival_ns = 0;    // wall clock, ns since the Unix epoch
  std::string_view payload;  // points into the reader: valid while it lives
  uint64_t offset = 0;       // of the record header in the file
};

class SpoolReader {
 public:
  // Reads the whole file. Errors: the Fs error; DataLoss when the file is shorter than the
  // file header or its magic is wrong; Unimplemented for a version other than 1.
  static Result<SpoolReader> Open(Fs& fs, const std::string& path);
  // The same over bytes already in memory (`name` is used in messages).
  static Result<SpoolReader> FromBytes(std::string data, std::string name = "spool");

  // The next record; false at the end of the valid records (see tail()).
  bool Next(SpoolRecord* record);

  // After Next() returned false: bytes after the last valid record (0 for a clean end), and
  // why they were ignored (OK for a clean end, else DataLoss naming the offset and the reason).
  uint64_t ignored_bytes() const { return ignored_; }
  const Status& tail() const { return tail_; }
  // Valid records returned so far.
  uint64_t records() const { return records_; }
  uint16_t version() const { return version_; }

 private:
  SpoolReader(std::string data, std::string name, size_t pos, uint16_t version)
      : data_(std::move(data)), name_(std::move(name)), pos_(pos), version_(version) {}
  bool Stop(std::string why);

  std::string data_;
  std::string name_;
  size_t pos_;
  uint16_t version_;
  uint64_t records_ = 0;
  uint64_t ignored_ = 0;
  bool done_ = false;
  Status tail_;
};

}  // namespace callvault::media
