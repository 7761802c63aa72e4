#include "recording/packet_orderer.h"

#include <algorithm>
#include <limits>

#include "recording/internal/timeline_constants.h"
#include "recording/rtp_packet.h"

namespace callvault::recording {

using internal::kMaxDropout;
using internal::kMaxEpochsPerSsrc;
using internal::kMaxMisorder;

PacketOrderer::PacketOrderer(const StreamInfo& info, const OrderPlan* plan,
                             bool keep_audio_payloads, Sink sink)
    : info_(info), plan_(plan), keep_audio_(keep_audio_payloads), sink_(std::move(sink)) {}

void PacketOrderer::Push(const media::SpoolRecord& r) {
  if (first_arrival_ == 0 || r.arrival_ns < first_arrival_) first_arrival_ = r.arrival_ns;
  last_arrival_ = std::max(last_arrival_, r.arrival_ns);
  StreamStats& st = stats_;
  const std::optional<internal::CountedRtp> counted = internal::CountRecord(r, info_, &st, &kinds_);
  if (!counted) return;
  const RtpPacket* rtp = &counted->rtp;
  const PayloadKind kind = counted->kind;
  // The group of this SSRC whose sequence numbers are near; else a new group (epoch).
  size_t gi = SIZE_MAX;
  int64_t ext = 0;
  std::vector<size_t>& same_ssrc = by_ssrc_[rtp->ssrc];
  for (size_t candidate : same_ssrc) {
    const Group& g = groups_[candidate];
    const int64_t delta = static_cast<int16_t>(rtp->sequence - static_cast<uint16_t>(g.max_ext));
    if (delta >= -kMaxMisorder && delta <= kMaxDropout &&
        (gi == SIZE_MAX || g.last_activity > groups_[gi].last_activity)) {
      gi = candidate;
      ext = g.max_ext + delta;
    }
  }
  if (gi == SIZE_MAX) {
    if (same_ssrc.empty()) st.ssrcs.push_back(rtp->ssrc);
    if (same_ssrc.size() >= kMaxEpochsPerSsrc) {  // a sender gone haywire: stop splitting
      ++st.bad;
      return;
    }
    gi = groups_.size();
    same_ssrc.push_back(gi);
    groups_.push_back(Group{.ssrc = rtp->ssrc, .max_ext = rtp->sequence + (int64_t{1} << 16)});
    ext = groups_[gi].max_ext;
  }
  Group& g = groups_[gi];
  const bool first_packet = g.arrivals++ == 0;
  g.last_activity = order_++;
  const bool behind = ext < g.max_ext;
  // Not a new highest: a packet behind it or a duplicate of it. Pass 2 may hand a packet on
  // only once none of these that could precede or repeat it is still to come.
  const bool not_new_max = !first_packet && ext <= g.max_ext;
  g.max_ext = std::max(g.max_ext, ext);
  if (not_new_max) {
    if (plan_ == nullptr) {
      g.late.push_back(ext);
    } else {
      ++g.late_seen;
    }
  }
  auto [it, inserted] = g.held.try_emplace(ext);
  if (!inserted) {
    ++st.duplicates;  // the first arrival is kept (a stable sort's order)
  } else {
    Entry& e = it->second;
    e.packet = TimedPacket{.ext_seq = ext,
                           .arrival_ns = r.arrival_ns,
                           .payload_type = rtp->payload_type,
                           .marker = rtp->marker,
                           .kind = kind};
    if (keep_audio_ || kind == PayloadKind::kTelephoneEvent) e.payload = rtp->payload;
    e.ts = rtp->timestamp;
    e.behind = behind;
    ++held_;
  }
  int64_t limit;
  if (plan_ == nullptr) {
    // Nothing more than kMaxMisorder behind the highest can join this group any more.
    limit = g.max_ext - kMaxMisorder;
  } else {
    // Anything below the smallest of the arrivals still to come that are not a new highest
    // (those that are come after everything held).
    limit = std::numeric_limits<int64_t>::max();
    if (gi < plan_->late_suffix_min.size()) {
      const std::vector<int64_t>& late = plan_->late_suffix_min[gi];
      if (g.late_seen < late.size()) limit = late[g.late_seen];
    }
  }
  EmitUpTo(gi, limit);
}

void PacketOrderer::EmitUpTo(size_t gi, int64_t limit) {
  Group& g = groups_[gi];
  while (!g.held.empty() && g.held.begin()->first < limit) {
    auto node = g.held.extract(g.held.begin());
    Entry& e = node.mapped();
    --held_;
    if (e.behind) ++stats_.reordered;
    OrderedPacket out{.source = gi, .index = g.emitted, .packet = e.packet};
    TimedPacket& p = out.packet;
    p.payload = e.payload;
    if (g.emitted == 0) {
      p.ext_ts = static_cast<int64_t>(e.ts) + (int64_t{1} << 32);
    } else {
      p.ext_ts = g.last_ext_ts + static_cast<int32_t>(e.ts - g.last_ts);
      p.lost_before = static_cast<int>(p.ext_seq - g.last_ext - 1);
      stats_.lost += p.lost_before;
    }
    g.last_ts = e.ts;
    g.last_ext = p.ext_seq;
    g.last_ext_ts = p.ext_ts;
    ++g.emitted;
    sink_(out);
  }
}

void PacketOrderer::Finish() {
  for (size_t gi = 0; gi < groups_.size(); ++gi) EmitUpTo(gi, std::numeric_limits<int64_t>::max());
}

OrderPlan PacketOrderer::TakePlan() {
  OrderPlan plan;
  for (Group& g : groups_) {
    std::vector<int64_t> m = std::move(g.late);
    for (size_t i = m.size(); i-- > 1;) m[i - 1] = std::min(m[i - 1], m[i]);
    plan.late_suffix_min.push_back(std::move(m));
  }
  return plan;
}

}  // namespace callvault::recording
