// MediaEngine: RTP/RTCP reception for the recorder (DESIGN.md §media/). Every datagram that
// arrives on a stream's port pair is written to the stream's spool file
// (docs/formats/spool.md) with its kernel arrival time — decrypted first when the stream is SRTP —
// and counted in the stream's RtpStats. Nothing downstream is ever waited on.
//
// Threads (docs/threading.md):
//   - `io_threads` I/O threads: each owns an epoll set and the streams assigned to it for life
//     (all streams of a call go to the same thread, the least loaded when the call's first stream
//     opens). Per wakeup: recvmmsg batches of 64 with SO_TIMESTAMPNS and SO_RXQ_OVFL; records go
//     to the stream's in-memory spool buffer (no syscall per packet); every `spool_flush` the
//     thread writes each dirty buffer with one write and checks RTP timeouts. No lock per packet.
//   - one sync thread: every `spool_sync`, makes every spool file with new bytes durable, so a
//     slow disk never stalls reception. Few such files (< `spool_batch_sync_min`): one fdatasync
//     each (a flush that finds its file being synced is retried at the next tick instead of
//     waiting). Many: one Fs::SyncFilesystem (syncfs) per spool root — the parent of the call
//     directories, normally one — instead of thousands of fdatasyncs; each writer is then marked
//     synced up to the size it had before the syncfs started. Batching holds no writer's file,
//     so it never delays a flush. A failing syncfs falls back to per-file fdatasync for that
//     round (logged once per run of failures: `media.spool_batch_sync_failed`).
// Loss bounds: kill -9 loses at most the records of the last `spool_flush` plus one epoll wait
// (≤ spool_flush, since the wait is bounded by the next tick) plus, if a per-file sync of that
// file was running at the tick, that fdatasync's duration. A power loss loses at most
// `spool_sync` more, batched or not (a batched round covers every byte flushed before it
// started, like the per-file round). A per-file round fdatasyncs the files one after another, and
// a syncfs also writes back other dirty data of that filesystem; when a round takes longer than
// `spool_sync` (thousands of streams on a slow disk) the power-loss bound is the round's duration
// and `media.spool_sync_slow` is logged. A full socket buffer (the kernel drops) writes a gap
// record (kind 3) with the drop count.
//
// Who calls it: siprec/ (OpenStream on an accepted offer, SetPaused/UpdateSrtp on re-INVITE,
// CloseCall on BYE), app/ (Start/Stop, admission via free_ports()/open_streams()), http/ (Stats).
// Thread-safety: every method is thread-safe, except that Start/Stop run on one thread (not an
// I/O thread). From the TimeoutFn, only the timed-out call's streams may be acted on (see
// TimeoutFn). Calls that act on a stream wait for its I/O thread to run them (microseconds unless
// the thread is busy with a burst).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/fs.h"
#include "base/metrics.h"
#include "base/mutex.h"
#include "base/status.h"
#include "media/port_pool.h"
#include "media/rtp_stats.h"
#include "media/spool_writer.h"
#include "media/srtp_session.h"

namespace callvault::media {

namespace internal {
class IoThread;
struct Stream;
struct EngineMetrics;
}  // namespace internal

struct MediaOptions {
  // Local addresses the RTP sockets bind to (IPv4 and IPv6 streams); an empty ipv6_address
  // refuses IPv6 streams. Default: "0.0.0.0" / "::".
  std::string ipv4_address = "0.0.0.0";
  std::string ipv6_address = "::";
  // RTP port range; RTP ports are even, RTCP = RTP + 1 (both inside the range).
  // Default: 20000..39998 (10,000 streams... minus what other processes hold).
  uint16_t port_min = 20000, port_max = 39998;
  // I/O threads. Default: 0 = one per core.
  int io_threads = 0;
  // Buffered spool records are written at least this often (kill -9 loss bound). Default: 200 ms.
  std::chrono::milliseconds spool_flush{200};
  // Spool files are fdatasync'ed this often (power-loss bound). Default: 1000 ms.
  std::chrono::milliseconds spool_sync{1000};
  // A sync round with at least this many files to sync uses one syncfs per spool root instead of
  // one fdatasync per file (see the class comment); 0 = never batch. Default: 8.
  size_t spool_batch_sync_min = 8;
  // A call whose non-paused streams all received no RTP for this long is reported once to the
  // TimeoutFn (RTCP does not count as activity). Default: 60 s.
  std::chrono::seconds rtp_timeout{60};
  // SO_RCVBUF of each RTP/RTCP socket (the kernel caps it at net.core.rmem_max). Default: 1 MiB.
  int socket_receive_buffer = 1 << 20;
  // Open streams; OpenStream beyond fails with ResourceExhausted. Default: 20000.
  size_t max_streams = 20000;
  // Spool records buffered per stream while the disk fails, before new ones are dropped (and
  // counted). Default: 1 MiB.
  size_t spool_max_buffer = 1 << 20;

