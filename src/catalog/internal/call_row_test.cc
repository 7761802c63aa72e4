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

TEST(RowFromManifestTest, RejectsWhatIsNotAVersion1Manifest) {
  const nlohmann::json good = MakeManifest(ManifestSpec());
  auto expect_invalid = [](const nlohmann::json& m, const std::string& why) {
    Result<CallRow> row = RowFromManifest(m, "manifest 7");
    ASSERT_FALSE(row.ok()) << why;
    EXPECT_EQ(row.status().code(), StatusCode::kInvalidArgument) << why;
    EXPECT_NE(row.status().message().find("manifest 7"), std::string::npos) << why;
  };
  expect_invalid(nlohmann::json::array(), "array");
  nlohmann::json m = good;
  m["format"] = "other";
  expect_invalid(m, "format");
  m = good;
  m["version"] = 2;
  expect_invalid(m, "version");
  m = good;
  m.erase("call_id");
  expect_invalid(m, "call_id");
  m = good;
  m["state"] = "active";
  expect_invalid(m, "active state");
  m = good;
  m["times"]["finalized"] = "yesterday";
  expect_invalid(m, "finalized");
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
