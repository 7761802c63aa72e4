// SpoolReader: iterates the records of one spool file (docs/formats/spool.md) — a version 1
// stream file `<stream-id>.rtp` or a version 2 call file `media.spool` — verifying each record's
// CRC-32C. It stops at the first record that is short, whose CRC does not match, or (version 2)
// whose stream slot was never declared (the torn tail a crash leaves) and reports how many bytes
// it ignored from there.
//
// Memory: Open() reads the file through a window of about 1 MiB (pread), so a 10-hour spool is
// read in bounded memory; FromBytes() iterates bytes already in memory. Version 2 stream
// declarations (kind 4) are returned like any record (with `stream` set to the declared id) and
// remembered, so every later record of that slot carries the stream id too.
//
// Who calls it: media::CallSpoolReader (the finalizer and crash recovery read calls through it),
// media tests and tools.
// Thread-safety: a value used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/fs.h"
#include "base/status.h"
#include "media/spool_format.h"

namespace callvault::media {

struct SpoolRecord {
  spool::RecordKind kind = spool::RecordKind::kRtp;  // unknown kinds are returned as they are
  uint8_t flags = 0;
  int64_t arrival_ns = 0;  // wall clock, ns since the Unix epoch
  // Points into the reader: valid until the next Next() (Open), or while the reader lives
  // (FromBytes).
  std::string_view payload;
  uint64_t offset = 0;  // of the record header in the file
  uint16_t slot = 0;    // version 2: the record's stream slot; 0 in version 1
  // Version 2: the stream id declared for `slot` (valid until the next Next()); empty in
  // version 1, where the file name names the stream.
  std::string_view stream;
};

class SpoolReader {
 public:
  // Opens the file and checks its header; records are read as Next() asks for them. Errors: the
  // Fs error; DataLoss when the file is shorter than the file header or its magic is wrong;
  // Unimplemented for a version other than 1 and 2.
  static Result<SpoolReader> Open(Fs& fs, const std::string& path);
  // The same over bytes already in memory (`name` is used in messages).
  static Result<SpoolReader> FromBytes(std::string data, std::string name = "spool");

  SpoolReader(SpoolReader&&) noexcept;
  SpoolReader& operator=(SpoolReader&&) noexcept;
  ~SpoolReader();

  // The next record; false at the end of the valid records (see tail()) or on a read error
  // (see read_error()).
  bool Next(SpoolRecord* record);

  // After Next() returned false: bytes after the last valid record (0 for a clean end), and
  // why they were ignored (OK for a clean end, else DataLoss naming the offset and the reason).
  uint64_t ignored_bytes() const { return ignored_; }
  const Status& tail() const { return tail_; }
  // Not OK when reading the file failed (an I/O error, not a torn tail): the records returned
  // so far are valid but the rest of the file was not read — callers must not take the file as
  // complete (the finalizer retries later).
  const Status& read_error() const { return read_error_; }
  // Valid records returned so far (declarations included).
  uint64_t records() const { return records_; }
  uint16_t version() const { return version_; }
  const std::string& name() const { return name_; }
  // Version 2: the stream ids declared so far, by slot (an undeclared slot is empty).
  const std::vector<std::string>& declared_streams() const { return slots_; }

 private:
  SpoolReader(std::string name, uint16_t version, uint64_t size, uint64_t pos);
  bool Stop(std::string why);
  // Makes bytes [pos_, pos_ + n) available in buf_ when the file has them; returns how many
  // of them are available (< n only at the end of the file or after a read error).
  size_t Ensure(size_t n);

  std::unique_ptr<RandomAccessFile> file_;  // null for FromBytes
  std::string buf_;                         // bytes [buf_offset_, buf_offset_ + buf_.size())
  uint64_t buf_offset_ = 0;
  std::string name_;
  uint16_t version_ = 0;
  uint64_t size_ = 0;  // of the file (at Open) or of the bytes
  uint64_t pos_ = 0;   // file offset of the next record
  uint64_t records_ = 0;
  uint64_t ignored_ = 0;
  bool done_ = false;
  Status tail_;
  Status read_error_;
  std::vector<std::string> slots_;
};

}  // namespace callvault::media