  // InvalidArgument naming the field when a value is unusable.
  Status Validate() const;
};

struct StreamConfig {
  std::string call_id;    // the UUIDv7 call id
  std::string stream_id;  // spool file name stem: [A-Za-z0-9_.-]{1,64}, not starting with '.'
  std::string spool_dir;  // data/spool/<call-id>; created if missing
  bool ipv6 = false;      // bind ipv6_address instead of ipv4_address
  std::optional<SrtpParams> srtp;  // the SRC's SDES key: we decrypt
  uint32_t clock_rate = 8000;      // RTP clock of the main codec, for jitter in ms
};

struct StreamStats {
  std::string call_id, stream_id;
  uint16_t rtp_port = 0;
  bool paused = false, srtp = false;
  RtpStatsSnapshot rtp;             // RTP and RTCP counters (see rtp_stats.h)
  uint64_t srtp_decrypted = 0;      // packets stored decrypted (flag bit 0)
  uint64_t srtp_auth_failures = 0;  // stored raw with flag bit 1
  uint64_t srtp_replays = 0;        // replayed / too old for the window: stored raw, flag bit 1
  uint64_t srtp_errors = 0;         // other libsrtp errors (too short...): stored raw, flag bit 1
  uint64_t socket_drops = 0;        // datagrams the kernel dropped (SO_RXQ_OVFL), gap records
  uint64_t truncated = 0;           // datagrams larger than the receive slot (never for UDP)
  uint64_t spool_records = 0;       // appended to the spool (including dropped ones)
  uint64_t spool_dropped = 0;       // records never written (disk failing too long)
  uint64_t spool_bytes = 0;         // file size handed to the kernel
  uint64_t spool_synced_bytes = 0;  // of which fdatasync'ed
  uint64_t spool_write_errors = 0;  // failed writes/syncs (retried)
  std::string spool_error;          // the first disk error, "" when none
};

class MediaEngine {
 public:
  // Called from an I/O thread once per call; must not block. It may act on the timed-out call
  // (CloseCall, CloseStream, Stats, SetPaused of its streams run inline: they live on this very
  // thread) but must not touch other calls' streams (that would wait on another I/O thread).
  using TimeoutFn = std::function<void(const std::string& call_id)>;

  // REQUIRES: fs, clock (and registry when given) outlive the engine. `registry` null: the
  // engine keeps its metrics in a private registry.
  MediaEngine(MediaOptions options, Fs* fs, Clock* clock, TimeoutFn on_rtp_timeout,
              Registry* registry = nullptr);
  ~MediaEngine();  // Stop()s
  MediaEngine(const MediaEngine&) = delete;
  MediaEngine& operator=(const MediaEngine&) = delete;

  // Validates the options, starts the I/O and sync threads. Once.
  Status Start() EXCLUDES(mu_);
  // Stops the threads, then flushes, syncs and closes every open stream (as CloseStream).
  // Idempotent.
  void Stop() EXCLUDES(mu_);

