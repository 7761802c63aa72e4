// TimelineBuilder: the streaming form of BuildTimeline (stream_timeline.h) — one stream's spool
// records pushed one at a time, the StreamTimeline (sources with their segments, statistics,
// gaps, DTMF) at the end, in memory bounded independently of the call's length: no packet is
// kept (each Source's `packets` stays empty), only each source's segments and what the
// statistics list. This is the finalizer's first pass; its second pass (stream_renderer.h)
// replays the records with the OrderPlan and the segments found here.
//
// Who calls it: recording/finalizer.cc, tests, bench.
// Thread-safety: a value used by one thread at a time.
#pragma once

#include <memory>
#include <vector>

#include "media/spool_reader.h"
#include "recording/internal/segmenter.h"
#include "recording/packet_orderer.h"
#include "recording/session_log.h"
#include "recording/stream_timeline.h"

namespace callvault::recording {

struct BuiltTimeline {
  StreamTimeline timeline;             // sources without packets
  OrderPlan plan;                      // for pass 2's PacketOrderer
  std::vector<size_t> source_packets;  // ordered, duplicate-free packets per source
};

class TimelineBuilder {
 public:
  // REQUIRES: info outlives the builder.
  explicit TimelineBuilder(const StreamInfo& info, const TimelineOptions& options = {});

  // The stream's next record (file order); stream declarations are ignored.
  void Push(const media::SpoolRecord& r);
  // After the last record; the builder is spent.
  BuiltTimeline Finish();

  // Packets held right now (memory accounting for tests and the benchmark).
  size_t held() const;

 private:
  const StreamInfo& info_;
  const TimelineOptions options_;
  std::vector<std::unique_ptr<internal::Segmenter>> segmenters_;  // per source
  PacketOrderer orderer_;
};

}  // namespace callvault::recording
