// MediaEngine: RTP/RTCP reception for the recorder (DESIGN.md §media/). Every datagram that
// arrives on a stream's port is written to its call's spool file `<spool_dir>/media.spool`
// (docs/formats/spool.md, version 2: one file per call, the stream's records under its slot)
// with its kernel arrival time — decrypted first when the stream is SRTP — and counted in the
// stream's RtpStats. Nothing downstream is ever waited on.
//
// Descriptors: one UDP socket per stream (RTP; RTCP multiplexed on it per RFC 5761 is kept), one
// more per stream only when `rtcp_sockets` binds RTP + 1 as well, and one spool file per call:
// a two-stream call holds 3 (5 with RTCP sockets). open_descriptors() counts them for admission.
//
// Threads (docs/threading.md):
//   - `io_threads` I/O threads: each owns an epoll set and the calls assigned to it for life
//     (all streams of a call go to the same thread, the least loaded when the call's first stream
//     opens, and that thread owns the call's spool file buffer). Per wakeup: recvmmsg batches of
//     64 with SO_TIMESTAMPNS and SO_RXQ_OVFL; records go to the call's in-memory spool buffer
//     (no syscall per packet); every `spool_flush` the thread writes each dirty buffer with one
//     write and checks RTP timeouts. No lock per packet.
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
// A full disk (issue 21): records stay buffered in memory, within the node-wide
// `spool_memory_budget` (SpoolMemoryBudget, shared by every call's writer), and are written when
// the disk takes writes again. A call that ends meanwhile keeps its buffered records: its writer
// is kept here ("waiting for the disk", SpoolPending()) and the sync thread tries to write and
// close it every `spool_sync`; the finalizer waits for it. Past the budget, records are dropped
// and counted per stream with their time span and reason (kind 5 unwritten markers in the
// spool, `callvault_media_spool_unwritten_records_total{reason}`); never silently. Stop() gives
// the writers still waiting one last try, then abandons them (logged with the records lost).
//
// Who calls it: siprec/ (OpenStream on an accepted offer, SetPaused/UpdateSrtp on re-INVITE,
// CloseCall on BYE), app/ (Start/Stop, admission via free_ports()/open_streams()), http/ (Stats).
// Thread-safety: every method is thread-safe, except that Start/Stop run on one thread (not an
// I/O thread), and that OpenStream, CloseStream and CloseCall of one call must not overlap (the
// recorder runs a call on one worker; different calls may overlap freely). From the TimeoutFn,
// only the timed-out call's streams may be acted on (see TimeoutFn). Calls that act on a stream
// wait for its I/O thread to run them (microseconds unless the thread is busy with a burst).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/fs.h"
#include "base/metrics.h"
#include "base/mutex.h"
#include "base/status.h"
#include "media/call_spool_writer.h"
#include "media/port_pool.h"
#include "media/rtp_stats.h"
#include "media/spool_memory_budget.h"
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
  // RTP port range; RTP ports are even, RTCP = RTP + 1 (both inside the range: RTP + 1 is
  // reserved for the stream even when no socket is bound to it, so the answer's implicit RTCP
  // port is nobody else's). Default: 20000..39998 (10,000 streams... minus what other processes
  // hold).
  uint16_t port_min = 20000, port_max = 39998;
  // Bind a socket on RTP + 1 for RTCP as well (one more descriptor per stream). Off: RTCP sent
  // there is refused by the kernel (ICMP port unreachable, harmless to the SRC); RTCP
  // multiplexed on the RTP port (a=rtcp-mux) is stored either way. Recording never needs RTCP.
  // Default: false.
  bool rtcp_sockets = false;
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
  // Spool records buffered per call (its media.spool) while the disk fails, before new ones are
  // dropped (and counted); spool_memory_budget bounds all calls together. Default: 4 MiB (~3.5
  // minutes of a two-stream G.711 call).
  size_t spool_max_buffer = 4 << 20;
  // Spool records held in memory by all calls together — buffered between flushes, buffered
  // while the disk refuses writes, and kept for calls that ended before the disk took them —
  // before new records are dropped (and counted). Default: 256 MiB (a 100-call node at 10,000
  // packets/s: ~2 MB/s, so ~2 minutes of a full disk).
  size_t spool_memory_budget = size_t{256} << 20;

  // InvalidArgument naming the field when a value is unusable.
  Status Validate() const;
};

