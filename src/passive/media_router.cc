// Routing captured media to followed streams (passive/media_router.h).
#include "passive/media_router.h"

namespace callvault::passive {

void MediaRouter::Post(const MediaBinding& binding) {
  MutexLock lock(&mu_);
  posted_.push_back(binding);
  has_posted_.store(true, std::memory_order_release);
}

void MediaRouter::Apply() {
  if (!has_posted_.load(std::memory_order_acquire)) return;
  {
    MutexLock lock(&mu_);
    applying_.swap(posted_);
    has_posted_.store(false, std::memory_order_relaxed);
  }
  for (const MediaBinding& b : applying_) {
    if (!b.bind) {
      auto it = routes_.find(b.to);
      if (it != routes_.end() && it->second.call_id == b.call_id &&
          it->second.stream_id == b.stream_id)
        routes_.erase(it);
      sink_->OnUnbound(b.call_id, b.stream_id);
      continue;
    }
    Target& t = routes_[b.to];
    t = Target{b.call_id, b.stream_id, b.sip_call_id};
    // What reached the endpoint before the follower bound it: delivered first, in order.
    if (auto h = held_.find(b.to); h != held_.end()) {
      for (const Held& p : h->second) {
        Deliver(t, p.ts_ns, p.bytes);
        held_bytes_ -= p.bytes.size();
        counters_.held_delivered.fetch_add(1, std::memory_order_relaxed);
      }
      held_.erase(h);
    }
  }
  applying_.clear();
  routes_count_.store(routes_.size(), std::memory_order_relaxed);
}

void MediaRouter::Deliver(const Target& t, int64_t ts_ns, std::span<const uint8_t> bytes) {
  sink_->OnMedia(t.call_id, t.stream_id, ts_ns, bytes);
  counters_.routed.fetch_add(1, std::memory_order_relaxed);
  int64_t& last = last_[t.call_id];
  if (ts_ns > last) last = ts_ns;
}

size_t MediaRouter::EndDialog(std::string_view sip_call_id) {
  Apply();
  size_t ended = 0;
  for (auto it = routes_.begin(); it != routes_.end();) {
    if (it->second.sip_call_id != sip_call_id) {
      ++it;
      continue;
    }
    sink_->OnUnbound(it->second.call_id, it->second.stream_id);
    it = routes_.erase(it);
    ++ended;
  }
  routes_count_.store(routes_.size(), std::memory_order_relaxed);
  return ended;
}

void MediaRouter::Route(const capture::UdpPacket& packet) {
  Apply();
  if (auto it = routes_.find(packet.dst); it != routes_.end()) {
    Deliver(it->second, packet.ts_ns, packet.payload);
  } else if (held_bytes_ + packet.payload.size() > kMaxHeldBytes) {
    counters_.held_overflow.fetch_add(1, std::memory_order_relaxed);
  } else {
    std::deque<Held>& q = held_[packet.dst];
    if (q.size() >= kHeldPerEndpoint) {
      held_bytes_ -= q.front().bytes.size();
      q.pop_front();
      counters_.held_expired.fetch_add(1, std::memory_order_relaxed);
    }
    q.push_back(Held{packet.ts_ns, {packet.payload.begin(), packet.payload.end()}});
    held_bytes_ += packet.payload.size();
    counters_.held.fetch_add(1, std::memory_order_relaxed);
  }
  if (packet.ts_ns >= next_publish_ns_) Poll(packet.ts_ns);
}

void MediaRouter::Poll(int64_t now_ns) {
  Apply();
  for (auto it = held_.begin(); it != held_.end();) {
    std::deque<Held>& q = it->second;
    while (!q.empty() && now_ns - q.front().ts_ns > kHeldWindowNs) {
      held_bytes_ -= q.front().bytes.size();
      q.pop_front();
      counters_.unrouted.fetch_add(1, std::memory_order_relaxed);
    }
    it = q.empty() ? held_.erase(it) : std::next(it);
  }
  Publish(now_ns);
}

void MediaRouter::Publish(int64_t now_ns) {
  next_publish_ns_ = now_ns + 1'000'000'000;
  MutexLock lock(&mu_);
  for (const auto& [call, ts] : last_) published_[call] = ts;
  // Calls without packets for ten minutes (longer than any RTP timeout) are forgotten.
  for (auto it = last_.begin(); it != last_.end();) {
    if (now_ns - it->second > 600'000'000'000) {
      published_.erase(it->first);
      it = last_.erase(it);
    } else {
      ++it;
    }
  }
}

int64_t MediaRouter::LastRtp(const std::string& call_id) const {
  MutexLock lock(&mu_);
  auto it = published_.find(call_id);
  return it == published_.end() ? 0 : it->second;
}

}  // namespace callvault::passive
