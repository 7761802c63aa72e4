// The recording manifest as typed values (docs/formats/manifest.md, versions 1 and 2), and its one
// reader: ParseManifest checks the format and version and reads every field the format defines.
// The finalizer writes manifests (manifest.h BuildManifest); everything that reads them — catalog
// ingest now, replication and retention later — goes through this reader instead of walking raw
// JSON, so the version check and the field rules live in one place.
//
// Reading rules (docs/formats/manifest.md §Readers):
//  - Required, else the manifest is refused: a JSON object, `format` "callvault-manifest",
//    `version` an integer from 1 to kManifestVersion, a non-empty string `call_id`, `state` a
//    final state name (completed | timed_out | partial), `times.finalized` an RFC 3339 time.
//  - `audio.encryption` (version 2): when it is present and not null it must be an object with
//    `format` "callvault-encrypted-audio", an integer `version`, non-empty `tenant` and
//    `key_id`, and the manifest's version must be ≥ 2; else the manifest is refused
//    (InvalidArgument) — a reader must never take an encrypted file for plain audio.
//  - Every other field that is missing, null or of another JSON type reads as its default
//    (empty string, 0, false, nullopt, empty list); a time that is not RFC 3339 reads as
//    nullopt. Each element of `participants`, `streams`, `metadata` is one entry, also when it
//    is not an object (then all defaults).
//  - Unknown fields are ignored here and kept: `document` is the whole manifest as read, and
//    each participant, stream and metadata snapshot keeps its own object in `json` (siprec/
//    adds participant fields the format does not list), so a catalog or a peer stores exactly
//    what was written.
//
// Called by: catalog/ (ingest), tests; later replication and retention.
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/call_state.h"
#include "base/status.h"

