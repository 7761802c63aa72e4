// SpoolWriter: appends records to one stream's spool file `<dir>/<stream-id>.rtp`, format
// version 1 (docs/formats/spool.md) through the Fs seam. Since issue 18 the engine writes
// version 2 (`CallSpoolWriter`, one media.spool per call); this writer remains for tests and
// fixtures that need version-1 files, which readers and crash recovery still read.
//
// Append() only copies the record into an in-memory buffer (no syscall per packet); Flush() hands
// the whole buffer to the kernel with one write; Sync() makes what was flushed durable
// (fdatasync; the first Sync also syncs the directory so the file's name survives a power loss).
// MediaEngine's I/O thread appends and flushes every `spool_flush`; its sync thread calls Sync()
// every `spool_sync`, so a slow disk never stalls reception — or, when many files need a sync,
// makes them all durable with one Fs::SyncFilesystem() and then tells each writer with
// MarkSynced() what that covered.
//
// Disk errors (ENOSPC, EIO) never lose the records already buffered: the bytes the kernel did not
// take stay buffered (a partial write is resumed where it stopped, so the file never holds a torn
// record followed by good ones) and are written by the next Flush(). While the buffer is over
// `max_buffer_bytes`, new records are dropped and counted; once there is room again a gap record
// (kind 3, payload u32 = records dropped) is appended before the next record.
//
// Who calls it: tests and test fixtures (recording/testing/spool_fixture.h).
// Thread-safety: Append, Flush, TryFlush, Close and buffered_bytes are for the owner thread only
// (one at a time). Sync, MarkSynced and the counters marked "any thread" may be called from any
// thread, concurrently with the owner.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/fs.h"
#include "base/mutex.h"
#include "base/status.h"
#include "media/spool_format.h"

namespace callvault::media {

struct SpoolWriterOptions {
  // Records buffered beyond this (the disk is failing) are dropped and counted. Default: 1 MiB
  // (~100 s of a G.711 stream).
  size_t max_buffer_bytes = 1 << 20;
};

class SpoolWriter {
 public:
  // Creates `path` (its directory must exist) and writes the file header (one write, not
  // synced). AlreadyExists when `path` exists and is not empty: a spool file is never overwritten.
  // REQUIRES: `fs` outlives the writer.
  static Result<std::shared_ptr<SpoolWriter>> Create(Fs* fs, const std::string& path,
                                                     SpoolWriterOptions options = {});
  ~SpoolWriter();  // closes the file without syncing (call Close() to keep the data)
  SpoolWriter(const SpoolWriter&) = delete;
  SpoolWriter& operator=(const SpoolWriter&) = delete;

  // Owner thread. Buffers one record; never fails (see the class comment for a full buffer).
  // A payload longer than 65535 bytes (impossible for UDP) is cut to 65535.
  void Append(spool::RecordKind kind, uint8_t flags, int64_t arrival_ns, std::string_view payload);

  // Owner thread. Writes the buffer (one write), waiting for a Sync() in progress.
  Status Flush() EXCLUDES(file_mu_);
  // Owner thread. As Flush(), but returns false at once (nothing written, buffer kept) when a
  // Sync() holds the file; else true with the write's outcome in `*status`.
  bool TryFlush(Status* status) EXCLUDES(file_mu_);
  // Any thread. fdatasync of the flushed bytes (no-op when nothing new). OK after Close().
  Status Sync() EXCLUDES(file_mu_);
  // Any thread. Records that the first `bytes` of the file (a flushed_bytes() value read before
  // the sync started) and its directory entry were made durable by someone else, e.g. an
  // Fs::SyncFilesystem() of the file's filesystem. Never lowers synced_bytes(); lock-free (the
  // owner's flushes are not delayed). REQUIRES: `bytes` <= flushed_bytes().
  void MarkSynced(uint64_t bytes);
  // Owner thread, once. Flush + Sync + close. Buffered records that cannot be written are lost
  // (counted in dropped_records) and the error is returned.
  Status Close() EXCLUDES(file_mu_);

  // Owner thread.
  size_t buffered_bytes() const { return buf_size_; }
  // Any thread.
  bool NeedsSync() const { return flushed_.load() != synced_.load() || !dir_synced_.load(); }
  uint64_t flushed_bytes() const { return flushed_.load(); }    // in the kernel (file size)
  uint64_t synced_bytes() const { return synced_.load(); }      // on disk
  uint64_t records() const { return records_.load(); }          // appended, including dropped
  uint64_t dropped_records() const { return dropped_.load(); }  // never written
  uint64_t write_errors() const { return write_errors_.load(); }
  Status first_error() const EXCLUDES(error_mu_);  // OK while no write/sync failed
  // True exactly once, for the first caller: lets the I/O and sync threads log a stream's disk
  // error once between them.
  bool ClaimErrorLog() { return !error_logged_.exchange(true); }
  const std::string& path() const { return path_; }

 private:
  SpoolWriter(Fs* fs, std::string path, std::unique_ptr<AppendableFile> file,
              SpoolWriterOptions options);
  Status FlushLocked() REQUIRES(file_mu_);
  void NoteError(const Status& s) EXCLUDES(error_mu_);
  void AppendRaw(spool::RecordKind kind, uint8_t flags, int64_t arrival_ns, std::string_view p);
  // Makes room for `n` more bytes in buf_ (at least doubles it; it never shrinks).
  void Grow(size_t n);
  // synced_ = max(synced_, bytes).
  void RaiseSynced(uint64_t bytes);

  Fs* const fs_;
  const std::string path_;
  const SpoolWriterOptions options_;

  // Owner thread only. The records not yet handed to the file: a plain array, so appending a
  // record is one header store and one memcpy (no zero-fill, no per-append capacity call).
  std::unique_ptr<char[]> buf_;
  size_t buf_size_ = 0, buf_capacity_ = 0;
  uint64_t pending_gap_ = 0;  // records dropped since the last gap record

  mutable Mutex file_mu_;
  std::unique_ptr<AppendableFile> file_ GUARDED_BY(file_mu_);
  bool closed_ GUARDED_BY(file_mu_) = false;

  // records_ is written by the owner thread only (Append); read from any thread.
  std::atomic<uint64_t> flushed_{0}, synced_{0}, records_{0}, dropped_{0}, write_errors_{0};
  std::atomic<bool> dir_synced_{false};
  std::atomic<bool> error_logged_{false};

  mutable Mutex error_mu_;
  Status first_error_ GUARDED_BY(error_mu_);
};

}  // namespace callvault::media
