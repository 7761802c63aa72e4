// The catalog's rows of one call, derived from a version-1 manifest (docs/formats/manifest.md,
// as read by recording::ParseManifest) or from an ActiveCall: the `calls` columns, participants,
// streams and metadata snapshots (docs/formats/catalog-schema.md). Caller and callee are derived
// here, once.
//
// Called by: SqlCatalog (ingest, UpsertActive), tests. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/catalog.h"
#include "recording/manifest_reader.h"

namespace callvault::catalog::internal {

struct ParticipantRow {
  std::string participant_id, name, aor, number;
  std::optional<int64_t> channel;
};

struct StreamRow {
  std::string stream_id, label, codec;
  std::optional<int64_t> channel;
  bool mixed = false;
  int64_t packets = 0, bytes = 0, lost = 0, duplicates = 0, reordered = 0, late = 0, bad = 0;
  std::string json;  // the manifest's stream object
};

struct SnapshotRow {
  std::optional<int64_t> at_ms;
  std::string source, content_type, raw;
  std::optional<int64_t> well_formed;  // 0/1, nullopt when not stated
};

struct CallRow {
  std::string call_id, node_id, tenant;
  CallState state = CallState::kActive;
  std::string end_reason, sip_call_id, siprec_session_id;
  // manifest `capture`: "active" | "passive", and a passive copy's primary ("" = unknown).
  std::string capture_mode = "active", primary_node_id;
  int64_t started_ms = 0;
  std::optional<int64_t> answered_ms, ended_ms;
  int64_t duration_ms = 0;
  std::string caller_name, caller_aor, caller_number;
  std::string callee_name, callee_aor, callee_number;
  std::string src_address, from_uri, to_uri;
  std::string audio_file, audio_format, audio_sha256;
  int64_t audio_bytes = 0;
  std::string finalized;                 // manifest `times.finalized`; "" while active
  std::optional<int64_t> version_ms;     // `finalized` in ms; nullopt while active
  std::string participants_json = "[]";  // manifest-shaped participants
  std::string manifest_json;             // "" while active
  std::string search_text;
  // The texts of the contains filters' trigram index (docs/formats/catalog-schema.md
  // §Contains filters): the distinct numbers and AORs of caller, callee and every participant,
  // and the distinct names, one per line.
  std::string numbers_text, names_text;
  std::vector<ParticipantRow> participants;
  std::vector<StreamRow> streams;
  std::vector<SnapshotRow> snapshots;
};

// The rows of a finished call's manifest. InvalidArgument (naming `label`, e.g. "manifest 3")
// when the catalog cannot hold it: no call id or one longer than 128 bytes, a state that is not
// final. (ParseManifest has already refused what is not a version-1 manifest.)
Result<CallRow> RowFromManifest(const recording::Manifest& manifest, const std::string& label);

// The rows of an active call (state active, no version, no manifest). InvalidArgument when the
// call id is empty.
Result<CallRow> RowFromActive(const ActiveCall& call);

}  // namespace callvault::catalog::internal
