// IoThread: one media I/O thread — an epoll set, the calls and streams assigned to it for life,
// the calls' spool buffers (one media.spool per call), flush ticks and per-call RTP timeouts.
// Private to media/ (MediaEngine drives it).
//
// Per wakeup it reads each readable socket with recvmmsg (batches of kBatch, SO_TIMESTAMPNS
// arrival times, SO_RXQ_OVFL drop counters), decrypts SRTP, updates RtpStats and appends to the
// call's CallSpoolWriter buffer under the stream's slot, then adds its packet/byte counts to the
// metrics (a few relaxed atomics per wakeup, none per packet). Every `spool_flush` (a tick) it
// TryFlush()es each dirty call's writer and checks the RTP timeouts of its calls.
//
// Thread-safety: Start/Stop from the engine's control thread. Call() from any thread: runs the
// function on the I/O thread and waits (inline when called on the I/O thread itself, or once the
// thread has stopped — then serialized by a mutex). Every other method REQUIRES running on the
// I/O thread (i.e. inside Call()).
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"
#include "media/internal/engine_metrics.h"
#include "media/internal/stream.h"

namespace callvault::media::internal {

struct IoThreadOptions {
  std::chrono::milliseconds spool_flush{200};
  std::chrono::nanoseconds rtp_timeout{std::chrono::seconds(60)};
};

class IoThread {
 public:
  static constexpr int kBatch = 64;
  static constexpr size_t kSlotBytes = 65536;  // any UDP datagram fits

  // `on_timeout(call_id)` runs on this thread. REQUIRES: clock, metrics outlive the thread.
  IoThread(int index, IoThreadOptions options, const Clock* clock, EngineMetrics* metrics,
           std::function<void(const std::string&)> on_timeout);
  ~IoThread();  // Stop()s

  Status Start() EXCLUDES(mu_);
  // Stops the loop after a last TryFlush of every dirty writer; joins. Streams stay owned here
  // (take them with TakeAll()).
  void Stop() EXCLUDES(mu_);

  // Runs `fn` on the I/O thread (inline when called from it, or after Stop()) and waits for it.
  // A plain Call runs after the wakeup's receive batches (it may remove streams, whose events
  // the wakeup may still hold). CallSoon runs between two sockets of the wakeup, so a busy thread
  // answers in one socket's batches instead of a whole wakeup's: for `fn` that adds (AddStream)
  // but never removes a stream or a call. Call setup bursts while RTP flows wait on it (issue 18).
  void Call(const std::function<void()>& fn) EXCLUDES(mu_, inline_mu_) { Post(fn, false); }
  void CallSoon(const std::function<void()>& fn) EXCLUDES(mu_, inline_mu_) { Post(fn, true); }

  // --- I/O thread only (inside Call) ---
  // Registers the stream's sockets and declares its slot in the call's spool file; the stream's
  // call is timed out with its other streams. The first stream of a call brings the call's
  // `writer`, which this thread owns from then on until RemoveCall(); later ones pass the same.
  // On error nothing was added (the writer is not adopted).
  Status AddStream(std::unique_ptr<Stream> stream, std::shared_ptr<CallSpoolWriter> writer);
  // Reads what is queued on the sockets, deregisters them and hands the stream back (null if
  // `serial` is not here). The caller closes the sockets; the call keeps its writer.
  std::unique_ptr<Stream> RemoveStream(uint64_t serial);
  // Forgets a call whose streams were all removed and hands back its writer (null when the call
  // is not here) and the spool bytes already counted in the metric. The caller closes the
  // writer.
  std::shared_ptr<CallSpoolWriter> RemoveCall(const std::string& call_id, uint64_t* counted);
  Stream* Find(uint64_t serial);
  // Every stream, then (TakeCalls) every call's writer (after Stop()).
  std::vector<std::unique_ptr<Stream>> TakeAll();
  std::vector<std::pair<std::shared_ptr<CallSpoolWriter>, uint64_t>> TakeCalls();
  // Resuming restarts the silence clock.
  void SetPaused(Stream* s, bool paused);

