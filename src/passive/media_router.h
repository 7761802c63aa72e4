// MediaRouter: on the capture thread, sends each captured UDP packet addressed to a bound media
// endpoint (the primary's RTP port of a followed stream, passive/follower.h) to that stream,
// through a PassiveMediaSink (app/: the media engine's passive streams, which record it exactly
// as a received datagram).
//
// The follower binds an endpoint when it has processed the primary's 2xx; packets that reach
// the endpoint before that (the SRC starts streaming as soon as it has the 2xx) are held: up to
// kHeldPerEndpoint packets younger than kHeldWindowNs per unbound destination, kMaxHeldBytes in
// all. A binding delivers what was held for its endpoint first, in order; what ages out unbound
// was not media of a followed call.
//
// Bindings are posted from the follower's thread (Post) and applied on the capture thread at its
// next packet or Poll(). The capture time of each call's last packet is published once per
// capture second (LastRtp) for the follower's RTP timeout.
//
// Called by: passive::PassiveRecorder — Route/Poll on the capture thread, Post and LastRtp from
// the follower's worker.
// Thread-safety: Post and LastRtp are thread-safe; Route and Poll from the capture thread only.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"
#include "capture/endpoint.h"
#include "capture/sink.h"
#include "passive/follower.h"

namespace callvault::passive {

// Where routed packets go.
class PassiveMediaSink {
 public:
  virtual ~PassiveMediaSink() = default;
  // One RTP/RTCP datagram for a stream, with its capture time (ns since the Unix epoch).
  // Called on the capture thread; must not block.
  virtual void OnMedia(const std::string& call_id, const std::string& stream_id, int64_t ts_ns,
                       std::span<const uint8_t> datagram) = 0;
  // The stream gets nothing more through this endpoint (capture thread): a sink that caches
  // per stream may forget it.
  virtual void OnUnbound(const std::string& call_id, const std::string& stream_id) {
    (void)call_id;
    (void)stream_id;
  }
};

struct RouterCounters {
  std::atomic<uint64_t> routed{0}, held{0}, held_delivered{0}, held_expired{0},
      held_overflow{0}, unrouted{0};
};

class MediaRouter {
 public:
  static constexpr size_t kHeldPerEndpoint = 64;           // ~1.3 s of 20 ms packets
  static constexpr int64_t kHeldWindowNs = 2'000'000'000;  // 2 s
  static constexpr size_t kMaxHeldBytes = 8u << 20;

  explicit MediaRouter(PassiveMediaSink* sink) : sink_(sink) {}

  // Follower's thread: a binding to apply.
  void Post(const MediaBinding& binding) EXCLUDES(mu_);
  // Capture thread: routes one UDP packet (or holds it). Applies posted bindings first.
  void Route(const capture::UdpPacket& packet) EXCLUDES(mu_);
  // Capture thread: applies posted bindings and expires held packets at capture time now_ns.
  void Poll(int64_t now_ns) EXCLUDES(mu_);
  // Capture thread: a BYE of SIP dialog `sip_call_id` was captured. Its routes end now, so
  // what the SRC sends after its BYE is not recorded (the follower, which processes the BYE
  // later, unbinds them too: a no-op then). Returns the routes ended. REQUIRES: not empty.
  size_t EndDialog(std::string_view sip_call_id) EXCLUDES(mu_);
  // Capture time of the call's last routed packet as last published (0: none).
  int64_t LastRtp(const std::string& call_id) const EXCLUDES(mu_);

  size_t routes() const { return routes_count_.load(std::memory_order_relaxed); }
  const RouterCounters& counters() const { return counters_; }

 private:
  struct Target {
    std::string call_id, stream_id, sip_call_id;
  };
  struct Held {
    int64_t ts_ns;
    std::vector<uint8_t> bytes;
  };
  struct EndpointHash {
    size_t operator()(const capture::Endpoint& e) const { return capture::HashEndpoint(e); }
  };

  void Apply() EXCLUDES(mu_);
  void Deliver(const Target& t, int64_t ts_ns, std::span<const uint8_t> bytes);
  void Publish(int64_t now_ns) EXCLUDES(mu_);

  PassiveMediaSink* const sink_;
  // Capture thread only.
  std::unordered_map<capture::Endpoint, Target, EndpointHash> routes_;
  std::unordered_map<capture::Endpoint, std::deque<Held>, EndpointHash> held_;
  size_t held_bytes_ = 0;
  std::unordered_map<std::string, int64_t> last_;  // call id → last packet
  int64_t next_publish_ns_ = 0;
  std::vector<MediaBinding> applying_;

  mutable Mutex mu_;
  std::vector<MediaBinding> posted_ GUARDED_BY(mu_);
  std::unordered_map<std::string, int64_t> published_ GUARDED_BY(mu_);
  std::atomic<bool> has_posted_{false};
  std::atomic<size_t> routes_count_{0};
  RouterCounters counters_;
};

}  // namespace callvault::passive
