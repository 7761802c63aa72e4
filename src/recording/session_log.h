// The reader of a call's spool session log (`session.jsonl`, docs/formats/spool.md): turns the
// event lines into what the finalizer needs — the `start` identity, the streams with their
// payload maps, metadata bodies, paused intervals and the `end`.
//
// Called by: recording/finalizer.cc (finalizing a call), tests.
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time_format.h"
#include "codec/codec.h"

namespace callvault::recording {

// One `stream` line's view of a stream (the last line for a stream id wins for the scalar
// fields; payload maps are merged, a later line's entry for the same PT winning).
struct StreamInfo {
  std::string id;     // also the `.rtp` file name without extension
  int index = 0;      // m-line index
  std::string label;  // a=label
  int local_port = 0;
  std::map<int, codec::CodecSpec> payload_types;  // PT → codec
  std::string direction;
  bool srtp = false;
};

struct MetadataSnapshot {
  std::string at;  // RFC 3339 as written
  std::string source;
  std::string content_type;
  std::string raw;
};

struct PausedInterval {
  int64_t start_ns = 0;  // wall clock, ns since the Unix epoch
  int64_t end_ns = 0;    // resume time, or the end of the call when never resumed
  std::string stream;    // the `state` line's stream id; "" = every stream of the call
  // Never resumed: the pause lasts to the end of the audio, also over packets that arrived
  // between the `end` line and the stream's close (a Cisco BiB leg that ended first).
  bool until_end = false;

  bool Applies(const std::string& stream_id) const { return stream.empty() || stream == stream_id; }
};

struct SessionLog {
  std::optional<nlohmann::json> start;  // the `start` line as written
  int64_t start_ns = 0;                 // its `at`
  int64_t first_answer_ns = 0;          // `at` of the first `sdp` line with an answer (0: none)
  std::vector<StreamInfo> streams;      // in order of first appearance
  std::vector<MetadataSnapshot> metadata;
  std::vector<PausedInterval> paused;
  bool has_end = false;
  std::string end_reason;
  std::string siprec_session_id;          // the `end` line's `siprec_session_id`, if any
  std::vector<std::string> end_warnings;  // the `end` line's `warnings` (strings), if any
  // What siprec/ parsed and wrote into the `end` line (docs/formats/spool.md), if present.
  std::string end_state;                           // "completed" | "timed_out" | ""
  std::optional<nlohmann::json> end_participants;  // manifest form
  std::optional<nlohmann::json> end_metadata;      // parsed snapshots, manifest form
  std::map<std::string, int> end_stream_channels;  // stream id → 0, 1, -1
  // The latest `participants` line (siprec/ logs one whenever they change). Without an `end`
  // line (a crash) ParseSessionLog copies them into end_participants / end_stream_channels /
  // siprec_session_id, so a partial recording still names its participants.
  std::optional<nlohmann::json> last_participants;
  std::map<std::string, int> last_stream_channels;
  std::string last_siprec_session_id;
  int64_t end_ns = 0;
  int64_t last_event_ns = 0;  // the latest `at` of any line
  bool torn_tail = false;     // the last line had no '\n' (ignored)
  int bad_lines = 0;          // complete lines that were not JSON objects with v/t (skipped)
};

// Parses the whole session log text. Never fails: what cannot be read is counted and skipped.
SessionLog ParseSessionLog(std::string_view text);

}  // namespace callvault::recording
