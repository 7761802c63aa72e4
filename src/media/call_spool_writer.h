// CallSpoolWriter: appends records to one call's spool file `<call-dir>/media.spool`, format
// version 2 (docs/formats/spool.md §media.spool): every stream of the call in one file, each
// record tagged with its stream's slot, each slot declared (kind 4) before its first record.
// One spool descriptor per call, however many streams it has (issue 18).
//
// Append() only copies the record into an in-memory buffer (no syscall per packet); Flush() hands
// the whole buffer to the kernel with one write; Sync() makes what was flushed durable
// (fdatasync; the first Sync also syncs the directory so the file's name survives a power loss).
// MediaEngine's I/O thread (the one that owns every stream of the call) declares slots, appends
// and flushes every `spool_flush`; its sync thread calls Sync() every `spool_sync`, so a slow disk
// never stalls reception — or, when many files need a sync, makes them all durable with one
// Fs::SyncFilesystem() and then tells each writer with MarkSynced() what that covered.
//
// Disk errors (ENOSPC, EIO) never lose the records already buffered: the bytes the kernel did not
// take stay buffered (a partial write is resumed where it stopped, so the file never holds a torn
// record followed by good ones) and are written by the next Flush(). While the buffer is over
// `max_buffer_bytes` (one bound per file), new records are dropped and counted per slot; once
// there is room again a gap record of that slot (kind 3, payload u32 = that slot's records
// dropped) is appended before the slot's next record. Stream declarations are never dropped (a
// slot's records must follow its declaration).
//
// Who calls it: media::internal::IoThread (owner), the engine's sync thread (Sync, MarkSynced),
// the engine's control threads once the I/O thread let go (Close), tests.
// Thread-safety: AddSlot, Append, Flush, TryFlush, Close and buffered_bytes are for the owner
// thread only (one at a time; ownership may pass between threads with a happens-before, e.g.
// through IoThread::Call). Sync, MarkSynced and the counters marked "any thread" may be called
// from any thread, concurrently with the owner.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "base/fs.h"
#include "base/mutex.h"
#include "base/status.h"
#include "media/spool_format.h"

namespace callvault::media {

struct CallSpoolWriterOptions {
  // Records buffered beyond this (the disk is failing) are dropped and counted. One bound per
  // file (all the call's streams). Default: 1 MiB (~50 s of a two-stream G.711 call).
  size_t max_buffer_bytes = 1 << 20;
};

class CallSpoolWriter {
 public:
  // Creates `path` (its directory must exist) and writes the version-2 file header (one write,
  // not synced). AlreadyExists when `path` exists and is not empty: a spool file is never
  // overwritten. REQUIRES: `fs` outlives the writer.
  static Result<std::shared_ptr<CallSpoolWriter>> Create(Fs* fs, const std::string& path,
                                                         CallSpoolWriterOptions options = {});
  ~CallSpoolWriter();  // closes the file without syncing (call Close() to keep the data)
  CallSpoolWriter(const CallSpoolWriter&) = delete;
  CallSpoolWriter& operator=(const CallSpoolWriter&) = delete;

  // Owner thread. Declares a new slot for `stream_id` (a stream opened, or reopened: a new slot
  // with the same id) by buffering a kind-4 record whose arrival_ns is `opened_ns`; returns the
  // slot (0, 1, … in order). InvalidArgument for an id outside 1..kMaxStreamIdBytes bytes,
  // ResourceExhausted after 65536 slots.
  Result<uint16_t> AddSlot(std::string_view stream_id, int64_t opened_ns);

  // Owner thread. Buffers one record of `slot`; never fails (see the class comment for a full
  // buffer). A payload longer than 65535 bytes (impossible for UDP) is cut to 65535.
  // REQUIRES: `slot` was returned by AddSlot; `kind` is not kStreamDeclaration.
  void Append(uint16_t slot, spool::RecordKind kind, uint8_t flags, int64_t arrival_ns,
              std::string_view payload);

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
  // Any thread, for a slot returned by AddSlot (0 for an unknown slot): that slot's records
  // appended (including dropped ones) and dropped.
  uint64_t slot_records(uint16_t slot) const EXCLUDES(slots_mu_);
  uint64_t slot_dropped(uint16_t slot) const EXCLUDES(slots_mu_);
  Status first_error() const EXCLUDES(error_mu_);  // OK while no write/sync failed
  // True exactly once, for the first caller: lets the I/O and sync threads log a file's disk
  // error once between them.
  bool ClaimErrorLog() { return !error_logged_.exchange(true); }
  const std::string& path() const { return path_; }

 private:
  struct Slot {
    uint64_t pending_gap = 0;  // owner thread: records dropped since this slot's last gap record
    std::atomic<uint64_t> records{0}, dropped{0};
  };

  CallSpoolWriter(Fs* fs, std::string path, std::unique_ptr<AppendableFile> file,
                  CallSpoolWriterOptions options);
  Status FlushLocked() REQUIRES(file_mu_);
  void NoteError(const Status& s) EXCLUDES(error_mu_);
  void AppendRaw(uint16_t slot, spool::RecordKind kind, uint8_t flags, int64_t arrival_ns,
                 std::string_view p);
  // Makes room for `n` more bytes in buf_ (at least doubles it; it never shrinks).
  void Grow(size_t n);
  // synced_ = max(synced_, bytes).
  void RaiseSynced(uint64_t bytes);

  Fs* const fs_;
  const std::string path_;
  const CallSpoolWriterOptions options_;

  // Owner thread only. The records not yet handed to the file: a plain array, so appending a
  // record is one header store and one memcpy (no zero-fill, no per-append capacity call).
  std::unique_ptr<char[]> buf_;
  size_t buf_size_ = 0, buf_capacity_ = 0;

  // Grown by the owner (AddSlot), read by the owner without the lock through the cached
  // pointers below and by stats readers under it.
  mutable Mutex slots_mu_;
  std::deque<Slot> slots_ GUARDED_BY(slots_mu_);
  // Owner thread only: the slots in order (pointers into slots_), so Append takes no lock.
  std::deque<Slot*> owner_slots_;

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