  // Any thread: a datagram captured for the passive stream `serial` (no socket), handled at the
  // thread's next wakeup exactly as a received one (SRTP, RTP stats, spool) with `arrival_ns`.
  // Dropped (counted) when the stream is gone by then; queued bytes beyond kMaxInjectedBytes
  // are dropped (counted) too — a stalled thread must not grow memory without bound.
  void Inject(uint64_t serial, int64_t arrival_ns, std::span<const uint8_t> datagram)
      EXCLUDES(inject_mu_);
  static constexpr size_t kMaxInjectedBytes = 32u << 20;
  uint64_t inject_dropped() const { return inject_dropped_.load(std::memory_order_relaxed); }

  // Any thread.
  size_t stream_count() const { return stream_count_.load(std::memory_order_relaxed); }
  int index() const { return index_; }

 private:
  void Run() EXCLUDES(mu_);
  void Post(const std::function<void()>& fn, bool soon) EXCLUDES(mu_, inline_mu_);
  void RunCommands() EXCLUDES(mu_);
  void RunSoon() EXCLUDES(mu_);
  // Reads up to `max_rounds` batches from the socket; returns datagrams read.
  int Receive(SocketSlot* slot, int max_rounds);
  void HandleDatagram(SocketSlot* slot, int i);
  // The part of receiving shared by sockets and injection: SRTP, stats, the spool record.
  void Accept(Stream* s, bool rtcp_socket, int64_t arrival_ns, char* data, size_t len);
  void RunInjected() EXCLUDES(inject_mu_);
  void Tick(std::chrono::steady_clock::time_point now);
  void FlushDirty();
  void PublishCounters();
  void MarkDirty(CallState* c) {
    if (!c->dirty) {
      c->dirty = true;
      dirty_.push_back(c);
    }
  }
  void ReportSpoolError(const std::string& call_id, CallSpoolWriter& w, const Status& status);

  const int index_;
  const IoThreadOptions options_;
  const Clock* const clock_;
  EngineMetrics* const metrics_;
  const std::function<void(const std::string&)> on_timeout_;

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  std::atomic<std::thread::id> thread_id_{};
  std::atomic<bool> stop_{false};
  std::atomic<size_t> stream_count_{0};

  Mutex mu_;  // commands
  std::vector<std::function<void()>> commands_ GUARDED_BY(mu_);
  std::vector<std::function<void()>> soon_ GUARDED_BY(mu_);  // CallSoon's
  std::atomic<bool> soon_pending_{false};                    // soon_ is not empty
  bool running_ GUARDED_BY(mu_) = false;
  Mutex inline_mu_;  // serializes Call() after the thread stopped

  // Injected datagrams (passive streams), in arrival order: headers and one byte buffer.
  struct Injected {
    uint64_t serial;
    int64_t arrival_ns;
    size_t offset, length;
  };
  Mutex inject_mu_;
  std::vector<Injected> injected_ GUARDED_BY(inject_mu_);
  std::vector<char> injected_bytes_ GUARDED_BY(inject_mu_);
  std::vector<Injected> injecting_;  // I/O thread: the batch being handled
  std::vector<char> injecting_bytes_;
  std::atomic<uint64_t> inject_dropped_{0};

  // I/O thread state.
  std::unordered_map<uint64_t, std::unique_ptr<Stream>> streams_;
  std::unordered_map<std::string, CallState> calls_;  // node-based: CallState* stay valid
  std::vector<CallState*> dirty_;
  std::chrono::steady_clock::time_point now_;  // of the current wakeup
  std::chrono::steady_clock::time_point next_tick_;
  uint64_t pending_packets_ = 0, pending_bytes_ = 0, pending_auth_failures_ = 0, pending_drops_ = 0;
  // recvmmsg batch.
  std::unique_ptr<char[]> buffers_;  // kBatch × kSlotBytes
  std::unique_ptr<char[]> scratch_;  // SRTP decrypt copy
  mmsghdr msgs_[kBatch];
  iovec iovs_[kBatch];
  alignas(8) char control_[kBatch][64];
};

}  // namespace callvault::media::internal