namespace callvault::recording {

inline constexpr std::string_view kManifestFormat = "callvault-manifest";
// The newest version this build writes and reads. A manifest with a higher version is refused
// (FailedPrecondition): its fields may have changed meaning.
//   1: plain audio.
//   2: adds `audio.encryption`; `audio.bytes`/`sha256` are of the stored (encrypted) bytes.
// Writers use the lowest version that can say what they write: 1 for plain audio (readers of
// version 1 keep reading it), 2 only for encrypted audio (readers of version 1 refuse it).
inline constexpr int kManifestVersion = 2;
inline constexpr int kPlainManifestVersion = 1;
inline constexpr int kEncryptedManifestVersion = 2;
// `audio.encryption.format` and `.algorithm` (docs/formats/encrypted-audio.md).
inline constexpr std::string_view kEncryptedAudioFormat = "callvault-encrypted-audio";
inline constexpr std::string_view kEncryptionAlgorithmName = "aes-256-gcm-chunked";

struct Manifest {
  // Times are milliseconds since the Unix epoch (the format's precision).
  struct Times {
    std::optional<int64_t> started_ms, answered_ms, ended_ms;  // nullopt: null / unknown
    int64_t duration_ms = 0;                                   // ended − answered
    int64_t finalized_ms = 0;                                  // required
    std::string finalized;  // `times.finalized` as written (stored verbatim by the catalog)
  };
  // The SIPREC client (the `start` line of the session log).
  struct Src {
    std::string address, transport, user_agent, from, to, request_uri;
    std::map<std::string, std::string> headers;  // string values only
  };
  // `capture`: how this node got the call (absent before issue 19: active).
  struct Capture {
    std::string mode = "active";  // "active" (answered the SRC) | "passive" (a hot spare)
    std::string primary_node_id;  // passive only, when configured: the primary's node id
  };
  struct Audio {
    std::string file;      // relative to the recording node's recordings directory
    std::string format;    // "wav" | "opus"
    std::string encoding;  // "pcm_s16le" | "opus"
    int64_t sample_rate = 0;
    int64_t channels = 0;
    std::optional<int64_t> started_ms;  // wall clock of the first sample
    int64_t duration_ms = 0;
    int64_t bytes = 0;   // stored bytes (ciphertext when encrypted)
    std::string sha256;  // lowercase hex, of the stored bytes
    // `audio.location`: where the audio is when it is not beside the manifest — a call a peer
    // replicated without its audio because both nodes share the S3 bucket it was moved to
    // ("s3://bucket/key"). "": beside the manifest (or wherever this node's catalog says).
    std::string location;
    // `audio.encryption` (version 2): the file holds ciphertext (docs/formats/encrypted-audio.md)
    // and is played through a decrypting reader. nullopt: plain audio.
    struct Encryption {
      std::string format;     // kEncryptedAudioFormat
      int64_t version = 0;    // of the encrypted file format
      std::string algorithm;  // kEncryptionAlgorithmName
      std::string tenant, key_id;
      int64_t plaintext_bytes = 0;
    };
    std::optional<Encryption> encryption;
  };
  struct Participant {
    std::string id, name, aor;
    std::optional<int64_t> channel;  // 0 left, 1 right; nullopt: null / not in the file
    std::string association;
    nlohmann::json json;  // the element as written
  };
  // An interval of a stream, as offsets from `audio.started` (positions in the audio file).
  struct Interval {
    int64_t at_ms = 0;
    int64_t duration_ms = 0;
  };
  struct Dtmf {  // an RFC 4733 event
    int64_t at_ms = 0;
    std::string digit;
    int64_t duration_ms = 0;
  };
  struct Stream {
    std::string id, label;
    int64_t index = 0;               // m-line index
    std::optional<int64_t> channel;  // 0, 1; nullopt: not in the file
    bool mixed = false;              // both parties on one m-line, written to both channels
    std::string codec;               // "" when null (no audio packet)
    std::optional<int64_t> payload_type, clock_rate;
    bool srtp = false;
    std::vector<std::string> ssrcs;  // "0x1a2b3c4d", at most 100
    bool ssrcs_truncated = false;
    int64_t packets = 0, bytes = 0, lost = 0, duplicates = 0, reordered = 0, late = 0, bad = 0,
            auth_failed = 0, unknown_payload = 0, receiver_drops = 0, ignored_bytes = 0;
    std::vector<Interval> gaps;  // at most 1000
    bool gaps_truncated = false;
    std::vector<Dtmf> dtmf;
    std::vector<Interval> paused;
    nlohmann::json json;  // the element as written
  };
  // A metadata snapshot: parsed by siprec/ (more fields in `json`), or a raw session-log line.
  struct Snapshot {
    std::optional<int64_t> at_ms;
    std::string source;  // "INVITE", "UPDATE", …
    std::string content_type, raw;
    std::optional<bool> well_formed;  // nullopt: not stated (raw snapshots)
    std::vector<std::string> problems;
    nlohmann::json json;  // the element as written
  };

  int version = kManifestVersion;
  std::string call_id;  // UUIDv7, the key everywhere
  std::string node_id;
  CallState state = CallState::kCompleted;  // a final state
  std::string end_reason, sip_call_id, siprec_session_id;
  std::string tenant;  // "" = null
  Times times;
  Src src;
  Capture capture;
  Audio audio;
  std::vector<Participant> participants;
  std::vector<Stream> streams;
  std::vector<Snapshot> metadata;
  std::vector<std::string> warnings;
  nlohmann::json document;  // the whole manifest as read, unknown fields included
};

// Reads a manifest file's text (the reading rules above). DataLoss when the text is not JSON
// (the message says where the parser stopped); otherwise as ManifestFromJson.
Result<Manifest> ParseManifest(std::string_view text);

// Reads an already parsed manifest (kept in `document`). InvalidArgument naming the problem when
// a required field is missing or wrong ("manifest: format is \"x\", not callvault-manifest");
// FailedPrecondition when `version` is newer than kManifestVersion (written by a newer callvault:
// this build refuses rather than guess).
Result<Manifest> ManifestFromJson(nlohmann::json document);

}  // namespace callvault::recording
