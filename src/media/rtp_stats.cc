#include "media/rtp_stats.h"

#include <algorithm>
#include <cstdlib>

namespace callvault::media {
namespace {

uint16_t Be16(const char* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) << 8 | static_cast<uint8_t>(p[1]));
}
uint32_t Be32(const char* p) {
  return uint32_t{static_cast<uint8_t>(p[0])} << 24 | uint32_t{static_cast<uint8_t>(p[1])} << 16 |
         uint32_t{static_cast<uint8_t>(p[2])} << 8 | uint32_t{static_cast<uint8_t>(p[3])};
}

}  // namespace

RtpStats::RtpStats(uint32_t clock_rate, int64_t late_after_ns)
    : clock_rate_(clock_rate == 0 ? 8000 : clock_rate), late_after_ns_(late_after_ns) {}

void RtpStats::OnRtp(std::string_view packet, int64_t arrival_ns) {
  ++packets_;
  if (packet.size() < 12 || (static_cast<uint8_t>(packet[0]) >> 6) != 2) {
    ++invalid_;
    return;
  }
  const uint16_t seq = Be16(packet.data() + 2);
  const uint32_t ts = Be32(packet.data() + 4);
  const uint32_t ssrc = Be32(packet.data() + 8);
  size_t idx = current_;  // usually the previous packet's SSRC (SSRCs are unique in trackers_)
  if (idx == SIZE_MAX || trackers_[idx].s.ssrc != ssrc) {
    idx = 0;
    while (idx < trackers_.size() && trackers_[idx].s.ssrc != ssrc) ++idx;
  }
  if (idx == trackers_.size()) {
    if (trackers_.size() >= kMaxSsrcs) {
      ++other_ssrc_packets_;
      return;
    }
    trackers_.emplace_back();
    trackers_.back().s.ssrc = ssrc;
  }
  if (current_ != SIZE_MAX && current_ != idx) ++ssrc_changes_;
  current_ = idx;
  Tracker& t = trackers_[idx];
  ++t.s.packets;
  t.s.bytes += packet.size();
  if (t.s.first_arrival_ns == 0) t.s.first_arrival_ns = arrival_ns;
  t.s.last_arrival_ns = arrival_ns;
  if (t.initialized && static_cast<uint16_t>(seq - static_cast<uint16_t>(t.max_ext)) == 1) {
    // The common case, the next seq in order: what Track() does for it, without its branches.
    ++t.max_ext;
    t.seen.set(t.max_ext % kWindow);
    t.max_arrival_ns = arrival_ns;
    ++t.s.received;
    t.bad_seq_valid = false;
    Jitter(t, ts, arrival_ns);
    return;
  }
  Track(t, seq, ts, arrival_ns);
}

void RtpStats::Init(Tracker& t, uint16_t seq, int64_t arrival_ns) {
  // Each run starts in a fresh 65536-block above the previous one, so gaps never collide.
  const uint64_t block = t.initialized ? (t.max_ext / 65536 + 2) * 65536 : 65536;
  t.initialized = true;
  t.base_ext = t.max_ext = block + seq;
  t.seen.reset();
  t.seen.set(t.max_ext % kWindow);
  t.s.received = 0;  // of this run; prior runs are in prior_received
  ++t.s.received;
  t.max_arrival_ns = arrival_ns;
  t.bad_seq_valid = false;
}

void RtpStats::Track(Tracker& t, uint16_t seq, uint32_t ts, int64_t arrival_ns) {
  if (!t.initialized) {
    Init(t, seq, arrival_ns);
    Jitter(t, ts, arrival_ns);
    return;
  }
  const uint16_t udelta = static_cast<uint16_t>(seq - static_cast<uint16_t>(t.max_ext));
  if (udelta == 0) {
    ++t.s.duplicates;
    return;
  }
  if (udelta < kMaxDropout) {
    const uint64_t ext = t.max_ext + udelta;
    if (udelta > 1) AddGap(t, t.max_ext + 1, udelta - 1, t.max_arrival_ns, arrival_ns);
    if (udelta >= kWindow) {
      t.seen.reset();
    } else {
      for (uint64_t k = t.max_ext + 1; k < ext; ++k) t.seen.reset(k % kWindow);
    }
    t.seen.set(ext % kWindow);
    t.max_ext = ext;
    t.max_arrival_ns = arrival_ns;
    ++t.s.received;
    t.bad_seq_valid = false;
    Jitter(t, ts, arrival_ns);
    return;
  }
  if (udelta <= 65536 - kMaxMisorder) {
    // A very large jump: restart tracking if the next packet confirms it (RFC 3550 A.1).
    if (t.bad_seq_valid && seq == t.bad_seq) {
      t.prior_expected += t.max_ext - t.base_ext + 1;
      t.prior_received += t.s.received;
      ++t.s.restarts;
      Init(t, static_cast<uint16_t>(seq - 1), arrival_ns);  // the unconfirmed packet before
      t.have_transit = false;
      Track(t, seq, ts, arrival_ns);
    } else {
      t.bad_seq = static_cast<uint16_t>(seq + 1);
      t.bad_seq_valid = true;
    }
    return;
  }
  // Backwards by at most kMaxMisorder.
  const uint64_t ext = t.max_ext - (65536 - udelta);
  if (ext < t.base_ext) {
    if (ext + 1 < t.base_ext) {
      AddGap(t, ext + 1, t.base_ext - ext - 1, arrival_ns, t.s.first_arrival_ns);
    }
    t.base_ext = ext;
    t.seen.set(ext % kWindow);
    ++t.s.received;
    ++t.s.reordered;
    return;
  }
  if (t.seen.test(ext % kWindow)) {
    ++t.s.duplicates;
    return;
  }
  t.seen.set(ext % kWindow);
  ++t.s.received;
  ++t.s.reordered;
  const int64_t detected = FillGap(t, ext);
  if (detected != 0 && arrival_ns - detected > late_after_ns_) ++t.s.late;
  Jitter(t, ts, arrival_ns);
}

