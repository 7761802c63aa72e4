// Segmenter: the streaming form of BuildTimeline's segmentation and per-packet statistics
// (stream_timeline.h explains the method) for one source whose packets arrive in extended
// sequence order (PacketOrderer's output). It holds only what a decision still needs: the
// packets of the current anchor window (≤ 2 × anchor_window of arrival time) and, while an
// out-of-place packet waits to be judged an outlier, the packets up to the next anchor packet.
// Results equal BuildTimeline's (checked by a differential test). Private to recording/.
//
// Thread-safety: a value used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "codec/codec.h"
#include "recording/session_log.h"
#include "recording/stream_timeline.h"

namespace callvault::recording::internal {

class Segmenter {
 public:
  // REQUIRES: info outlives the segmenter.
  Segmenter(const StreamInfo& info, const TimelineOptions& options);

  // The source's next packet (index = previous + 1). Only telephone-event payloads are read.
  void Push(size_t index, const TimedPacket& packet);
  // After the last packet.
  void Finish();

  // Final after Finish(): the source's segments (BuildTimeline's Source::segments), and what
  // its packets add to the stream's statistics.
  const std::vector<Segment>& segments() const { return segments_; }
  uint64_t late() const { return late_; }
  const std::vector<Gap>& gaps() const { return gaps_; }
  const std::vector<DtmfEvent>& dtmf() const { return dtmf_; }
  // Packets held right now.
  size_t held() const { return pending_.size() + after_candidate_.size() + (candidate_ ? 1 : 0); }

 private:
  struct Meta {
    size_t index = 0;
    TimedPacket packet;  // payload cleared
    std::optional<codec::TelephoneEvent> event;
  };
  int ClockOf(int payload_type) const;
  // Run layer (where the method breaks a source into runs).
  void RunStep(const Meta& m);
  void Decide(const Meta& candidate, bool outlier);
  void Accept(const Meta& m, bool brk);  // an anchor packet that is no outlier
  // Anchor layer (how a run is cut into anchored segments).
  void AnchorStep(const Meta& m);
  void EndRun(size_t end);  // the run ends before packet `end`
  void OpenSegment();
  void StartWindow(const Meta& m);
  int64_t Offset(const TimedPacket& p) const;
  // Statistics of packets whose segment is known (nullptr: the source has no segment).
  void Account(const Meta& m, const Segment* seg);
  void AccountPending(const Segment* seg);
  void CloseEvent();

  const StreamInfo& info_;
  const TimelineOptions opt_;
  std::vector<int> clock_cache_;  // by payload type, 0 = not looked up yet

  // Run layer.
  bool has_prev_ = false;
  TimedPacket prev_;
  int run_pt_ = -1;
  int run_clock_ = 8000;
  std::optional<Meta> candidate_;  // a break waiting for the next anchor packet
  std::vector<Meta> after_candidate_;

  // Anchor layer.
  enum class State { kSeekFirst, kWindow0, kWindowK };
  State state_ = State::kSeekFirst;
  Segment seg_;  // the segment being built (begin, start_ts, clock_rate, start_wall_ns)
  int64_t anchor_ = 0;
  int64_t window0_end_ = 0, window_end_ = 0, wmin_ = 0;
  size_t window_begin_ = 0;
  size_t run_first_segment_ = 0;
  size_t next_index_ = 0;     // index of the packet after the last one pushed
  std::deque<Meta> pending_;  // not yet accounted: their segment is not final
  std::vector<Segment> segments_;

  // Statistics.
  bool has_last_ = false;
  int64_t last_ext_ts_ = 0;
  Segment last_seg_;
  struct OpenEvent {
    int64_t ts = 0;
    codec::TelephoneEvent ev;
    int clock = 8000;
    int64_t start_ns = 0;
  };
  std::optional<OpenEvent> event_;
  uint64_t late_ = 0;
  std::vector<Gap> gaps_;
  std::vector<DtmfEvent> dtmf_;
};

}  // namespace callvault::recording::internal
