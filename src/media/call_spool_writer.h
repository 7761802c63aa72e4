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
// record followed by good ones) and are written by the next Flush(). The buffer is bounded twice:
// per file (`max_buffer_bytes`) and node-wide (`budget`, a SpoolMemoryBudget shared by every
// call's writer, issue 21). Past either bound new records are dropped and counted per slot, with
// the arrival times of the first and last dropped record and the reason (disk full, another write
// error, or a disk too slow for the buffers); once there is room again an unwritten marker of
// that slot (kind 5: count, reason, first and last arrival) is appended before the slot's next
// record — or by Close() when the slot has none. One `media.spool_dropping` line is logged when
// a slot starts dropping and one `media.spool_drop_ended` when its marker is written. Stream
// declarations and markers are never dropped (a slot's records must follow its declaration).
// Close() keeps everything buffered when the disk still refuses it: the caller (MediaEngine)
// keeps the writer and calls Close() again until it succeeds, or Abandon()s it.
// While the disk is full, an empty file `DISK_FULL.<ns>` (spool::kDiskFullMarkerPrefix; ns = the
// arrival of the first record not written) sits beside the file — creating an empty file needs no
// data block — and is removed once everything is written: left behind by a crash or by
// Abandon(), it tells the finalizer from when the records were lost.
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
#include "base/metrics.h"
#include "base/mutex.h"
#include "base/status.h"
#include "media/spool_format.h"
#include "media/spool_memory_budget.h"

namespace callvault::media {

// Counters of records dropped, by reason (callvault_media_spool_unwritten_records_total).
struct SpoolLossCounters {
  Counter* disk_full = nullptr;
  Counter* write_error = nullptr;
  Counter* buffer_full = nullptr;
};

struct CallSpoolWriterOptions {
  // Records buffered beyond this (the disk is failing) are dropped and counted. One bound per
  // file (all the call's streams). Default: 1 MiB (~50 s of a two-stream G.711 call).
  size_t max_buffer_bytes = 1 << 20;
  // The node-wide bound shared by every writer; null = only the per-file bound. REQUIRES: it
  // outlives the writer.
  SpoolMemoryBudget* budget = nullptr;
  // Counted when records are dropped; null members are skipped. REQUIRES: outlive the writer.
  SpoolLossCounters counters;
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
  // Owner thread. Unwritten markers for the slots still dropping, then Flush + Sync + close.
  // When the disk refuses the write or the sync, everything stays buffered, the file stays open
  // and the error is returned: call Close() again later (closed() says when it is done).
  // FailedPrecondition once closed.
  Status Close() EXCLUDES(file_mu_);
  // Owner thread. Gives up on what is buffered (the disk never took it): counts its RTP/RTCP
  // records as dropped, releases the memory and closes the file; returns the records never
  // written (those buffered, plus those dropped earlier whose marker was not written).
  uint64_t Abandon() EXCLUDES(file_mu_);
  bool closed() const EXCLUDES(file_mu_);

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
  // True once per run of failures, for the first caller: lets the I/O and sync threads log a
  // file's disk error once between them (again after a successful write ended the run).
  bool ClaimErrorLog() { return !error_logged_.exchange(true); }
  const std::string& path() const { return path_; }

 private:
  struct Slot {
    std::string stream_id;
    // Owner thread: records dropped since this slot's last unwritten marker, and their span.
    uint64_t unwritten = 0;
    int64_t first_ns = 0, last_ns = 0;
    spool::UnwrittenReason reason = spool::UnwrittenReason::kDiskFull;
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
  // Owner thread: makes `total` buffered bytes fit in what is reserved from the budget; false
  // when the budget has no room (`force`: always taken).
  bool Reserve(size_t total, bool force);
  // Owner thread: gives the budget back what the buffer no longer needs.
  void ReleaseExcess();
  // Owner thread: one more record of `slot` dropped at `arrival_ns`.
  void Drop(Slot& slot, int64_t arrival_ns);
  // Owner thread: appends the slot's unwritten marker (room reserved by force) and resets it.
  void AppendUnwrittenMarker(uint16_t slot_index, Slot& slot);
  spool::UnwrittenReason CurrentReason() const;
  // Owner thread (file_mu_ held): the arrival of the buffered record that holds byte `offset`
  // of buf_ (0 when none).
  int64_t FirstArrivalFrom(uint64_t offset) const;
  // Owner thread: creates the empty outage marker `DISK_FULL.<since_ns>` beside the file.
  void MarkOutage(int64_t since_ns);
  // synced_ = max(synced_, bytes).
  void RaiseSynced(uint64_t bytes);

  Fs* const fs_;
  const std::string path_;
  const CallSpoolWriterOptions options_;

  // Owner thread only. The records not yet handed to the file: a plain array, so appending a
  // record is one header store and one memcpy (no zero-fill, no per-append capacity call).
  std::unique_ptr<char[]> buf_;
  size_t buf_size_ = 0, buf_capacity_ = 0;
  size_t reserved_ = 0;        // taken from options_.budget for buf_
  std::string call_id_;        // the call directory's name, for log lines
  std::string outage_marker_;  // the DISK_FULL.<ns> file while the disk refuses this file

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
  std::atomic<bool> failing_{false};     // the last write or sync failed
  std::atomic<int> last_error_code_{0};  // StatusCode of the last failure

  mutable Mutex error_mu_;
  Status first_error_ GUARDED_BY(error_mu_);
};

}  // namespace callvault::media
