// The recording manifest (docs/formats/manifest.md, versions 1 and 2): built by the finalizer
// beside every audio file as `<audio file>.json`; read back by the finalizer (idempotent re-runs),
// and through manifest_reader.h (ParseManifest) by catalog ingest, replication and retention.
//
// Called by: recording/finalizer.cc, tests.
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/call_state.h"
#include "recording/manifest_reader.h"
#include "recording/session_log.h"
#include "recording/stream_timeline.h"

namespace callvault::recording {

// kManifestFormat, kManifestVersion, kPlainManifestVersion: manifest_reader.h (the reader
// checks them). BuildManifest writes version 1 for plain audio (so older readers keep reading
// it) and version 2 when `audio.encryption` is set (older readers refuse it: they must never
// serve the ciphertext as audio).
inline constexpr size_t kMaxListedGaps = 1000;  // per stream; more set `gaps_truncated`
inline constexpr size_t kMaxListedSsrcs = 100;  // per stream; more set `ssrcs_truncated`

struct ManifestStream {
  const StreamInfo* info = nullptr;          // REQUIRES: non-null
  const StreamTimeline* timeline = nullptr;  // REQUIRES: non-null
  int channel = -1;                          // 0, 1; -1 = both (mixed)
  bool in_file = true;                       // false: `channel` null (no audio from it)
  uint64_t ignored_bytes = 0;                // torn/corrupt tail of the .rtp file
};

// `audio.encryption` of an encrypted recording (docs/formats/encrypted-audio.md).
struct ManifestEncryption {
  std::string tenant;  // the key store's tenant (KeyTenantOf: never empty)
  std::string key_id;  // the tenant key that wraps the file's data key
  uint64_t plaintext_bytes = 0;
};

struct ManifestAudio {
  std::string file;      // relative to the recordings directory (the stored file's name)
  std::string format;    // "wav" | "opus"
  std::string encoding;  // "pcm_s16le" | "opus"
  int sample_rate = 8000;
  int channels = 2;
  int64_t origin_ns = 0;  // wall clock of the first sample (`audio.started`)
  int64_t duration_ms = 0;
  uint64_t bytes = 0;                            // stored bytes (ciphertext when encrypted)
  std::string sha256;                            // of the stored bytes
  std::optional<ManifestEncryption> encryption;  // set: the file is encrypted (version 2)
};

struct ManifestInputs {
  std::string call_id, node_id, tenant;
  std::string siprec_session_id;            // "" = the session log's (end line, else start line)
  CallState state = CallState::kCompleted;  // REQUIRES: a final state (IsFinalState)
  std::string end_reason;
  const SessionLog* log = nullptr;  // REQUIRES: non-null
  int64_t ended_ns = 0;
  ManifestAudio audio;
  std::vector<ManifestStream> streams;
  std::optional<nlohmann::json> participants;        // as passed by the caller
  std::optional<nlohmann::json> metadata_snapshots;  // as passed; else raw from the log
  std::vector<std::string> warnings;
  int64_t finalized_ns = 0;
};

nlohmann::json BuildManifest(const ManifestInputs& in);

// The most used audio payload type of a stream, or -1.
int MainPayloadType(const StreamInfo& info, const StreamStats& stats);

}  // namespace callvault::recording