struct StreamConfig {
  std::string call_id;    // the UUIDv7 call id
  std::string stream_id;  // the slot's id in the call's spool: [A-Za-z0-9_.-]{1,64}, no '.' first
  std::string spool_dir;  // data/spool/<call-id>; created if missing (same for every stream)
  bool ipv6 = false;      // bind ipv6_address instead of ipv4_address
  std::optional<SrtpParams> srtp;  // the SRC's SDES key: we decrypt
  uint32_t clock_rate = 8000;      // RTP clock of the main codec, for jitter in ms
  // Passive recording: no port and no socket; the datagrams come through Inject(). OpenStream
  // returns port 0.
  bool passive = false;
};

// Where Inject() sends a passive stream's datagrams (PassiveTarget).
struct InjectTarget {
  internal::IoThread* thread = nullptr;
  uint64_t serial = 0;
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
  uint64_t spool_records = 0;       // this stream's records appended to the spool (incl. dropped)
  uint64_t spool_dropped = 0;       // this stream's records never written (disk failing too long)
  // The call's spool file (shared by its streams):
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

  // Allocates the port pair, binds the RTP socket (and the RTCP one when `rtcp_sockets`), creates
  // the call's `<spool_dir>/media.spool` when this is the call's first stream, assigns the stream
  // to its call's I/O thread, which declares the stream's slot in the file; returns the RTP port.
  // Errors: InvalidArgument (ids, SRTP key), AlreadyExists (stream open, or a new call's spool
  // file exists), ResourceExhausted (ports, max_streams, fds), the Fs error, FailedPrecondition
  // (not started). On error nothing of the stream stays open (nor the file of a new call).
  Result<uint16_t> OpenStream(const StreamConfig& config) EXCLUDES(mu_);
  // A passive stream's (StreamConfig::passive) target for Inject; NotFound when not open.
  Result<InjectTarget> PassiveTarget(const std::string& call_id, const std::string& stream_id) const
      EXCLUDES(mu_);
  // Any thread, no lock shared with setup: one captured datagram for a passive stream, recorded
  // by its I/O thread as if received at `arrival_ns` (SRTP, RTP stats, spool). Dropped and
  // counted (inject_dropped) when the stream has closed meanwhile or the thread is too far
  // behind.
  void Inject(const InjectTarget& target, int64_t arrival_ns, std::span<const uint8_t> datagram);
  uint64_t inject_dropped() const EXCLUDES(mu_);
  // Paused (a=inactive): the stream still records whatever arrives but does not count toward
  // the RTP timeout; resuming restarts its silence clock.
  Status SetPaused(const std::string& call_id, const std::string& stream_id, bool paused)
      EXCLUDES(mu_);
  // Replaces the SRTP key (re-INVITE rekey); nullopt: the stream is plain RTP from now on.
  Status UpdateSrtp(const std::string& call_id, const std::string& stream_id,
                    const std::optional<SrtpParams>& srtp) EXCLUDES(mu_);
  // Receives what is already queued on the sockets, closes them, releases the ports; returns the
  // final stats. Its records are written with the call's next flush — at once, with an
  // fdatasync and the file's close, when it was the call's last stream (the call is then
  // closed: a stream opened for it later fails, AlreadyExists). The spool error, if any, is in
  // the stats (the stream is closed anyway).
  Result<StreamStats> CloseStream(const std::string& call_id, const std::string& stream_id)
      EXCLUDES(mu_);
  // Closes every stream of the call, then flushes, fdatasyncs and closes its spool file before
  // returning (none: empty).
  std::vector<StreamStats> CloseCall(const std::string& call_id) EXCLUDES(mu_);

  // Current stats (exact: computed on the stream's I/O thread). nullopt when not open.
  std::optional<StreamStats> Stats(const std::string& call_id, const std::string& stream_id) const
      EXCLUDES(mu_);

  size_t free_ports() const { return ports_.free_count(); }
  size_t open_streams() const EXCLUDES(mu_);
  // Descriptors the engine holds for calls now: sockets and spool files (not its own epoll and
  // eventfd per I/O thread). Lock-free; for admission (app/descriptor_budget.h).
  size_t open_descriptors() const { return descriptors_.load(std::memory_order_relaxed); }
  // What one call of `streams` streams costs in descriptors (sockets + its spool file).
  size_t DescriptorsPerCall(size_t streams) const {
    return streams * (options_.rtcp_sockets ? 2 : 1) + 1;
  }
  // The RTP ports range actually used (after rounding): for admission headroom.
  size_t port_capacity() const { return ports_.capacity(); }