void RtpStats::AddGap(Tracker& t, uint64_t first, uint64_t count, int64_t before, int64_t after) {
  if (t.s.gaps.size() >= kMaxGaps) {
    ++t.s.gaps_dropped;
    return;
  }
  RtpGap g{first, static_cast<uint32_t>(count), before, after};
  auto it = std::upper_bound(t.s.gaps.begin(), t.s.gaps.end(), first,
                             [](uint64_t f, const RtpGap& x) { return f < x.first_seq; });
  t.s.gaps.insert(it, g);
}

int64_t RtpStats::FillGap(Tracker& t, uint64_t ext) {
  auto& gaps = t.s.gaps;
  auto it = std::upper_bound(gaps.begin(), gaps.end(), ext,
                             [](uint64_t f, const RtpGap& x) { return f < x.first_seq; });
  if (it == gaps.begin()) return 0;
  --it;
  const uint64_t last = it->first_seq + it->count - 1;
  if (ext > last) return 0;
  const int64_t detected = it->after_ns;
  if (it->count == 1) {
    gaps.erase(it);
  } else if (ext == it->first_seq) {
    ++it->first_seq;
    --it->count;
  } else if (ext == last) {
    --it->count;
  } else {
    RtpGap tail{ext + 1, static_cast<uint32_t>(last - ext), it->before_ns, it->after_ns};
    it->count = static_cast<uint32_t>(ext - it->first_seq);
    gaps.insert(it + 1, tail);
  }
  return detected;
}

void RtpStats::Jitter(Tracker& t, uint32_t ts, int64_t arrival_ns) {
  // RFC 3550 A.8 with the arrival time in RTP units: J += (|D| − J) / 16.
  // Relative to the SSRC's first arrival: keeps the double exact to well below one unit.
  const double arrival = static_cast<double>(arrival_ns - t.s.first_arrival_ns) * clock_rate_ / 1e9;
  const double transit = arrival - static_cast<double>(ts);
  if (t.have_transit) {
    double d = transit - t.transit;
    // A timestamp wrap (2^32) between the two packets shows up as a ±2^32 step; undo it.
    if (d > 2147483648.0) d -= 4294967296.0;
    if (d < -2147483648.0) d += 4294967296.0;
    t.s.jitter += (std::abs(d) - t.s.jitter) / 16.0;
  }
  t.transit = transit;
  t.have_transit = true;
}

void RtpStats::OnRtcp(std::string_view packet) {
  ++rtcp_packets_;
  rtcp_bytes_ += packet.size();
  const int type = packet.size() >= 2 ? static_cast<uint8_t>(packet[1]) : 0;
  ++rtcp_types_[(type >= 200 && type <= 204) ? type - 200 : 5];
}

RtpStatsSnapshot RtpStats::Snapshot() const {
  RtpStatsSnapshot r;
  r.ssrcs.reserve(trackers_.size());
  double max_jitter = 0;
  for (const Tracker& t : trackers_) {
    SsrcStats s = t.s;
    s.first_seq = t.base_ext;
    s.highest_seq = t.max_ext;
    s.expected = t.prior_expected + (t.initialized ? t.max_ext - t.base_ext + 1 : 0);
    s.received = t.prior_received + t.s.received;
    s.lost = s.expected > s.received ? s.expected - s.received : 0;
    r.packets += s.packets;
    r.bytes += s.bytes;
    r.expected += s.expected;
    r.lost += s.lost;
    r.duplicates += s.duplicates;
    r.reordered += s.reordered;
    r.late += s.late;
    r.restarts += s.restarts;
    max_jitter = std::max(max_jitter, s.jitter);
    r.ssrcs.push_back(std::move(s));
  }
  r.packets += invalid_ + other_ssrc_packets_;
  r.jitter_ms = max_jitter * 1000.0 / clock_rate_;
  r.ssrc_changes = ssrc_changes_;
  r.other_ssrc_packets = other_ssrc_packets_;
  r.invalid = invalid_;
  r.rtcp_packets = rtcp_packets_;
  r.rtcp_bytes = rtcp_bytes_;
  r.rtcp_sr = rtcp_types_[0];
  r.rtcp_rr = rtcp_types_[1];
  r.rtcp_sdes = rtcp_types_[2];
  r.rtcp_bye = rtcp_types_[3];
  r.rtcp_app = rtcp_types_[4];
  r.rtcp_other = rtcp_types_[5];
  return r;
}

}  // namespace callvault::media
