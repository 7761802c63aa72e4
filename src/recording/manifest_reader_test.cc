#include "recording/manifest_reader.h"

#include <gtest/gtest.h>

#include "base/time_format.h"
#include "recording/manifest.h"

namespace callvault::recording {
namespace {

using nlohmann::json;

constexpr int64_t kMs = 1000000;              // ns
constexpr int64_t kT0 = 1795593600000 * kMs;  // 2026-11-25T08:00:00Z in ns

// Everything BuildManifest writes, each field set to something other than its default.
struct Built {
  SessionLog log;
  StreamInfo info0, info1;
  StreamTimeline timeline0, timeline1;
  ManifestInputs in;

  Built() {
    log.start = json{{"sip_call_id", "a84b4c76e66710@10.0.0.1"},
                     {"src", "10.0.0.1:5060"},
                     {"transport", "UDP"},
                     {"user_agent", "SBC 1.0"},
                     {"from", "\"Alice\" <sip:alice@example.com>;tag=1"},
                     {"to", "<sip:bob@example.com>;tag=2"},
                     {"request_uri", "sip:rec@10.0.0.2"},
                     {"headers", {{"User-to-User", "abc;encoding=hex"}, {"X-Case", "42"}}}};
    log.start_ns = kT0;
    log.first_answer_ns = kT0 + 12 * kMs;
    log.metadata = {{"2026-11-25T08:00:00.000Z", "INVITE", "application/rs-metadata+xml", "<x/>"}};
    log.paused = {{kT0 + 60000 * kMs, kT0 + 90000 * kMs, ""},
                  {kT0 + 100000 * kMs, kT0 + 101000 * kMs, "s1"}};

    info0 = {.id = "s0", .index = 0, .label = "1", .payload_types = {}, .srtp = true};
    info1 = {.id = "s1", .index = 1, .label = "2", .payload_types = {{96, {"opus", 48000, 2}}}};
    StreamStats& a = timeline0.stats;
    a.packets = 14999;
    a.bytes = 2579828;
    a.lost = 1;
    a.duplicates = 2;
    a.reordered = 3;
    a.late = 4;
    a.bad = 5;
    a.auth_failed = 6;
    a.unknown_payload = 7;
    a.gap_markers = 8;
    for (uint32_t i = 0; i < kMaxListedSsrcs + 1; ++i) a.ssrcs.push_back(0x1a2b3c00 + i);
    for (size_t i = 0; i < kMaxListedGaps + 1; ++i)
      a.gaps.push_back({kT0 + 12 * kMs + static_cast<int64_t>(i) * 40 * kMs, 20 * kMs});
    a.dtmf = {{kT0 + 12012 * kMs, '5', 160}, {kT0 + 13012 * kMs, '#', 80}};
    a.payload_type_packets = {{8, 14000}, {0, 10}};
    StreamStats& b = timeline1.stats;
    b.packets = 10;
    b.payload_type_packets = {{96, 10}};

    in.call_id = "01936b2e-7c4a-7d1e-9b0a-4f1e2d3c4b5a";
    in.node_id = "rec-a";
    in.tenant = "acme";
    in.siprec_session_id = "aGVsbG8=";
    in.state = CallState::kTimedOut;
    in.end_reason = "rtp_timeout";
    in.log = &log;
    in.ended_ns = kT0 + 300000 * kMs;
    in.audio = {.file = "2026/11/25/080000_01936b2e_alice_bob.wav",
                .format = "wav",
                .encoding = "pcm_s16le",
                .sample_rate = 16000,
                .channels = 2,
                .origin_ns = kT0 + 12 * kMs,
                .duration_ms = 299988,
                .bytes = 9599404,
                .sha256 = std::string(64, 'a')};
    in.streams = {{.info = &info0, .timeline = &timeline0, .channel = 0, .ignored_bytes = 9},
                  {.info = &info1, .timeline = &timeline1, .channel = -1},
                  {.info = &info1, .timeline = &timeline1, .channel = 1, .in_file = false}};
    in.participants =
        json::array({{{"id", "cDE="},
                      {"name", "Alice"},
                      {"aor", "sip:alice@example.com"},
                      {"channel", 0},
                      {"association", "participantstreamassoc"},
                      {"aors", {"sip:alice@example.com"}}},
                     {{"id", "cDI="}, {"name", nullptr}, {"aor", nullptr}, {"channel", nullptr}}});
    in.metadata_snapshots = json::array({{{"at", "2026-11-25T08:00:00.000Z"},
                                          {"source", "INVITE"},
                                          {"content_type", "application/rs-metadata+xml"},
                                          {"raw", "<?xml version=\"1.0\"?><recording/>"},
                                          {"well_formed", false},
                                          {"problems", {"unclosed tag"}},
                                          {"namespace", "rfc7865"}}});
    in.warnings = {"participant/stream association guessed from document order"};
    in.finalized_ns = kT0 + 300840 * kMs + 999999;  // sub-ms: written as .840
  }
};

Manifest MustParse(const json& m) {
  Result<Manifest> r = ParseManifest(m.dump(2));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : Manifest{};
}

TEST(ManifestReaderTest, RoundTripOfEveryFieldTheFinalizerWrites) {
  const Built b;
  const json built = BuildManifest(b.in);
  const Manifest m = MustParse(built);

  EXPECT_EQ(m.version, 1);
  EXPECT_EQ(m.call_id, b.in.call_id);
  EXPECT_EQ(m.node_id, "rec-a");
  EXPECT_EQ(m.state, CallState::kTimedOut);
  EXPECT_EQ(m.end_reason, "rtp_timeout");
  EXPECT_EQ(m.sip_call_id, "a84b4c76e66710@10.0.0.1");
  EXPECT_EQ(m.siprec_session_id, "aGVsbG8=");
  EXPECT_EQ(m.tenant, "acme");

  EXPECT_EQ(m.times.started_ms, kT0 / kMs);
  EXPECT_EQ(m.times.answered_ms, kT0 / kMs + 12);
  EXPECT_EQ(m.times.ended_ms, kT0 / kMs + 300000);
  EXPECT_EQ(m.times.duration_ms, 299988);
  EXPECT_EQ(m.times.finalized_ms, kT0 / kMs + 300840);
  EXPECT_EQ(m.times.finalized, "2026-11-25T08:05:00.840Z");

  EXPECT_EQ(m.src.address, "10.0.0.1:5060");
  EXPECT_EQ(m.src.transport, "UDP");
  EXPECT_EQ(m.src.user_agent, "SBC 1.0");
  EXPECT_EQ(m.src.from, "\"Alice\" <sip:alice@example.com>;tag=1");
  EXPECT_EQ(m.src.to, "<sip:bob@example.com>;tag=2");
  EXPECT_EQ(m.src.request_uri, "sip:rec@10.0.0.2");
  EXPECT_EQ(m.src.headers, (std::map<std::string, std::string>{{"User-to-User", "abc;encoding=hex"},
                                                               {"X-Case", "42"}}));

  EXPECT_EQ(m.audio.file, b.in.audio.file);
  EXPECT_EQ(m.audio.format, "wav");
  EXPECT_EQ(m.audio.encoding, "pcm_s16le");
  EXPECT_EQ(m.audio.sample_rate, 16000);
  EXPECT_EQ(m.audio.channels, 2);
  EXPECT_EQ(m.audio.started_ms, kT0 / kMs + 12);
  EXPECT_EQ(m.audio.duration_ms, 299988);
  EXPECT_EQ(m.audio.bytes, 9599404);
  EXPECT_EQ(m.audio.sha256, std::string(64, 'a'));

  ASSERT_EQ(m.participants.size(), 2u);
  EXPECT_EQ(m.participants[0].id, "cDE=");
  EXPECT_EQ(m.participants[0].name, "Alice");
  EXPECT_EQ(m.participants[0].aor, "sip:alice@example.com");
  EXPECT_EQ(m.participants[0].channel, 0);
  EXPECT_EQ(m.participants[0].association, "participantstreamassoc");
  EXPECT_EQ(m.participants[0].json, (*b.in.participants)[0]);  // extra fields kept
  EXPECT_EQ(m.participants[1].name, "");
  EXPECT_EQ(m.participants[1].channel, std::nullopt);

  ASSERT_EQ(m.streams.size(), 3u);
  const Manifest::Stream& s0 = m.streams[0];
  EXPECT_EQ(s0.id, "s0");
  EXPECT_EQ(s0.label, "1");
  EXPECT_EQ(s0.index, 0);
  EXPECT_EQ(s0.channel, 0);
  EXPECT_FALSE(s0.mixed);
  EXPECT_EQ(s0.codec, "PCMA");
  EXPECT_EQ(s0.payload_type, 8);
  EXPECT_EQ(s0.clock_rate, 8000);
  EXPECT_TRUE(s0.srtp);
  ASSERT_EQ(s0.ssrcs.size(), kMaxListedSsrcs);
  EXPECT_EQ(s0.ssrcs[0], "0x1a2b3c00");
  EXPECT_TRUE(s0.ssrcs_truncated);
  EXPECT_EQ(s0.packets, 14999);
  EXPECT_EQ(s0.bytes, 2579828);
  EXPECT_EQ(s0.lost, 1);
  EXPECT_EQ(s0.duplicates, 2);
  EXPECT_EQ(s0.reordered, 3);
  EXPECT_EQ(s0.late, 4);
  EXPECT_EQ(s0.bad, 5);
  EXPECT_EQ(s0.auth_failed, 6);
  EXPECT_EQ(s0.unknown_payload, 7);
  EXPECT_EQ(s0.receiver_drops, 8);
  EXPECT_EQ(s0.ignored_bytes, 9);
  ASSERT_EQ(s0.gaps.size(), kMaxListedGaps);
  EXPECT_EQ(s0.gaps[0].at_ms, 0);
  EXPECT_EQ(s0.gaps[0].duration_ms, 20);
  EXPECT_EQ(s0.gaps[2].at_ms, 80);
  EXPECT_TRUE(s0.gaps_truncated);
  ASSERT_EQ(s0.dtmf.size(), 2u);
  EXPECT_EQ(s0.dtmf[0].at_ms, 12000);
  EXPECT_EQ(s0.dtmf[0].digit, "5");
  EXPECT_EQ(s0.dtmf[0].duration_ms, 160);
  EXPECT_EQ(s0.dtmf[1].digit, "#");
  ASSERT_EQ(s0.paused.size(), 1u);  // the call-wide pause only
  EXPECT_EQ(s0.paused[0].at_ms, 60000 - 12);
  EXPECT_EQ(s0.paused[0].duration_ms, 30000);
  EXPECT_EQ(s0.json, built["streams"][0]);

  const Manifest::Stream& s1 = m.streams[1];
  EXPECT_EQ(s1.channel, 0);  // mixed: both channels, written as 0
  EXPECT_TRUE(s1.mixed);
  EXPECT_EQ(s1.codec, "opus");
  EXPECT_EQ(s1.payload_type, 96);
  EXPECT_EQ(s1.clock_rate, 48000);
  EXPECT_FALSE(s1.srtp);
  EXPECT_TRUE(s1.ssrcs.empty());
  EXPECT_FALSE(s1.ssrcs_truncated);
  EXPECT_FALSE(s1.gaps_truncated);
  EXPECT_EQ(s1.paused.size(), 2u);                // call-wide and its own
  EXPECT_EQ(m.streams[2].channel, std::nullopt);  // not in the file

  ASSERT_EQ(m.metadata.size(), 1u);
  EXPECT_EQ(m.metadata[0].at_ms, kT0 / kMs);
  EXPECT_EQ(m.metadata[0].source, "INVITE");
  EXPECT_EQ(m.metadata[0].content_type, "application/rs-metadata+xml");
  EXPECT_EQ(m.metadata[0].raw, "<?xml version=\"1.0\"?><recording/>");
  EXPECT_EQ(m.metadata[0].well_formed, false);
  EXPECT_EQ(m.metadata[0].problems, std::vector<std::string>{"unclosed tag"});
  EXPECT_EQ(m.metadata[0].json, (*b.in.metadata_snapshots)[0]);

  EXPECT_EQ(m.warnings, b.in.warnings);
  EXPECT_EQ(m.document, built);
}

TEST(ManifestReaderTest, NullsAndRawSnapshotsFromTheLog) {
  Built b;
  b.in.tenant.clear();
  b.in.metadata_snapshots.reset();
  b.in.participants.reset();
  b.in.streams.clear();
  b.log.start.reset();
  b.log.start_ns = 0;
  b.log.first_answer_ns = 0;
  b.in.audio.origin_ns = 0;
  b.in.ended_ns = 0;
  const Manifest m = MustParse(BuildManifest(b.in));
  EXPECT_EQ(m.tenant, "");
  EXPECT_EQ(m.node_id, "rec-a");
  EXPECT_EQ(m.sip_call_id, "");
  EXPECT_EQ(m.times.started_ms, std::nullopt);
  EXPECT_EQ(m.times.answered_ms, std::nullopt);
  EXPECT_EQ(m.times.ended_ms, std::nullopt);
  EXPECT_EQ(m.times.duration_ms, 0);
  EXPECT_EQ(m.audio.started_ms, std::nullopt);
  EXPECT_TRUE(m.src.headers.empty());
  EXPECT_TRUE(m.participants.empty());
  EXPECT_TRUE(m.streams.empty());
  ASSERT_EQ(m.metadata.size(), 1u);  // the raw `metadata` line of the log
  EXPECT_EQ(m.metadata[0].raw, "<x/>");
  EXPECT_EQ(m.metadata[0].well_formed, std::nullopt);
}

TEST(ManifestReaderTest, EveryFinalStateReads) {
  for (CallState s : {CallState::kCompleted, CallState::kTimedOut, CallState::kPartial}) {
    Built b;
    b.in.state = s;
    EXPECT_EQ(MustParse(BuildManifest(b.in)).state, s);
  }
}

TEST(ManifestReaderTest, CaptureModeAndPrimary) {
  json m = BuildManifest(Built().in);
  EXPECT_EQ(MustParse(m).capture.mode, "active");
  m["capture"] = {{"mode", "passive"}, {"primary_node_id", "rec-a"}};
  const Manifest passive = MustParse(m);
  EXPECT_EQ(passive.capture.mode, "passive");
  EXPECT_EQ(passive.capture.primary_node_id, "rec-a");
  m.erase("capture");  // written before issue 19
  EXPECT_EQ(MustParse(m).capture.mode, "active");
  EXPECT_EQ(MustParse(m).capture.primary_node_id, "");
}

TEST(ManifestReaderTest, UnknownFieldsAreToleratedAndKept) {
  json m = BuildManifest(Built().in);
  m["replicated_from"] = "rec-b";
  m["times"]["archived"] = "2027-01-01T00:00:00Z";
  m["streams"][0]["jitter_ms"] = 3;
  const Manifest r = MustParse(m);
  EXPECT_EQ(r.call_id, Built().in.call_id);
  EXPECT_EQ(r.document["replicated_from"], "rec-b");
  EXPECT_EQ(r.streams[0].json["jitter_ms"], 3);
}

TEST(ManifestReaderTest, WrongTypesReadAsDefaults) {
  json m = BuildManifest(Built().in);
  m["node_id"] = 7;
  m["src"] = "nope";
  m["audio"]["bytes"] = "many";
  m["audio"]["duration_ms"] = 1.9;
  m["times"]["started"] = "yesterday";
  m["participants"] = {"Alice"};
  m["streams"][0]["mixed"] = 1;
  m["warnings"] = {"w", 3};
  const Manifest r = MustParse(m);
  EXPECT_EQ(r.node_id, "");
  EXPECT_EQ(r.src.address, "");
  EXPECT_EQ(r.audio.bytes, 0);
  EXPECT_EQ(r.audio.duration_ms, 1);
  EXPECT_EQ(r.times.started_ms, std::nullopt);
  ASSERT_EQ(r.participants.size(), 1u);  // one entry per element, all defaults
  EXPECT_EQ(r.participants[0].id, "");
  EXPECT_EQ(r.participants[0].json, "Alice");
  EXPECT_FALSE(r.streams[0].mixed);
  EXPECT_EQ(r.warnings, std::vector<std::string>{"w"});
}

TEST(ManifestReaderTest, RefusesWhatIsNotAManifestThisBuildReads) {
  const json good = BuildManifest(Built().in);
  auto expect = [](const json& m, StatusCode code, std::string_view says) {
    Result<Manifest> r = ManifestFromJson(m);
    ASSERT_FALSE(r.ok()) << says;
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(says), std::string::npos) << r.status().ToString();
  };
  expect(json::array(), StatusCode::kInvalidArgument, "not a JSON object");
  json m = good;
  m["format"] = "other";
  expect(m, StatusCode::kInvalidArgument, "format is \"other\"");
  m.erase("format");
  expect(m, StatusCode::kInvalidArgument, "format is null");
  m = good;
  m["version"] = 3;
  expect(m, StatusCode::kFailedPrecondition, "version 3 is newer than this build reads");
  // As read from text (non-negative integers parse as unsigned), also beyond int64.
  for (std::string_view v : {"3", "18446744073709551615"}) {
    json text = good;
    text["version"] = 1;
    std::string dumped = text.dump();
    dumped.replace(dumped.find("\"version\":1"), 11, "\"version\":" + std::string(v));
    Result<Manifest> r = ParseManifest(dumped);
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << v;
    EXPECT_NE(r.status().message().find("is newer than this build reads (up to 2)"),
              std::string::npos)
        << r.status().ToString();
  }
  m["version"] = 0;
  expect(m, StatusCode::kInvalidArgument, "version is 0");
  m["version"] = -1;
  expect(m, StatusCode::kInvalidArgument, "version is -1");
  m["version"] = "1";
  expect(m, StatusCode::kInvalidArgument, "version is \"1\"");
  m["version"] = 1.5;
  expect(m, StatusCode::kInvalidArgument, "version is 1.5");
  m.erase("version");
  expect(m, StatusCode::kInvalidArgument, "version is null");
  m = good;
  m.erase("call_id");
  expect(m, StatusCode::kInvalidArgument, "no call_id");
  m["call_id"] = "";
  expect(m, StatusCode::kInvalidArgument, "no call_id");
  m = good;
  m["state"] = "active";
  expect(m, StatusCode::kInvalidArgument, "state \"active\" is not a final state");
  m["state"] = "done";
  expect(m, StatusCode::kInvalidArgument, "is not a final state");
  m = good;
  m["times"]["finalized"] = "yesterday";
  expect(m, StatusCode::kInvalidArgument, "times.finalized is not an RFC 3339 time");
  m["times"].erase("finalized");
  expect(m, StatusCode::kInvalidArgument, "times.finalized");
}

TEST(ManifestReaderTest, TextThatIsNotJsonIsDataLoss) {
  for (std::string_view bad : {"", "{", "{\"format\": \"callvault-manifest\",", "not json"}) {
    Result<Manifest> r = ParseManifest(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << bad;
    EXPECT_NE(r.status().message().find("manifest: not JSON"), std::string::npos)
        << r.status().ToString();
  }
  EXPECT_EQ(ParseManifest("[1]").status().code(), StatusCode::kInvalidArgument);
}

TEST(ManifestReaderTest, TimesWithOffsetsAndFractions) {
  json m = BuildManifest(Built().in);
  m["times"]["finalized"] = "2026-11-25T09:05:00.8405+01:00";
  m["times"]["started"] = "2026-11-25 08:00:00Z";
  const Manifest r = MustParse(m);
  EXPECT_EQ(r.times.finalized_ms, kT0 / kMs + 300840);
  EXPECT_EQ(r.times.finalized, "2026-11-25T09:05:00.8405+01:00");  // as written
  EXPECT_EQ(r.times.started_ms, kT0 / kMs);
}

TEST(ManifestReaderTest, EncryptedAudioIsVersion2AndRoundTrips) {
  Built b;
  b.in.audio.encryption =
      ManifestEncryption{.tenant = "acme", .key_id = "0b6c1f4e-k", .plaintext_bytes = 9599404};
  const json built = BuildManifest(b.in);
  EXPECT_EQ(built["version"], 2);
  EXPECT_EQ(built["audio"]["encryption"]["format"], "callvault-encrypted-audio");
  EXPECT_EQ(built["audio"]["encryption"]["version"], 1);
  EXPECT_EQ(built["audio"]["encryption"]["algorithm"], "aes-256-gcm-chunked");
  const Manifest m = MustParse(built);
  EXPECT_EQ(m.version, 2);
  ASSERT_TRUE(m.audio.encryption.has_value());
  EXPECT_EQ(m.audio.encryption->tenant, "acme");
  EXPECT_EQ(m.audio.encryption->key_id, "0b6c1f4e-k");
  EXPECT_EQ(m.audio.encryption->plaintext_bytes, 9599404);
  EXPECT_EQ(m.audio.encryption->version, 1);
  // Plain audio stays version 1 with no encryption block: version-1 readers keep reading it.
  const json plain = BuildManifest(Built().in);
  EXPECT_EQ(plain["version"], 1);
  EXPECT_FALSE(plain["audio"].contains("encryption"));
  EXPECT_FALSE(MustParse(plain).audio.encryption.has_value());
}

TEST(ManifestReaderTest, RefusesAnEncryptionBlockItCannotTrust) {
  Built b;
  b.in.audio.encryption = ManifestEncryption{.tenant = "acme", .key_id = "k1"};
  const json good = BuildManifest(b.in);
  auto refused = [](json m, std::string_view says) {
    Result<Manifest> r = ManifestFromJson(std::move(m));
    ASSERT_FALSE(r.ok()) << says;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find(says), std::string::npos) << r.status().ToString();
  };
  json m = good;
  m["version"] = 1;  // a version-1 reader would ignore the block and serve ciphertext
  refused(m, "audio.encryption in a version 1 manifest");
  m = good;
  m["audio"]["encryption"] = "yes";
  refused(m, "audio.encryption is not an object");
  m = good;
  m["audio"]["encryption"]["format"] = "other";
  refused(m, "format is \"other\"");
  m = good;
  m["audio"]["encryption"].erase("key_id");
  refused(m, "needs tenant and key_id");
  m = good;
  m["audio"]["encryption"] = nullptr;  // null reads as absent: plain audio
  EXPECT_TRUE(ManifestFromJson(m).ok());
}

}  // namespace
}  // namespace callvault::recording
