// A stream's packets put in order and on the call's wall clock (the "timeline" step of
// finalizing, docs/formats/manifest.md §Timeline): RTP parsing, grouping by SSRC, ordering by
// extended sequence number, duplicate removal, packet statistics, DTMF events, and the mapping
// of RTP timestamps to wall-clock time in anchored segments.
//
// Mapping method. Within one source (SSRC, or a sequence-number epoch of it) packets are
// ordered by extended sequence number (RFC 3550 A.1 unwrapping). For each packet the offset
// o = arrival − ts/clock (ns) is the source's clock offset plus the network delay; jitter only
// adds delay, so the minimum of o over a window is a robust estimate. A segment is a run of
// packets placed with one offset (its anchor): wall(ts) = start_wall + (ts − start_ts)/clock.
// The anchor is the minimum of o over the first `anchor_window` of the segment. A new segment
// starts (re-anchoring) when
//   - the audio payload type changes,
//   - the timestamp and arrival spacing of consecutive packets disagree by more than
//     `break_threshold` (a timestamp jump or reset, a hold without timestamp advance), or by
//     more than `marker_break_threshold` on a packet with the marker bit (talkspurt start),
//   - the windowed minimum of o drifts from the anchor by more than `drift_threshold`
//     (sender clock drift: 100 ppm is 6 ms per minute; with 5 ms the error stays ≤ ~5 ms).
// Telephone-event packets (whose timestamp is the event start) are not used for anchors.
//
// BuildTimeline is the in-memory reference of the method (every packet of the stream in memory);
// the finalizer uses its streaming form, TimelineBuilder (timeline_builder.h), held to it by a
// differential test. The types here are shared by both.
//
// Called by: recording/ (the streaming timeline and renderer use the types and
// ResolvePayloadType), tests and fuzz/spool_fuzzer.cc (BuildTimeline as the reference).
// Thread-safety: pure functions over values; the result holds views into the spool bytes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "media/spool_reader.h"
#include "recording/session_log.h"

namespace callvault::recording {

struct TimelineOptions {
  int64_t anchor_window_ns = 2'000'000'000;        // Default: 2 s
  int64_t drift_threshold_ns = 5'000'000;          // Default: 5 ms
  int64_t break_threshold_ns = 200'000'000;        // Default: 200 ms
  int64_t marker_break_threshold_ns = 40'000'000;  // Default: 40 ms
  int64_t late_threshold_ns = 200'000'000;         // counted as `late` beyond this. Default: 200 ms
};

enum class PayloadKind : uint8_t { kAudio, kComfortNoise, kTelephoneEvent, kUnknown };

struct TimedPacket {
  int64_t ext_seq = 0;
  int64_t ext_ts = 0;
  int64_t arrival_ns = 0;
  uint8_t payload_type = 0;
  bool marker = false;
  PayloadKind kind = PayloadKind::kUnknown;
  int lost_before = 0;  // sequence numbers missing just before this packet
  std::string_view payload;
};

struct Segment {
  size_t begin = 0, end = 0;  // packet index range [begin, end) in the source
  int payload_type = -1;      // the audio payload type of the segment (-1: none)
  int clock_rate = 8000;
  int64_t start_ts = 0;       // ext_ts of the first packet
  int64_t start_wall_ns = 0;  // wall clock of start_ts
  int64_t WallNs(int64_t ts) const {
    return start_wall_ns + (ts - start_ts) * 1'000'000'000 / clock_rate;
  }
};

// One SSRC (or one sequence epoch of it), packets in extended sequence order.
struct Source {
  uint32_t ssrc = 0;
  std::vector<TimedPacket> packets;
  std::vector<Segment> segments;
};

struct Gap {
  int64_t start_ns = 0;  // wall clock
  int64_t duration_ns = 0;
};

// Records the receiver got but could not write to the spool (media/ unwritten markers, kind 5:
// the disk refused them for longer than the memory budget held them; issue 21).
struct UnwrittenSpan {
  int64_t first_ns = 0;  // arrival (wall clock) of the first record not written
  int64_t last_ns = 0;   // ... and of the last
  uint64_t records = 0;
  std::string reason;  // "disk_full", "write_error", "buffer_full"
};

struct DtmfEvent {
  int64_t start_ns = 0;  // wall clock
  char digit = '?';
  int duration_ms = 0;
};

struct StreamStats {
  uint64_t packets = 0;  // RTP packets stored (kind RTP), good or not
  uint64_t bytes = 0;    // their payload bytes as stored
  uint64_t lost = 0;
  uint64_t duplicates = 0;
  uint64_t reordered = 0;
  uint64_t late = 0;
  uint64_t bad = 0;              // not parseable as RTP
  uint64_t auth_failed = 0;      // SRTP authentication failed (not decodable)
  uint64_t unknown_payload = 0;  // payload type not in the stream's map
  uint64_t rtcp = 0;
  uint64_t gap_markers = 0;  // datagrams the receiver dropped (media/ gap records)
  uint64_t unwritten = 0;    // records received but never written (unwritten markers)
  std::vector<UnwrittenSpan> unwritten_spans;  // in spool order
  std::vector<uint32_t> ssrcs;                 // in order of first arrival
  std::vector<Gap> gaps;
  std::vector<DtmfEvent> dtmf;
  std::map<int, uint64_t> payload_type_packets;
};

struct StreamTimeline {
  std::vector<Source> sources;  // in order of first arrival
  StreamStats stats;
  int64_t first_arrival_ns = 0;  // 0 when no packet
  int64_t last_arrival_ns = 0;
};

// The codec a payload type stands for: the stream's map, else the RFC 3551 static assignment.
codec::CodecSpec ResolvePayloadType(const StreamInfo& info, int payload_type);
PayloadKind ClassifyPayload(const codec::CodecSpec& spec);

StreamTimeline BuildTimeline(const std::vector<media::SpoolRecord>& records, const StreamInfo& info,
                             const TimelineOptions& options = {});

}  // namespace callvault::recording
