#include "catalog/internal/call_row.h"

#include <gtest/gtest.h>

#include "catalog/testing/manifests.h"

namespace callvault::catalog::internal {
namespace {

using testing::MakeManifest;
using testing::ManifestSpec;

TEST(RowFromManifestTest, ColumnsFromTheManifest) {
  ManifestSpec spec;
  spec.tenant = "acme";
  spec.state = "timed_out";
  spec.end_reason = "rtp_timeout";
  Result<CallRow> row = RowFromManifest(MakeManifest(spec), "manifest 0");
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->call_id, testing::TestCallId(spec.started_ms, 0));
  EXPECT_EQ(row->node_id, "rec-a");
  EXPECT_EQ(row->tenant, "acme");
  EXPECT_EQ(row->state, CallState::kTimedOut);
  EXPECT_EQ(row->end_reason, "rtp_timeout");
  EXPECT_EQ(row->started_ms, 1795593600000);
  EXPECT_EQ(row->answered_ms, 1795593600012);
  EXPECT_EQ(row->ended_ms, 1795593600012 + 299988);
  EXPECT_EQ(row->duration_ms, 299988);
  EXPECT_EQ(row->version_ms, 1795593600012 + 299988 + 840);
  EXPECT_EQ(row->caller_name, "Alice");
  EXPECT_EQ(row->caller_aor, "sip:alice@example.com");
  EXPECT_EQ(row->caller_number, "alice");
  EXPECT_EQ(row->callee_name, "Bob");
  EXPECT_EQ(row->callee_number, "bob");
  EXPECT_EQ(row->audio_format, "wav");
  EXPECT_EQ(row->participants.size(), 2u);
  EXPECT_EQ(row->streams.size(), 2u);
  ASSERT_EQ(row->snapshots.size(), 1u);
  EXPECT_EQ(row->snapshots[0].well_formed, 1);
  EXPECT_NE(row->search_text.find("alice"), std::string::npos);
  EXPECT_NE(row->search_text.find("agvsbg8"), std::string::npos);  // siprec session id
}

TEST(RowFromManifestTest, CallerCalleeByChannelThenOrderThenHeaders) {
  ManifestSpec spec;
  // Channels swapped against document order.
  spec.participants = {{"Bob", "sip:bob@example.com", 1}, {"Alice", "tel:+15551234567", 0}};
  Result<CallRow> row = RowFromManifest(MakeManifest(spec), "m");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->caller_name, "Alice");
  EXPECT_EQ(row->caller_number, "+15551234567");
  EXPECT_EQ(row->callee_name, "Bob");

  // No channels: document order.
  spec.participants = {{"Carol", "sip:carol@x", std::nullopt}, {"Dave", "sip:dave@x", {}}};
  row = RowFromManifest(MakeManifest(spec), "m");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->caller_name, "Carol");
  EXPECT_EQ(row->callee_name, "Dave");

  // Only the callee on a channel: the caller is the other participant.
  spec.participants = {{"Erin", "sip:erin@x", std::nullopt}, {"Frank", "sip:frank@x", 1}};
  row = RowFromManifest(MakeManifest(spec), "m");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->caller_name, "Erin");
  EXPECT_EQ(row->callee_name, "Frank");

  // No participants: From / To.
  spec.participants.clear();
  spec.from = "\"Gina\" <sip:+4930111@gw.example.com;user=phone>;tag=x";
  spec.to = "sip:2000@pbx.example.com;tag=y";
  row = RowFromManifest(MakeManifest(spec), "m");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->caller_name, "Gina");
  EXPECT_EQ(row->caller_aor, "sip:+4930111@gw.example.com;user=phone");
  EXPECT_EQ(row->caller_number, "+4930111");
  EXPECT_EQ(row->callee_name, "");
  EXPECT_EQ(row->callee_aor, "sip:2000@pbx.example.com");
  EXPECT_EQ(row->callee_number, "2000");
}

// The stored texts are the manifest as written: unknown fields kept, nothing re-derived.
TEST(RowFromManifestTest, StoresTheManifestAsWritten) {
  nlohmann::json document = testing::MakeManifestJson(ManifestSpec());
  document["replicated_from"] = "rec-b";
  document["participants"][0]["guessed"] = true;
  document["streams"][1]["jitter_ms"] = 3;
  document["times"]["finalized"] = "2026-11-25T09:05:00.8405+01:00";
  Result<CallRow> row = RowFromManifest(testing::ToManifest(document), "m");
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->manifest_json, document.dump());
  EXPECT_EQ(row->participants_json, document["participants"].dump());
  ASSERT_EQ(row->streams.size(), 2u);
  EXPECT_EQ(row->streams[1].json, document["streams"][1].dump());
  EXPECT_EQ(row->streams[1].lost, 1);
  EXPECT_EQ(row->finalized, "2026-11-25T09:05:00.8405+01:00");
  EXPECT_EQ(row->version_ms, 1795593900840);
  ASSERT_EQ(row->snapshots.size(), 1u);
  EXPECT_EQ(row->snapshots[0].at_ms, 1795593600000);
}

// What is not a version-1 manifest is refused by recording::ParseManifest
// (manifest_reader_test.cc); the catalog refuses what it cannot hold, naming the manifest.
TEST(RowFromManifestTest, RejectsWhatTheCatalogCannotHold) {
  const recording::Manifest good = MakeManifest(ManifestSpec());
  auto expect_invalid = [](const recording::Manifest& m, const std::string& why) {
    Result<CallRow> row = RowFromManifest(m, "manifest 7");
    ASSERT_FALSE(row.ok()) << why;
    EXPECT_EQ(row.status().code(), StatusCode::kInvalidArgument) << why;
    EXPECT_NE(row.status().message().find("manifest 7"), std::string::npos) << why;
  };
  recording::Manifest m = good;
  m.call_id.clear();
  expect_invalid(m, "call_id");
  m.call_id = std::string(129, 'c');
  expect_invalid(m, "long call_id");
  m = good;
  m.state = CallState::kActive;
  expect_invalid(m, "active state");
  expect_invalid(recording::Manifest{}, "not read by ParseManifest");
  m = good;
  m.call_id = std::string(128, 'c');
  EXPECT_TRUE(RowFromManifest(m, "m").ok());
}

TEST(RowFromActiveTest, PartiesFromHeadersWhenNoParticipants) {
  ActiveCall call;
  call.call_id = "c1";
  call.node_id = "rec-b";
  call.started_ms = 42;
  call.from = "<sip:1001@pbx>;tag=1";
  call.to = "\"Sales\" <sip:2000@pbx>";
  Result<CallRow> row = RowFromActive(call);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->state, CallState::kActive);
  EXPECT_EQ(row->version_ms, std::nullopt);
  EXPECT_EQ(row->caller_number, "1001");
  EXPECT_EQ(row->callee_name, "Sales");
  EXPECT_EQ(row->callee_number, "2000");
  EXPECT_FALSE(RowFromActive(ActiveCall()).ok());
}

}  // namespace
}  // namespace callvault::catalog::internal
