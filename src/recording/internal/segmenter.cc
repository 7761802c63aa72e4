#include "recording/internal/segmenter.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "recording/internal/timeline_constants.h"

namespace callvault::recording::internal {

Segmenter::Segmenter(const StreamInfo& info, const TimelineOptions& options)
    : info_(info), opt_(options), clock_cache_(128, 0) {}

int Segmenter::ClockOf(int payload_type) const {
  int& c = const_cast<std::vector<int>&>(clock_cache_)[payload_type & 0x7f];
  if (c == 0) c = std::max(1, ResolvePayloadType(info_, payload_type).clock_rate);
  return c;
}

void Segmenter::Push(size_t index, const TimedPacket& packet) {
  Meta m{.index = index, .packet = packet};
  m.packet.payload = {};
  if (packet.kind == PayloadKind::kTelephoneEvent)
    m.event = codec::ParseTelephoneEvent(packet.payload);
  next_index_ = index + 1;
  if (candidate_) {
    if (!AnchorKind(m.packet.kind)) {
      after_candidate_.push_back(m);
      return;
    }
    // The next anchor packet decides: if it fits the run again, the candidate was one packet
    // that arrived late (an outlier), not a break.
    const int64_t dt_next = (m.packet.ext_ts - prev_.ext_ts) * 1'000'000'000 / run_clock_;
    Decide(*candidate_, std::llabs((m.packet.arrival_ns - prev_.arrival_ns) - dt_next) <=
                            opt_.break_threshold_ns);
  }
  RunStep(m);
}

void Segmenter::Decide(const Meta& candidate, bool outlier) {
  const Meta c = candidate;
  std::vector<Meta> after = std::move(after_candidate_);
  candidate_.reset();
  after_candidate_.clear();
  if (outlier) {
    AnchorStep(c);  // stays in the run, placed by its timestamp; not the reference
  } else {
    Accept(c, /*brk=*/true);
  }
  for (const Meta& m : after) AnchorStep(m);
}

void Segmenter::RunStep(const Meta& m) {
  const TimedPacket& p = m.packet;
  if (!AnchorKind(p.kind)) {
    AnchorStep(m);
    return;
  }
  const int clock = ClockOf(p.payload_type);
  if (!has_prev_) {
    run_pt_ = p.kind == PayloadKind::kAudio ? p.payload_type : -1;
    run_clock_ = clock;
    prev_ = p;
    has_prev_ = true;
    AnchorStep(m);
    return;
  }
  const bool audio = p.kind == PayloadKind::kAudio;
  const bool pt_change = audio && run_pt_ >= 0 && p.payload_type != run_pt_;
  bool brk = pt_change || (audio && run_pt_ < 0 && clock != run_clock_);
  const int64_t dt_media = (p.ext_ts - prev_.ext_ts) * 1'000'000'000 / run_clock_;
  const int64_t lateness = (p.arrival_ns - prev_.arrival_ns) - dt_media;
  const int64_t mismatch = std::llabs(lateness);
  if (dt_media < 0 || mismatch > opt_.break_threshold_ns ||
      (p.marker && mismatch > opt_.marker_break_threshold_ns))
    brk = true;
  if (brk && dt_media >= 0 && lateness > 0 && !pt_change) {
    candidate_ = m;  // judged when the next anchor packet comes
    return;
  }
  Accept(m, brk);
}

void Segmenter::Accept(const Meta& m, bool brk) {
  const TimedPacket& p = m.packet;
  const int clock = ClockOf(p.payload_type);
  if (brk) {
    EndRun(m.index);
    run_pt_ = -1;
    run_clock_ = clock;
  }
  if (p.kind == PayloadKind::kAudio && run_pt_ < 0) {
    run_pt_ = p.payload_type;
    run_clock_ = clock;
  }
  prev_ = p;
  AnchorStep(m);
}

int64_t Segmenter::Offset(const TimedPacket& p) const {
  return p.arrival_ns - (p.ext_ts - seg_.start_ts) * 1'000'000'000 / seg_.clock_rate;
}

void Segmenter::AnchorStep(const Meta& m) {
  const TimedPacket& p = m.packet;
  const bool anchor_kind = AnchorKind(p.kind);
  switch (state_) {
    case State::kSeekFirst:
      if (pending_.empty()) seg_ = Segment{.begin = m.index};
      pending_.push_back(m);
      if (anchor_kind) {
        seg_.clock_rate = run_clock_;
        seg_.start_ts = p.ext_ts;
        window0_end_ = p.arrival_ns + opt_.anchor_window_ns;
        anchor_ = Offset(p);
        state_ = State::kWindow0;
      }
      return;
    case State::kWindow0:
      if (!anchor_kind || p.arrival_ns < window0_end_) {
        pending_.push_back(m);
        if (anchor_kind) anchor_ = std::min(anchor_, Offset(p));
        return;
      }
      OpenSegment();
      StartWindow(m);
      return;
    case State::kWindowK:
      if (!anchor_kind || p.arrival_ns < window_end_) {
        pending_.push_back(m);
        if (anchor_kind) wmin_ = std::min(wmin_, Offset(p));
        return;
      }
      if (std::llabs(wmin_ - anchor_) > opt_.drift_threshold_ns) {
        // Drift: the segment ends where this window began; the window starts the next one.
        segments_.back().end = window_begin_;
        std::deque<Meta> replay = std::move(pending_);
        pending_.clear();
        state_ = State::kSeekFirst;
        for (const Meta& r : replay) AnchorStep(r);
        AnchorStep(m);
        return;
      }
      AccountPending(&segments_.back());
      StartWindow(m);
      return;
  }
}

void Segmenter::OpenSegment() {
  seg_.start_wall_ns = anchor_;
  seg_.end = std::numeric_limits<size_t>::max();  // set when it closes
  segments_.push_back(seg_);
  AccountPending(&segments_.back());
}

void Segmenter::StartWindow(const Meta& m) {
  window_begin_ = m.index;
  window_end_ = m.packet.arrival_ns + opt_.anchor_window_ns;
  wmin_ = Offset(m.packet);
  pending_.clear();
  pending_.push_back(m);
  state_ = State::kWindowK;
}

void Segmenter::EndRun(size_t end) {
  switch (state_) {
    case State::kSeekFirst:  // only packets without an anchor: they join the previous segment
      if (!pending_.empty() && !segments_.empty()) {
        segments_.back().end = end;
        AccountPending(&segments_.back());
      }
      break;
    case State::kWindow0:
      OpenSegment();
      segments_.back().end = end;
      break;
    case State::kWindowK:  // a partial last window is too noisy to decide on: no split
      segments_.back().end = end;
      AccountPending(&segments_.back());
      break;
  }
  for (size_t k = run_first_segment_; k < segments_.size(); ++k)
    segments_[k].payload_type = run_pt_;
  run_first_segment_ = segments_.size();
  state_ = State::kSeekFirst;
}

void Segmenter::AccountPending(const Segment* seg) {
  for (const Meta& m : pending_) Account(m, seg);
  pending_.clear();
}

void Segmenter::Account(const Meta& m, const Segment* seg) {
  const TimedPacket& p = m.packet;
  if (p.lost_before > 0 && m.index > 0 && seg != nullptr && has_last_) {
    const int64_t span = p.ext_ts - last_ext_ts_;
    const int64_t per = span / (p.lost_before + 1);
    gaps_.push_back(Gap{.start_ns = last_seg_.WallNs(last_ext_ts_ + per),
                        .duration_ns = per * p.lost_before * 1'000'000'000 / last_seg_.clock_rate});
  }
  if (AnchorKind(p.kind) && seg != nullptr &&
      p.arrival_ns - seg->WallNs(p.ext_ts) > opt_.late_threshold_ns)
    ++late_;
  if (p.kind == PayloadKind::kTelephoneEvent && m.event) {
    if (event_ && event_->ts == p.ext_ts) {
      event_->ev.duration = std::max(event_->ev.duration, m.event->duration);
    } else {
      CloseEvent();
      event_ = OpenEvent{.ts = p.ext_ts,
                         .ev = *m.event,
                         .clock = ClockOf(p.payload_type),
                         .start_ns = seg != nullptr ? seg->WallNs(p.ext_ts) : p.arrival_ns};
    }
  }
  has_last_ = true;
  last_ext_ts_ = p.ext_ts;
  if (seg != nullptr) last_seg_ = *seg;
}

void Segmenter::CloseEvent() {
  if (!event_) return;
  dtmf_.push_back(DtmfEvent{.start_ns = event_->start_ns,
                            .digit = event_->ev.Digit(),
                            .duration_ms = static_cast<int>(
                                static_cast<int64_t>(event_->ev.duration) * 1000 / event_->clock)});
  event_.reset();
}

void Segmenter::Finish() {
  if (candidate_) Decide(*candidate_, /*outlier=*/true);  // no next anchor packet: an outlier
  if (has_prev_) {
    EndRun(next_index_);
  } else {
    AccountPending(nullptr);  // no anchor packet at all: the source has no segment
  }
  CloseEvent();
}

}  // namespace callvault::recording::internal