  // Allocates the port pair, binds both sockets, creates `<spool_dir>/<stream_id>.rtp`, assigns
  // the stream to its call's I/O thread; returns the RTP port. Errors: InvalidArgument (ids, SRTP
  // key), AlreadyExists (stream open, or its spool file exists), ResourceExhausted (ports,
  // max_streams, fds), the Fs error, FailedPrecondition (not started).
  Result<uint16_t> OpenStream(const StreamConfig& config) EXCLUDES(mu_);
  // Paused (a=inactive): the stream still records whatever arrives but does not count toward
  // the RTP timeout; resuming restarts its silence clock.
  Status SetPaused(const std::string& call_id, const std::string& stream_id, bool paused)
      EXCLUDES(mu_);
  // Replaces the SRTP key (re-INVITE rekey); nullopt: the stream is plain RTP from now on.
  Status UpdateSrtp(const std::string& call_id, const std::string& stream_id,
                    const std::optional<SrtpParams>& srtp) EXCLUDES(mu_);
  // Receives what is already queued on the sockets, then flushes + fdatasyncs the spool file,
  // closes the sockets, releases the ports; returns the final stats. The spool error, if any,
  // is in the stats (the stream is closed anyway).
  Result<StreamStats> CloseStream(const std::string& call_id, const std::string& stream_id)
      EXCLUDES(mu_);
  // CloseStream for every stream of the call (none: empty).
  std::vector<StreamStats> CloseCall(const std::string& call_id) EXCLUDES(mu_);

  // Current stats (exact: computed on the stream's I/O thread). nullopt when not open.
  std::optional<StreamStats> Stats(const std::string& call_id, const std::string& stream_id) const
      EXCLUDES(mu_);

  size_t free_ports() const { return ports_.free_count(); }
  size_t open_streams() const EXCLUDES(mu_);
  // The RTP ports range actually used (after rounding): for admission headroom.
  size_t port_capacity() const { return ports_.capacity(); }

 private:
  struct Entry {
    internal::IoThread* thread = nullptr;  // null while OpenStream is still opening it
    uint64_t serial = 0;                   // the stream's key on its I/O thread
    uint16_t port = 0;
    std::string call_id;
    std::shared_ptr<SpoolWriter> writer;  // for the sync thread
  };
  struct CallEntry {
    size_t thread = 0;
    std::vector<std::string> stream_ids;  // open or opening
  };
  static std::string Key(const std::string& call_id, const std::string& stream_id) {
    return call_id + '\n' + stream_id;
  }
  // REQUIRES: `entry` was removed from streams_/calls_ by the caller.
  Result<StreamStats> CloseEntry(const Entry& entry) EXCLUDES(mu_);
  // Closes a stream taken from its I/O thread (flush + fdatasync + close, release ports).
  StreamStats Finish(std::unique_ptr<internal::Stream> stream);
  // Removes `key` from streams_ and its call's list; returns the entry if it was open.
  std::optional<Entry> TakeEntryLocked(const std::string& call_id, const std::string& stream_id)
      REQUIRES(mu_);
  // Runs `fn(stream)` on the stream's I/O thread; NotFound when not open.
  Status OnStream(const std::string& call_id, const std::string& stream_id,
                  const std::function<void(internal::IoThread*, internal::Stream*)>& fn) const
      EXCLUDES(mu_);
  void SyncLoop() EXCLUDES(mu_);
  // One sync round over `writers` (call id, writer), on the sync thread; returns the number of
  // files that needed a sync. `batch_failing` carries "the last batched sync failed" between
  // rounds (to log a run of failures once).
  size_t SyncRound(const std::vector<std::pair<std::string, std::shared_ptr<SpoolWriter>>>& writers,
                   bool* batch_failing);
  // Per-file Sync() of `w`, counting and logging (once per writer) a failure.
  void SyncOne(const std::string& call_id, SpoolWriter& w);

  const MediaOptions options_;
  Fs* const fs_;
  Clock* const clock_;
  const TimeoutFn on_timeout_;
  std::unique_ptr<Registry> own_registry_;
  std::unique_ptr<internal::EngineMetrics> metrics_;
  PortPool ports_;

  std::vector<std::unique_ptr<internal::IoThread>> threads_;  // fixed after Start()
  std::thread sync_thread_;
  std::condition_variable sync_cv_;

  mutable Mutex mu_;
  bool started_ GUARDED_BY(mu_) = false;
  bool stopped_ GUARDED_BY(mu_) = false;
  bool sync_stop_ GUARDED_BY(mu_) = false;
  uint64_t next_serial_ GUARDED_BY(mu_) = 1;
  std::unordered_map<std::string, Entry> streams_ GUARDED_BY(mu_);
  std::unordered_map<std::string, CallEntry> calls_ GUARDED_BY(mu_);
};

}  // namespace callvault::media
