// Passive mode's capture sink: SIP to the follower's worker, media to the router
// (passive/passive_recorder.h).
#include "passive/passive_recorder.h"

#include "base/log.h"
#include "base/thread_name.h"
#include "sip/message.h"

namespace callvault::passive {

PassiveRecorder::PassiveRecorder(FollowerOptions options, siprec::RecordingBackend* backend,
                                 const Clock* clock, PassiveMediaSink* media,
                                 std::function<uint64_t()> kernel_drops)
    : router_(media),
      follower_(std::move(options), backend, clock,
                [this](const MediaBinding& b) { router_.Post(b); }),
      kernel_drops_(std::move(kernel_drops)) {}

PassiveRecorder::~PassiveRecorder() { Stop(); }

void PassiveRecorder::Start() {
  thread_ = std::thread([this] {
    SetCurrentThreadName("cv-passive");
    Run();
  });
}

void PassiveRecorder::Stop() {
  if (!thread_.joinable()) return;
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void PassiveRecorder::OnSipMessage(const capture::SipDatagram& message) {
  // A BYE ends its dialog's media routes here, in capture order: RTP captured after it is not
  // the call's, however far behind the worker is.
  if (message.bytes.starts_with("BYE ")) {
    sip::ParseResult p = sip::Parse(message.bytes);
    if (p.status.ok() && p.message.is_request && !p.message.call_id.empty())
      router_.EndDialog(p.message.call_id);
  }
  Queued q{std::string(message.bytes), message};
  q.meta.bytes = {};
  {
    MutexLock lock(&mu_);
    if (queue_.size() >= kMaxQueuedMessages) {
      sip_dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.push_back(std::move(q));
    if (message.ts_ns > tick_ns_) tick_ns_ = message.ts_ns;
  }
  cv_.notify_one();
}

void PassiveRecorder::OnUdpPacket(const capture::UdpPacket& packet) {
  router_.Route(packet);
  if (packet.ts_ns >= next_tick_ns_) {  // wakes the worker's timeouts once a capture second
    next_tick_ns_ = packet.ts_ns + 1'000'000'000;
    {
      MutexLock lock(&mu_);
      if (packet.ts_ns > tick_ns_) tick_ns_ = packet.ts_ns;
    }
    cv_.notify_one();
  }
}

FollowerCounters PassiveRecorder::follower_counters() const {
  MutexLock lock(&mu_);
  return counters_copy_;
}

void PassiveRecorder::Run() {
  std::deque<Queued> batch;
  int64_t ticked_ns = 0;
  for (;;) {
    int64_t now_ns;
    bool stopping;
    {
      MutexLock lock(&mu_);
      // Wakes for messages, a new capture second, or Stop; at least once a second regardless
      // (the capture may be idle while calls time out).
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      while (queue_.empty() && !stop_ && tick_ns_ < ticked_ns + 1'000'000'000) {
        if (mu_.WaitUntil(cv_, deadline) == std::cv_status::timeout) break;
      }
      batch.swap(queue_);
      now_ns = tick_ns_;
      stopping = stop_;
    }
    for (Queued& q : batch) {
      q.meta.bytes = q.bytes;
      follower_.OnSipMessage(q.meta);
    }
    batch.clear();
    if (now_ns >= ticked_ns + 1'000'000'000 || stopping) {
      ticked_ns = now_ns;
      if (kernel_drops_) {
        const uint64_t drops = kernel_drops_();
        if (drops > drops_seen_) follower_.NoteCaptureDrops(drops - drops_seen_, now_ns);
        drops_seen_ = drops;
      }
      follower_.Tick(now_ns, [this](const std::string& call) { return router_.LastRtp(call); });
    }
    sessions_.store(follower_.sessions(), std::memory_order_relaxed);
    {
      MutexLock lock(&mu_);
      counters_copy_ = follower_.counters();
      if (stopping && queue_.empty()) break;
    }
  }
  follower_.Stop();
  sessions_.store(0, std::memory_order_relaxed);
}

}  // namespace callvault::passive