  // True while the call's spool file still holds records the disk has not taken (the call's
  // streams are closed; the sync thread retries). The finalizer waits for it to turn false.
  bool SpoolPending(const std::string& call_id) const EXCLUDES(mu_);
  // Calls waiting for the disk, and the spool bytes all calls hold in memory now.
  size_t spool_waiting_calls() const EXCLUDES(mu_);
  size_t spool_buffered_bytes() const { return budget_.used(); }
  // Bytes the spool has been asked to write since start (every datagram received plus its record
  // header, written or not): the spool's write demand, for disk headroom estimates. Lock-free.
  uint64_t spool_demand_bytes() const;

 private:
  struct Entry {
    internal::IoThread* thread = nullptr;  // null while OpenStream is still opening it
    uint64_t serial = 0;                   // the stream's key on its I/O thread
    uint16_t port = 0;
    std::string call_id;
  };
  struct CallEntry {
    size_t thread = 0;
    std::vector<std::string> stream_ids;      // open or opening
    std::shared_ptr<CallSpoolWriter> writer;  // media.spool; also for the sync thread
  };
  static std::string Key(const std::string& call_id, const std::string& stream_id) {
    return call_id + '\n' + stream_id;
  }
  // Takes the streams `entries` (removed from streams_ by the caller) from their I/O thread —
  // and, when `call` is set (the call's entry, removed from calls_ too), the call's writer after
  // them — closes the writer (flush + fdatasync + close) and then the streams.
  std::vector<StreamStats> CloseEntries(const std::string& call_id,
                                        const std::vector<Entry>& entries,
                                        const std::optional<CallEntry>& call) EXCLUDES(mu_);
  // Closes a stream taken from its I/O thread (sockets, ports); its writer is closed apart.
  StreamStats Finish(std::unique_ptr<internal::Stream> stream);
  // Flush + fdatasync + close of a call's file the I/O thread let go of; `counted`: its bytes
  // already in the spool_bytes metric. When the disk refuses it, the writer is kept in
  // waiting_ (retried by the sync thread) unless `final` (Stop: it is abandoned).
  void CloseWriter(const std::string& call_id, const std::shared_ptr<CallSpoolWriter>& writer,
                   uint64_t counted, bool final = false) EXCLUDES(mu_);
  // The sync thread's retry of the writers waiting for the disk (`final`: abandon what fails).
  void RetryWaiting(bool final) EXCLUDES(mu_);
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
  size_t SyncRound(
      const std::vector<std::pair<std::string, std::shared_ptr<CallSpoolWriter>>>& writers,
      bool* batch_failing);
  // Per-file Sync() of `w`, counting and logging (once per writer) a failure.
  void SyncOne(const std::string& call_id, CallSpoolWriter& w);

  const MediaOptions options_;
  Fs* const fs_;
  Clock* const clock_;
  const TimeoutFn on_timeout_;
  std::unique_ptr<Registry> own_registry_;
  std::unique_ptr<internal::EngineMetrics> metrics_;
  PortPool ports_;
  SpoolMemoryBudget budget_;

  std::vector<std::unique_ptr<internal::IoThread>> threads_;  // fixed after Start()
  std::atomic<size_t> descriptors_{0};  // sockets + spool files open for calls
  std::thread sync_thread_;
  std::condition_variable sync_cv_;

  mutable Mutex mu_;
  bool started_ GUARDED_BY(mu_) = false;
  bool stopped_ GUARDED_BY(mu_) = false;
  bool sync_stop_ GUARDED_BY(mu_) = false;
  uint64_t next_serial_ GUARDED_BY(mu_) = 1;
  std::unordered_map<std::string, Entry> streams_ GUARDED_BY(mu_);
  std::unordered_map<std::string, CallEntry> calls_ GUARDED_BY(mu_);
  // Ended calls whose spool file still holds records the disk refused: writer, bytes counted,
  // since when.
  struct Waiting {
    std::shared_ptr<CallSpoolWriter> writer;
    uint64_t counted = 0;
    std::chrono::steady_clock::time_point since;
  };
  std::unordered_map<std::string, Waiting> waiting_ GUARDED_BY(mu_);
};

}  // namespace callvault::media
