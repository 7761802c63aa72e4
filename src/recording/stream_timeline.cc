#include "recording/stream_timeline.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <limits>
#include <unordered_map>

#include "recording/internal/timeline_constants.h"
#include "recording/rtp_packet.h"

namespace callvault::recording {
namespace {

using internal::AnchorKind;
using internal::kMaxDropout;
using internal::kMaxEpochsPerSsrc;
using internal::kMaxMisorder;

bool NameIs(const std::string& name, std::string_view want) {
  if (name.size() != want.size()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(name[i])) !=
        std::tolower(static_cast<unsigned char>(want[i])))
      return false;
  return true;
}

struct Building {
  uint32_t ssrc = 0;
  int64_t max_ext = 0;
  size_t last_activity = 0;
  struct Entry {
    TimedPacket packet;
    uint32_t ts = 0;
    size_t order = 0;
    bool behind = false;
  };
  std::vector<Entry> entries;
};

// Splits [begin, end) of `src` (already broken at discontinuities) into drift-anchored segments.
void AnchorRun(Source* src, size_t begin, size_t end, int payload_type, int clock_rate,
               const TimelineOptions& opt) {
  const auto& pk = src->packets;
  size_t seg_begin = begin;
  while (seg_begin < end) {
    size_t first = seg_begin;
    while (first < end && !AnchorKind(pk[first].kind)) ++first;
    if (first == end) {  // only events: attach to the previous segment, if any
      if (!src->segments.empty()) src->segments.back().end = end;
      return;
    }
    Segment seg{.begin = seg_begin,
                .end = end,
                .payload_type = payload_type,
                .clock_rate = clock_rate,
                .start_ts = pk[first].ext_ts};
    auto offset = [&](const TimedPacket& p) {
      return p.arrival_ns - (p.ext_ts - seg.start_ts) * 1'000'000'000 / clock_rate;
    };
    const int64_t window0_end = pk[first].arrival_ns + opt.anchor_window_ns;
    int64_t anchor = std::numeric_limits<int64_t>::max();
    size_t i = first;
    for (; i < end && (pk[i].arrival_ns < window0_end || !AnchorKind(pk[i].kind)); ++i)
      if (AnchorKind(pk[i].kind)) anchor = std::min(anchor, offset(pk[i]));
    // Later windows: re-anchor when the windowed minimum moves by more than the threshold.
    size_t split = end;
    while (i < end) {
      const size_t window_begin = i;
      const int64_t window_end = pk[i].arrival_ns + opt.anchor_window_ns;
      int64_t wmin = std::numeric_limits<int64_t>::max();
      for (; i < end && (pk[i].arrival_ns < window_end || !AnchorKind(pk[i].kind)); ++i)
        if (AnchorKind(pk[i].kind)) wmin = std::min(wmin, offset(pk[i]));
      if (i == end) break;  // a partial last window is too noisy to decide on
      if (std::llabs(wmin - anchor) > opt.drift_threshold_ns) {
        split = window_begin;
        break;
      }
    }
    seg.start_wall_ns = anchor;
    seg.end = split;
    src->segments.push_back(seg);
    seg_begin = split;
  }
}

void SegmentSource(Source* src, const StreamInfo& info, const TimelineOptions& opt) {
  const auto& pk = src->packets;
  size_t run_begin = 0;
  int run_pt = -1;
  int run_clock = 8000;
  const TimedPacket* prev = nullptr;
  for (size_t i = 0; i < pk.size(); ++i) {
    const TimedPacket& p = pk[i];
    if (!AnchorKind(p.kind)) continue;
    const int clock = std::max(1, ResolvePayloadType(info, p.payload_type).clock_rate);
    if (prev == nullptr) {
      run_pt = p.kind == PayloadKind::kAudio ? p.payload_type : -1;
      run_clock = clock;
      prev = &p;
      continue;
    }
    bool brk = false;
    if (p.kind == PayloadKind::kAudio && run_pt >= 0 && p.payload_type != run_pt) brk = true;
    if (p.kind == PayloadKind::kAudio && run_pt < 0 && clock != run_clock) brk = true;
    const int64_t dt_media = (p.ext_ts - prev->ext_ts) * 1'000'000'000 / run_clock;
    const int64_t lateness = (p.arrival_ns - prev->arrival_ns) - dt_media;
    const int64_t mismatch = std::llabs(lateness);
    if (dt_media < 0 || mismatch > opt.break_threshold_ns ||
        (p.marker && mismatch > opt.marker_break_threshold_ns))
      brk = true;
    if (brk && dt_media >= 0 && lateness > 0 &&
        !(p.kind == PayloadKind::kAudio && run_pt >= 0 && p.payload_type != run_pt)) {
      // One packet that arrived late (delayed in the network, not a timestamp jump): the next
      // packet in sequence fits the current anchor again. It stays in the segment, placed by
      // its timestamp (and counted as `late`), and is not used as the reference.
      size_t j = i + 1;
      while (j < pk.size() && !AnchorKind(pk[j].kind)) ++j;
      bool outlier = true;
      if (j < pk.size()) {
        const int64_t dt_next = (pk[j].ext_ts - prev->ext_ts) * 1'000'000'000 / run_clock;
        outlier =
            std::llabs((pk[j].arrival_ns - prev->arrival_ns) - dt_next) <= opt.break_threshold_ns;
      }
      if (outlier) continue;
    }
    if (brk) {
      AnchorRun(src, run_begin, i, run_pt, run_clock, opt);
      run_begin = i;
      run_pt = -1;
      run_clock = clock;
    }
    if (p.kind == PayloadKind::kAudio && run_pt < 0) {
      run_pt = p.payload_type;
      run_clock = clock;
    }
    prev = &p;
  }
  if (prev != nullptr) AnchorRun(src, run_begin, pk.size(), run_pt, run_clock, opt);
}

const Segment* SegmentOf(const Source& src, size_t index) {
  for (const Segment& s : src.segments)
    if (index >= s.begin && index < s.end) return &s;
  return src.segments.empty() ? nullptr : &src.segments.front();
}

void CollectStats(const Source& src, const StreamInfo& info, const TimelineOptions& opt,
                  StreamStats* stats) {
  const auto& pk = src.packets;
  struct Event {
    int64_t ts;
    size_t index;
    codec::TelephoneEvent ev;
  };
  std::vector<Event> events;
  for (size_t i = 0; i < pk.size(); ++i) {
    const TimedPacket& p = pk[i];
    const Segment* seg = SegmentOf(src, i);
    if (p.lost_before > 0 && i > 0 && seg != nullptr) {
      const Segment* pseg = SegmentOf(src, i - 1);
      const int64_t span = p.ext_ts - pk[i - 1].ext_ts;
      const int64_t per = span / (p.lost_before + 1);
      stats->gaps.push_back(
          Gap{.start_ns = pseg->WallNs(pk[i - 1].ext_ts + per),
              .duration_ns = per * p.lost_before * 1'000'000'000 / pseg->clock_rate});
    }
    if (AnchorKind(p.kind) && seg != nullptr &&
        p.arrival_ns - seg->WallNs(p.ext_ts) > opt.late_threshold_ns)
      ++stats->late;
    if (p.kind != PayloadKind::kTelephoneEvent) continue;
    std::optional<codec::TelephoneEvent> ev = codec::ParseTelephoneEvent(p.payload);
    if (!ev) continue;
    if (!events.empty() && events.back().ts == p.ext_ts) {
      events.back().ev.duration = std::max(events.back().ev.duration, ev->duration);
      continue;
    }
    events.push_back(Event{p.ext_ts, i, *ev});
  }
  for (const Event& e : events) {
    const int clock = std::max(1, ResolvePayloadType(info, pk[e.index].payload_type).clock_rate);
    const Segment* seg = SegmentOf(src, e.index);
    stats->dtmf.push_back(DtmfEvent{
        .start_ns = seg ? seg->WallNs(e.ts) : pk[e.index].arrival_ns,
        .digit = e.ev.Digit(),
        .duration_ms = static_cast<int>(static_cast<int64_t>(e.ev.duration) * 1000 / clock)});
  }
}

}  // namespace

codec::CodecSpec ResolvePayloadType(const StreamInfo& info, int payload_type) {
  if (auto it = info.payload_types.find(payload_type); it != info.payload_types.end())
    return it->second;
  switch (payload_type) {  // RFC 3551 §6 static assignments
    case 0:
      return {.name = "PCMU", .clock_rate = 8000};
    case 8:
      return {.name = "PCMA", .clock_rate = 8000};
    case 9:
      return {.name = "G722", .clock_rate = 8000};
    case 13:
      return {.name = "CN", .clock_rate = 8000};
    case 18:
      return {.name = "G729", .clock_rate = 8000};
    default:
      return {.name = "", .clock_rate = 8000};
  }
}

PayloadKind ClassifyPayload(const codec::CodecSpec& spec) {
  if (spec.name.empty()) return PayloadKind::kUnknown;
  if (NameIs(spec.name, "telephone-event")) return PayloadKind::kTelephoneEvent;
  if (NameIs(spec.name, "CN")) return PayloadKind::kComfortNoise;
  return PayloadKind::kAudio;
}

namespace internal {

std::optional<CountedRtp> CountRecord(const media::SpoolRecord& r, const StreamInfo& info,
                                      StreamStats* st, std::array<uint8_t, 128>* kinds) {
  if (r.kind == media::spool::RecordKind::kGap) {  // payload: u32 LE count, or empty
    uint32_t n = 1;
    if (r.payload.size() == 4) {
      n = 0;
      for (int i = 3; i >= 0; --i) n = n << 8 | static_cast<uint8_t>(r.payload[i]);
    }
    st->gap_markers += n;
    return std::nullopt;
  }
  if (r.kind == media::spool::RecordKind::kUnwritten) {
    if (r.payload.size() < media::spool::kUnwrittenPayloadSize) return std::nullopt;
    auto le = [&](size_t at, int bytes) {
      uint64_t v = 0;
      for (int i = bytes - 1; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(r.payload[at + i]);
      return v;
    };
    UnwrittenSpan span{.first_ns = static_cast<int64_t>(le(5, 8)),
                       .last_ns = static_cast<int64_t>(le(13, 8)),
                       .records = le(0, 4),
                       .reason = std::string(media::spool::UnwrittenReasonName(
                           static_cast<media::spool::UnwrittenReason>(r.payload[4])))};
    st->unwritten += span.records;
    st->unwritten_spans.push_back(std::move(span));
    return std::nullopt;
  }
  if (r.kind == media::spool::RecordKind::kRtcp) {
    ++st->rtcp;
    return std::nullopt;
  }
  if (r.kind != media::spool::RecordKind::kRtp) return std::nullopt;
  ++st->packets;
  st->bytes += r.payload.size();
  if (r.flags & media::spool::kFlagSrtpAuthFailed) {
    ++st->auth_failed;
    return std::nullopt;
  }
  RtpParseError err;
  std::optional<RtpPacket> rtp = ParseRtp(r.payload, &err);
  if (!rtp) {
    if (err == RtpParseError::kRtcp) {
      --st->packets;
      ++st->rtcp;
    } else {
      ++st->bad;
    }
    return std::nullopt;
  }
  PayloadKind kind;
  uint8_t* cached = kinds != nullptr ? &(*kinds)[rtp->payload_type & 0x7f] : nullptr;
  if (cached != nullptr && *cached != 0) {
    kind = static_cast<PayloadKind>(*cached - 1);
  } else {
    kind = ClassifyPayload(ResolvePayloadType(info, rtp->payload_type));
    if (cached != nullptr) *cached = static_cast<uint8_t>(static_cast<uint8_t>(kind) + 1);
  }
  if (kind == PayloadKind::kUnknown) {
    ++st->unknown_payload;
    return std::nullopt;
  }
  ++st->payload_type_packets[rtp->payload_type];
  return CountedRtp{*rtp, kind};
}

}  // namespace internal

StreamTimeline BuildTimeline(const std::vector<media::SpoolRecord>& records, const StreamInfo& info,
                             const TimelineOptions& opt) {
  StreamTimeline tl;
  StreamStats& st = tl.stats;
  std::vector<Building> groups;
  std::unordered_map<uint32_t, std::vector<size_t>> by_ssrc;  // SSRC → its groups (indices)
  size_t order = 0;
  for (const media::SpoolRecord& r : records) {
    if (tl.first_arrival_ns == 0 || r.arrival_ns < tl.first_arrival_ns)
      tl.first_arrival_ns = r.arrival_ns;
    tl.last_arrival_ns = std::max(tl.last_arrival_ns, r.arrival_ns);
    const std::optional<internal::CountedRtp> counted = internal::CountRecord(r, info, &st);
    if (!counted) continue;
    const RtpPacket* rtp = &counted->rtp;
    const PayloadKind kind = counted->kind;
    // The group of this SSRC whose sequence numbers are near; else a new group (epoch).
    Building* group = nullptr;
    int64_t ext = 0;
    std::vector<size_t>& same_ssrc = by_ssrc[rtp->ssrc];
    for (size_t gi : same_ssrc) {
      Building& g = groups[gi];
      const int64_t delta = static_cast<int16_t>(rtp->sequence - static_cast<uint16_t>(g.max_ext));
      if (delta >= -kMaxMisorder && delta <= kMaxDropout &&
          (group == nullptr || g.last_activity > group->last_activity)) {
        group = &g;
        ext = g.max_ext + delta;
      }
    }
    if (group == nullptr) {
      if (same_ssrc.empty()) st.ssrcs.push_back(rtp->ssrc);
      if (same_ssrc.size() >= kMaxEpochsPerSsrc) {  // a sender gone haywire: stop splitting
        ++st.bad;
        continue;
      }
      same_ssrc.push_back(groups.size());
      groups.push_back(Building{.ssrc = rtp->ssrc, .max_ext = rtp->sequence + (int64_t{1} << 16)});
      group = &groups.back();
      ext = group->max_ext;
    }
    group->last_activity = order;
    const bool behind = ext < group->max_ext;
    group->max_ext = std::max(group->max_ext, ext);
    group->entries.push_back(
        Building::Entry{.packet = TimedPacket{.ext_seq = ext,
                                              .arrival_ns = r.arrival_ns,
                                              .payload_type = rtp->payload_type,
                                              .marker = rtp->marker,
                                              .kind = kind,
                                              .payload = rtp->payload},
                        .ts = rtp->timestamp,
                        .order = order++,
                        .behind = behind});
  }
  for (Building& g : groups) {
    std::stable_sort(g.entries.begin(), g.entries.end(), [](const auto& a, const auto& b) {
      return a.packet.ext_seq < b.packet.ext_seq;
    });
    Source src{.ssrc = g.ssrc};
    uint32_t prev_ts = 0;
    for (const auto& e : g.entries) {
      if (e.behind) ++st.reordered;
      if (!src.packets.empty() && src.packets.back().ext_seq == e.packet.ext_seq) {
        ++st.duplicates;
        if (e.behind) --st.reordered;
        continue;
      }
      TimedPacket p = e.packet;
      if (src.packets.empty()) {
        p.ext_ts = static_cast<int64_t>(e.ts) + (int64_t{1} << 32);
      } else {
        const TimedPacket& q = src.packets.back();
        p.ext_ts = q.ext_ts + static_cast<int32_t>(e.ts - prev_ts);
        p.lost_before = static_cast<int>(p.ext_seq - q.ext_seq - 1);
        st.lost += p.lost_before;
      }
      prev_ts = e.ts;
      src.packets.push_back(p);
    }
    SegmentSource(&src, info, opt);
    CollectStats(src, info, opt, &st);
    tl.sources.push_back(std::move(src));
  }
  std::sort(st.gaps.begin(), st.gaps.end(),
            [](const Gap& a, const Gap& b) { return a.start_ns < b.start_ns; });
  std::sort(st.dtmf.begin(), st.dtmf.end(),
            [](const DtmfEvent& a, const DtmfEvent& b) { return a.start_ns < b.start_ns; });
  return tl;
}

}  // namespace callvault::recording
