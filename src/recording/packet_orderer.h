// PacketOrderer: the first step of the streaming timeline (stream_timeline.h explains the method):
// one stream's spool records in, each source's RTP packets out in extended-sequence order, with
// their extended timestamps and the loss before each — in bounded memory, so a 10-hour call is
// ordered without holding it. Same results as BuildTimeline's grouping, sorting and duplicate
// removal (a differential test checks it).
//
// Bounded reordering. A packet joins a source (an SSRC, or a sequence epoch of it) only when its
// sequence number is at most kMaxMisorder behind the source's highest (RFC 3550 A.1), so a packet
// more than that behind can never come, and anything that far back can be handed on. That is the
// *discovery* mode (the finalizer's first pass): at most ~1,000 packets held per source. The
// finalizer's second pass replays the same records with the OrderPlan the first pass learned —
// which arrivals were not a new highest, in arrival order — and hands a packet on as soon as
// nothing that precedes or repeats it can still come: at once for a stream without reordering.
//
// Who calls it: recording/timeline_builder.cc (pass 1), recording/stream_renderer.cc (pass 2),
// tests.
// Thread-safety: a value used by one thread at a time.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "media/spool_reader.h"
#include "recording/session_log.h"
#include "recording/stream_timeline.h"

namespace callvault::recording {

// What pass 1 learned for pass 2: per source, the suffix minimum (over arrival order) of the
// extended sequence numbers of the arrivals that were not a new highest (reordered packets and
// duplicates). 8 bytes per reordered or duplicated packet.
struct OrderPlan {
  std::vector<std::vector<int64_t>> late_suffix_min;
};

struct OrderedPacket {
  size_t source = 0;   // index of the source, in order of first arrival
  size_t index = 0;    // position in the source's ordered, duplicate-free packets
  TimedPacket packet;  // payload: valid during the callback (pass 1 keeps only event payloads)
};

class PacketOrderer {
 public:
  using Sink = std::function<void(const OrderedPacket&)>;

  // `plan`: null for discovery (pass 1); else the plan pass 1 produced for the same records.
  // `keep_audio_payloads`: pass 2 needs the audio; pass 1 keeps telephone-event payloads only.
  // REQUIRES: info and plan outlive the orderer.
  PacketOrderer(const StreamInfo& info, const OrderPlan* plan, bool keep_audio_payloads, Sink sink);

  // One record of the stream, in file order.
  void Push(const media::SpoolRecord& r);
  // Hands on everything still held. Call once, after the last Push().
  void Finish();

  // Counts over the records (packets, bytes, lost, duplicates, reordered, bad, auth_failed,
  // unknown_payload, rtcp, gap_markers, ssrcs, payload_type_packets). Final after Finish().
  const StreamStats& stats() const { return stats_; }
  int64_t first_arrival_ns() const { return first_arrival_; }
  int64_t last_arrival_ns() const { return last_arrival_; }
  size_t source_count() const { return groups_.size(); }
  uint32_t source_ssrc(size_t source) const { return groups_[source].ssrc; }
  // Packets handed on per source so far.
  size_t source_packets(size_t source) const { return groups_[source].emitted; }
  // Discovery mode: the plan for pass 2 (complete after Finish()).
  OrderPlan TakePlan();
  // Packets held right now (for memory accounting in tests and the benchmark).
  size_t held() const { return held_; }

 private:
  struct Entry {
    TimedPacket packet;  // payload views `payload`
    std::string payload;
    uint32_t ts = 0;
    bool behind = false;
  };
  struct Group {
    uint32_t ssrc = 0;
    size_t arrivals = 0;
    int64_t max_ext = 0;
    size_t last_activity = 0;
    std::map<int64_t, Entry> held;  // by extended sequence number
    // Discovery: the extended sequence numbers of arrivals that were not a new max_ext, in
    // arrival order.
    std::vector<int64_t> late;
    size_t late_seen = 0;  // replay: how many of the plan's late arrivals came so far
    // The last packet handed on.
    size_t emitted = 0;
    int64_t last_ext = 0, last_ext_ts = 0;
    uint32_t last_ts = 0;
  };
  void EmitUpTo(size_t group, int64_t limit);  // hands on held packets with ext < limit

  const StreamInfo& info_;
  const OrderPlan* const plan_;
  const bool keep_audio_;
  const Sink sink_;
  StreamStats stats_;
  std::vector<Group> groups_;
  std::unordered_map<uint32_t, std::vector<size_t>> by_ssrc_;
  std::array<uint8_t, 128> kinds_{};  // payload type → kind + 1 (cache; 0 = not looked up)
  size_t order_ = 0;
  size_t held_ = 0;
  int64_t first_arrival_ = 0, last_arrival_ = 0;
};

}  // namespace callvault::recording
