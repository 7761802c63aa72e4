// Realistic version-1 recording manifests (docs/formats/manifest.md) for catalog tests,
// benchmarks and API tests: every field the finalizer writes, with what matters for the
// catalog (ids, node, tenant, state, times, participants, metadata text) set by a spec.
//
// Test-only. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "recording/manifest_reader.h"

namespace callvault::catalog::testing {

struct TestParticipant {
  std::string name;  // "" = JSON null
  std::string aor;   // "sip:alice@example.com", "tel:+15551234567", "" = JSON null
  std::optional<int> channel;
};

struct ManifestSpec {
  std::string call_id;  // "" = TestCallId(started_ms, 0)
  std::string node_id = "rec-a";
  std::string tenant;  // "" = JSON null
  std::string state = "completed";
  std::string end_reason = "bye";
  int64_t started_ms = 1795593600000;  // 2026-11-25T08:00:00Z
  int64_t answer_delay_ms = 12;        // answered = started + this
  int64_t duration_ms = 299988;        // ended = answered + this
  int64_t finalized_ms = 0;            // 0 = ended + 840
  std::string sip_call_id;             // "" = "<call id>@10.0.0.1"
  std::string siprec_session_id = "aGVsbG8=";
  std::string from = "\"Alice\" <sip:alice@example.com>;tag=a1";
  std::string to = "<sip:bob@example.com>;tag=b2";
  std::vector<TestParticipant> participants = {{"Alice", "sip:alice@example.com", 0},
                                               {"Bob", "sip:bob@example.com", 1}};
  // Raw metadata snapshots; nullopt = one RFC 7865 document naming the participants.
  std::optional<std::vector<std::string>> metadata_raw;
  std::string audio_format = "wav";  // "wav" | "opus"
};

// The manifest document, as the finalizer writes it to disk (tests write it, or alter it).
nlohmann::json MakeManifestJson(const ManifestSpec& spec);
// The same, read by recording::ParseManifest: what Catalog::IngestManifests takes.
recording::Manifest MakeManifest(const ManifestSpec& spec);
// A (possibly altered) manifest document read by recording::ManifestFromJson.
// REQUIRES: it is a manifest the reader accepts (else the test crashes with the reason).
recording::Manifest ToManifest(const nlohmann::json& document);

// A deterministic UUIDv7-shaped id: the timestamp `ms` and a sequence number `n`, so that ids
// sort by (ms, n) like real ones.
std::string TestCallId(int64_t ms, uint64_t n);

// An RFC 7865 recording metadata document (application/rs-metadata+xml) naming `participants`.
std::string MetadataXml(const std::vector<TestParticipant>& participants,
                        const std::string& session_id);

}  // namespace callvault::catalog::testing
