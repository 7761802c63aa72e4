#include "recording/timeline_builder.h"

#include <algorithm>

namespace callvault::recording {

TimelineBuilder::TimelineBuilder(const StreamInfo& info, const TimelineOptions& options)
    : info_(info),
      options_(options),
      orderer_(info, /*plan=*/nullptr, /*keep_audio_payloads=*/false,
               [this](const OrderedPacket& p) {
                 while (segmenters_.size() <= p.source)
                   segmenters_.push_back(std::make_unique<internal::Segmenter>(info_, options_));
                 segmenters_[p.source]->Push(p.index, p.packet);
               }) {}

void TimelineBuilder::Push(const media::SpoolRecord& r) {
  if (r.kind == media::spool::RecordKind::kStreamDeclaration) return;
  orderer_.Push(r);
}

size_t TimelineBuilder::held() const {
  size_t n = orderer_.held();
  for (const auto& s : segmenters_) n += s->held();
  return n;
}

BuiltTimeline TimelineBuilder::Finish() {
  orderer_.Finish();
  BuiltTimeline out;
  StreamTimeline& tl = out.timeline;
  tl.stats = orderer_.stats();
  tl.first_arrival_ns = orderer_.first_arrival_ns();
  tl.last_arrival_ns = orderer_.last_arrival_ns();
  // Per source in order of first arrival, as BuildTimeline collects them, then sorted the same
  // way, so equal times keep the same order.
  for (size_t i = 0; i < orderer_.source_count(); ++i) {
    Source src{.ssrc = orderer_.source_ssrc(i)};
    out.source_packets.push_back(orderer_.source_packets(i));
    if (i < segmenters_.size()) {
      internal::Segmenter& s = *segmenters_[i];
      s.Finish();
      src.segments = s.segments();
      tl.stats.late += s.late();
      tl.stats.gaps.insert(tl.stats.gaps.end(), s.gaps().begin(), s.gaps().end());
      tl.stats.dtmf.insert(tl.stats.dtmf.end(), s.dtmf().begin(), s.dtmf().end());
    }
    tl.sources.push_back(std::move(src));
  }
  std::sort(tl.stats.gaps.begin(), tl.stats.gaps.end(),
            [](const Gap& a, const Gap& b) { return a.start_ns < b.start_ns; });
  std::sort(tl.stats.dtmf.begin(), tl.stats.dtmf.end(),
            [](const DtmfEvent& a, const DtmfEvent& b) { return a.start_ns < b.start_ns; });
  out.plan = orderer_.TakePlan();
  segmenters_.clear();
  return out;
}

}  // namespace callvault::recording
