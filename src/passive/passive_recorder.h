// PassiveRecorder: passive mode's capture::PacketSink. Captured SIP messages are copied to a
// worker thread running the Follower (which does the disk work of the sessions it records);
// captured UDP packets are routed on the capture thread by the MediaRouter to the streams the
// follower bound. Once a second (capture time) the worker ticks the follower's timeouts.
//
// Called by: capture::Dispatcher on the capture thread (PacketSink), app/ (Start/Stop,
// counters).
// Thread-safety: the PacketSink callbacks from the one capture thread; Start/Stop from one
// controlling thread; counters from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "base/mutex.h"
#include "capture/sink.h"
#include "passive/follower.h"
#include "passive/media_router.h"

namespace callvault::passive {

class PassiveRecorder final : public capture::PacketSink {
 public:
  // SIP messages queued for the worker beyond this are dropped (counted): a worker stalled on
  // the disk must not grow memory without bound.
  static constexpr size_t kMaxQueuedMessages = 100000;

  // REQUIRES: backend, clock and media outlive the recorder. `kernel_drops` (any thread):
  // the capture's cumulative kernel drop count (capture::PacketSource::Stats), polled once a
  // second; its growth is noted in the sessions recording then. Empty: not polled.
  PassiveRecorder(FollowerOptions options, siprec::RecordingBackend* backend, const Clock* clock,
                  PassiveMediaSink* media, std::function<uint64_t()> kernel_drops = {});
  ~PassiveRecorder() override;  // Stop()

  void Start();
  // Processes what is queued, ends every session still recording (`shutdown`), joins.
  void Stop() EXCLUDES(mu_);

  // capture::PacketSink (capture thread).
  void OnSipMessage(const capture::SipDatagram& message) override EXCLUDES(mu_);
  void OnUdpPacket(const capture::UdpPacket& packet) override;

  const MediaRouter& router() const { return router_; }
  // Follower::capture_ns: the wire time of what the follower is processing (any thread).
  int64_t capture_ns() const { return follower_.capture_ns(); }
  uint64_t sip_dropped() const { return sip_dropped_.load(std::memory_order_relaxed); }
  // Sessions the follower records now (read from any thread).
  size_t sessions() const { return sessions_.load(std::memory_order_relaxed); }
  // A copy of the follower's counters (taken under the worker's lock).
  FollowerCounters follower_counters() const EXCLUDES(mu_);

 private:
  struct Queued {
    std::string bytes;
    capture::SipDatagram meta;  // bytes re-pointed at `bytes` on the worker
  };
  void Run() EXCLUDES(mu_);

  MediaRouter router_;
  Follower follower_;
  const std::function<uint64_t()> kernel_drops_;
  uint64_t drops_seen_ = 0;  // worker
  std::thread thread_;
  mutable Mutex mu_;
  std::condition_variable cv_;
  std::deque<Queued> queue_ GUARDED_BY(mu_);
  int64_t tick_ns_ GUARDED_BY(mu_) = 0;  // latest capture time seen (for timeouts)
  bool stop_ GUARDED_BY(mu_) = false;
  FollowerCounters counters_copy_ GUARDED_BY(mu_);
  std::atomic<uint64_t> sip_dropped_{0};
  std::atomic<size_t> sessions_{0};
  int64_t next_tick_ns_ = 0;  // capture thread
};

}  // namespace callvault::passive
