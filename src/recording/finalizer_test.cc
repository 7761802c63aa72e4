// Finalizing whole spool directories: tones on both channels, loss, reordering, SSRC change,
// holds, DTMF and the manifest.
#include "recording/finalizer.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "base/fault_injecting_fs.h"
#include "base/time_format.h"
#include "crypto/sha256.h"
#include "media/call_spool_writer.h"
#include "media/spool_format.h"
#include "recording/testing/finalizer_fixture.h"

namespace callvault::recording {
namespace {

using testing::FinalizerTest;
using testing::Goertzel;
using testing::kMs;
using testing::kSec;
using testing::kT0;
using testing::MakeStream;
using testing::Packet;
using testing::ReadWav;
using testing::Rms;
using testing::SpoolBuilder;
using testing::StreamSpec;

TEST_F(FinalizerTest, TwoTonesGoToTheirChannelsWithTheRightDuration) {
  TwoToneCall("call-1", 10);
  Result<FinalizeResult> r = FinalizeCall(fs_, clock_, Options(), {.spool_dir = Spool("call-1")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const testing::Wav w = ReadWav(r->audio_path);
  ASSERT_EQ(w.channels, 2);
  EXPECT_EQ(w.rate, 8000);
  const double seconds = static_cast<double>(w.left.size()) / w.rate;
  EXPECT_NEAR(seconds, 10.0, 0.1);  // within 1 %
  const size_t mid = w.left.size() / 2;
  EXPECT_GT(Goertzel(w.left, mid, 4000, 8000, 1000), 100 * Goertzel(w.left, mid, 4000, 8000, 2000));
  EXPECT_GT(Goertzel(w.right, mid, 4000, 8000, 2000),
            100 * Goertzel(w.right, mid, 4000, 8000, 1000));
  const nlohmann::json& m = r->manifest;
  EXPECT_EQ(m["state"], "completed");
  EXPECT_EQ(m["end_reason"], "bye");
  EXPECT_EQ(m["call_id"], "call-1");
  EXPECT_EQ(m["sip_call_id"], "abc@10.0.0.1");
  EXPECT_EQ(m["audio"]["channels"], 2);
  EXPECT_EQ(m["audio"]["sha256"], crypto::Sha256Hex(fs_.ReadFile(r->audio_path).value()));
  EXPECT_EQ(m["audio"]["bytes"], fs_.FileSize(r->audio_path).value());
  ASSERT_EQ(m["streams"].size(), 2u);
  EXPECT_EQ(m["streams"][0]["codec"], "PCMU");
  EXPECT_EQ(m["streams"][0]["channel"], 0);
  EXPECT_EQ(m["streams"][1]["codec"], "PCMA");
  EXPECT_EQ(m["streams"][1]["channel"], 1);
  EXPECT_EQ(m["streams"][1]["packets"], 500);
  EXPECT_EQ(m["streams"][1]["lost"], 0);  // across the sequence and timestamp wrap
  EXPECT_EQ(m["streams"][1]["ssrcs"][0], "0x000000b2");
  // The manifest on disk is the one returned; the spool is gone.
  EXPECT_EQ(nlohmann::json::parse(fs_.ReadFile(r->manifest_path).value()), m);
  EXPECT_FALSE(fs_.Exists(Spool("call-1")));
  EXPECT_NE(r->audio_path.find("/recordings/2026/11/25/094640_call-1.wav"), std::string::npos)
      << r->audio_path;
}

TEST_F(FinalizerTest, LossKeepsDurationAndIsCountedWhereItHappened) {
  std::vector<Packet> left;
  SpoolBuilder b(&fs_, Spool("loss"), kT0);
  b.Start(kT0);
  b.Stream(kT0, "s0", 0, "PCMU", 0);
  b.Stream(kT0, "s1", 1, "PCMU", 0);
  std::vector<Packet> l = MakeStream({.start_ns = kT0, .seconds = 10});
  l.erase(l.begin() + 200, l.begin() + 205);  // 100 ms at 4.0 s
  b.Rtp("s0", l);
  b.Rtp("s1", MakeStream({.ssrc = 5, .start_ns = kT0, .seconds = 10}));
  b.End(kT0 + 10 * kSec);
  b.Close();
  Result<FinalizeResult> r = FinalizeCall(fs_, clock_, Options(), {.spool_dir = Spool("loss")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const testing::Wav w = ReadWav(r->audio_path);
  EXPECT_NEAR(static_cast<double>(w.left.size()) / 8000, 10.0, 0.1);
  const nlohmann::json& s0 = r->manifest["streams"][0];
  EXPECT_EQ(s0["lost"], 5);
  ASSERT_EQ(s0["gaps"].size(), 1u);
  // 4.0 s after the first sample, which is sent 20 ms + 40 ms delay after kT0... anchored at
  // the answer: the gap starts at 4.0 s of media time + the origin offset.
  EXPECT_NEAR(s0["gaps"][0]["at_ms"].get<int64_t>(), 4000 + 60, 25);
  EXPECT_EQ(s0["gaps"][0]["duration_ms"], 100);
  // After the gap the tone is back where it belongs: the channels stay in step.
  const size_t at = static_cast<size_t>(6.0 * 8000);
  EXPECT_GT(Goertzel(w.left, at, 800, 8000, 1000), 1e3 * Goertzel(w.left, at, 800, 8000, 1700));
  // Concealment then silence: the middle of the 100 ms hole is quiet.
  EXPECT_LT(Rms(w.left, static_cast<size_t>(4.14 * 8000), 160), 500);
}

TEST_F(FinalizerTest, ReorderingAndDuplicatesGiveTheSameAudioAsInOrder) {
  auto build = [&](const std::string& id, bool shuffle) {
    SpoolBuilder b(&fs_, Spool(id), kT0);
    b.Start(kT0);
    b.Stream(kT0, "s0", 0, "PCMU", 0);
    std::vector<Packet> p =
        MakeStream({.start_ns = kT0, .seconds = 6, .signal = testing::Tone(700)});
    if (shuffle) {
      for (size_t i = 50; i + 1 < p.size(); i += 37) {  // overtaken: seq n arrives after n+1
        p[i].arrival_ns = p[i + 1].arrival_ns + 1'000'000;
        std::swap(p[i], p[i + 1]);
      }
      for (size_t i = 20; i < p.size(); i += 53)
        p.insert(p.begin() + i + 3, p[i]);  // late duplicate
    }
    b.Rtp("s0", p);
    b.End(kT0 + 6 * kSec);
    b.Close();
    return FinalizeCall(fs_, clock_, Options(), {.spool_dir = Spool(id)});
  };
  Result<FinalizeResult> a = build("inorder", false);
  Result<FinalizeResult> b = build("shuffled", true);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_GT(b->manifest["streams"][0]["reordered"].get<int>(), 0);
  EXPECT_GT(b->manifest["streams"][0]["duplicates"].get<int>(), 0);
  EXPECT_EQ(b->manifest["streams"][0]["lost"], 0);
  EXPECT_EQ(b->manifest["streams"][0]["mixed"], true);
  const testing::Wav wa = ReadWav(a->audio_path), wb = ReadWav(b->audio_path);
  EXPECT_EQ(wa.left, wb.left);
  EXPECT_EQ(wa.left, wa.right);  // one mixed stream: the same content on both channels
}

// Regression: a packet delayed 300 ms in the network was anchored at its arrival, mixed into
// later audio and never counted as late (break threshold 200 ms = late threshold).
TEST_F(FinalizerTest, ALatePacketIsPlacedByItsTimestampAndCountedLate) {
  auto build = [&](const std::string& id, bool delay) {
    SpoolBuilder b(&fs_, Spool(id), kT0);
    b.Start(kT0);
    b.Stream(kT0, "s0", 0, "PCMU", 0);
    std::vector<Packet> p =
        MakeStream({.start_ns = kT0, .seconds = 6, .signal = testing::Tone(700)});
    if (delay) {
      Packet late = p[100];
      late.arrival_ns += 300'000'000;
      p.erase(p.begin() + 100);
      p.insert(p.begin() + 115, late);  // arrives after the 15 packets that followed it
    }
    b.Rtp("s0", p);
    b.End(kT0 + 6 * kSec);
    b.Close();
    return FinalizeCall(fs_, clock_, Options(), {.spool_dir = Spool(id)});
  };
  Result<FinalizeResult> a = build("ontime", false);
  Result<FinalizeResult> b = build("late", true);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(b->manifest["streams"][0]["late"], 1);
  EXPECT_EQ(b->manifest["streams"][0]["reordered"], 1);
  EXPECT_EQ(b->manifest["streams"][0]["lost"], 0);
  EXPECT_EQ(ReadWav(a->audio_path).left, ReadWav(b->audio_path).left);
}

TEST_F(FinalizerTest, SsrcChangeMidStreamContinuesOnTheWallClock) {
  SpoolBuilder b(&fs_, Spool("ssrc"), kT0);
  b.Start(kT0);
  b.Stream(kT0, "s0", 0, "PCMU", 0);
  b.Stream(kT0, "s1", 1, "PCMU", 0);
  std::vector<Packet> p = MakeStream({.ssrc = 1, .start_ns = kT0, .seconds = 5});
  std::vector<Packet> q = MakeStream(
      {.ssrc = 2, .seq0 = 7, .ts0 = 999, .start_ns = kT0 + 5 * kSec, .start_s = 5, .seconds = 5});
  p.insert(p.end(), q.begin(), q.end());
  b.Rtp("s0", p);
  b.Rtp("s1",
        MakeStream({.ssrc = 3, .start_ns = kT0, .seconds = 10, .signal = testing::Tone(2000)}));
  b.End(kT0 + 10 * kSec);
  b.Close();
  Result<FinalizeResult> r = FinalizeCall(fs_, clock_, Options(), {.spool_dir = Spool("ssrc")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const testing::Wav w = ReadWav(r->audio_path);
  EXPECT_NEAR(static_cast<double>(w.left.size()) / 8000, 10.0, 0.1);
  EXPECT_EQ(r->manifest["streams"][0]["ssrcs"].size(), 2u);
  EXPECT_EQ(r->manifest["streams"][0]["lost"], 0);
  for (double t : {2.0, 7.0}) EXPECT_GT(Rms(w.left, static_cast<size_t>(t * 8000), 800), 3000) << t;
}

// A pause is per stream (the `state` line names it), and what an SRC still sends while a stream
// is paused (a user pause for privacy) is not in the recording.
TEST_F(FinalizerTest, APausedStreamIsSilentEvenIfTheSrcKeepsSending) {
  SpoolBuilder b(&fs_, Spool("pause"), kT0);
  b.Start(kT0);
  b.Stream(kT0, "s0", 0, "PCMU", 0);
  b.Stream(kT0, "s1", 1, "PCMU", 0);
  b.Rtp("s0", MakeStream({.ssrc = 1, .start_ns = kT0, .seconds = 10}));
  b.Rtp("s1",
        MakeStream({.ssrc = 2, .start_ns = kT0, .seconds = 10, .signal = testing::Tone(2000)}));
  b.Line(kT0 + 4 * kSec, "state", {{"stream", "s1"}, {"state", "paused"}});
  b.Line(kT0 + 7 * kSec, "state", {{"stream", "s1"}, {"state", "resumed"}});
  b.End(kT0 + 10 * kSec);
  b.Close();
  Result<FinalizeResult> r = FinalizeCall(fs_, clock_, Options(), {.spool_dir = Spool("pause")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->manifest["streams"][0]["paused"].empty());
  ASSERT_EQ(r->manifest["streams"][1]["paused"].size(), 1u);
  EXPECT_NEAR(r->manifest["streams"][1]["paused"][0]["duration_ms"].get<int>(), 3000, 1);
  const testing::Wav w = ReadWav(r->audio_path);
  EXPECT_GT(Rms(w.right, 2 * 8000, 800), 3000);
  EXPECT_LT(Rms(w.right, static_cast<size_t>(4.1 * 8000), 7000), 1);  // 4.1 s .. 4.975 s
  EXPECT_GT(Rms(w.right, static_cast<size_t>(7.5 * 8000), 800), 3000);
  EXPECT_GT(Rms(w.left, static_cast<size_t>(5 * 8000), 800), 3000);  // the other side records
}

// What siprec/ writes into the `end` line (state, participants, parsed metadata, channels) is
// used when the request does not repeat it: recovery and the normal path pass only the spool.
TEST_F(FinalizerTest, TheEndLineCarriesStateParticipantsMetadataAndChannels) {
  SpoolBuilder b(&fs_, Spool("endline"), kT0);
  b.Start(kT0);
  b.Stream(kT0, "s0", 0, "PCMU", 0);
  b.Stream(kT0, "s1", 1, "PCMU", 0);
  b.Rtp("s0", MakeStream({.ssrc = 1, .start_ns = kT0, .seconds = 3}));
  b.Rtp("s1",
        MakeStream({.ssrc = 2, .start_ns = kT0, .seconds = 3, .signal = testing::Tone(2000)}));
  b.Line(kT0 + 3 * kSec, "end",
         {{"reason", "terminated"},
          {"state", "timed_out"},
          {"participants", {{{"id", "p1"}, {"aor", "sip:a@x"}, {"channel", 1}}}},
          {"metadata", {{{"source", "INVITE"}, {"well_formed", true}}}},
          {"stream_channels", {{"s0", 1}, {"s1", 0}}}});
  b.Close();
  Result<FinalizeResult> r = FinalizeCall(fs_, clock_, Options(), {.spool_dir = Spool("endline")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->manifest["state"], "timed_out");
  EXPECT_EQ(r->manifest["participants"][0]["aor"], "sip:a@x");
  EXPECT_EQ(r->manifest["metadata"][0]["well_formed"], true);
  EXPECT_EQ(r->manifest["streams"][0]["channel"], 1);
  EXPECT_EQ(r->manifest["streams"][1]["channel"], 0);
}

TEST_F(FinalizerTest, ACrashedCallTakesParticipantsFromItsLastParticipantsLine) {
  SpoolBuilder b(&fs_, Spool("crashed"), kT0);
  b.Start(kT0);
  b.Stream(kT0, "s0", 0, "PCMU", 0);
  b.Stream(kT0, "s1", 1, "PCMU", 0);
  b.Line(kT0, "participants",
         {{"participants", {{{"id", "p1"}, {"aor", "sip:old@x"}, {"channel", 0}}}},
          {"stream_channels", {{"s0", 0}, {"s1", 1}}},
          {"siprec_session_id", "sess-1"}});
  b.Line(kT0 + kSec, "participants",
         {{"participants",
           {{{"id", "p1"}, {"aor", "sip:alice@x"}, {"channel", 1}},
            {{"id", "p2"}, {"aor", "sip:bob@x"}, {"channel", 0}}}},
          {"stream_channels", {{"s0", 1}, {"s1", 0}}},
          {"siprec_session_id", "sess-2"}});
  b.Rtp("s0", MakeStream({.ssrc = 1, .start_ns = kT0, .seconds = 2}));
  b.Rtp("s1", MakeStream({.ssrc = 2, .start_ns = kT0, .seconds = 2}));
  b.Close();  // no `end` line: a crash
  Result<FinalizeResult> r = FinalizeCall(fs_, clock_, Options(), {.spool_dir = Spool("crashed")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->manifest["state"], "partial");
  ASSERT_EQ(r->manifest["participants"].size(), 2u);
  EXPECT_EQ(r->manifest["participants"][0]["aor"], "sip:alice@x");
  EXPECT_EQ(r->manifest["siprec_session_id"], "sess-2");
  EXPECT_EQ(r->manifest["streams"][0]["channel"], 1);
  EXPECT_EQ(r->manifest["streams"][1]["channel"], 0);
}

TEST_F(FinalizerTest, EveryOutboxQueueGetsAnEntryNamingTheManifest) {
  const std::string id = "0193a000-0000-7000-8000-000000000001";
  TwoToneCall(id, 1);
  outbox::Outbox box(tmp_.path() + "/outbox", &fs_, nullptr);
  ASSERT_TRUE(box.OpenQueue("catalog").ok());
  ASSERT_TRUE(box.OpenQueue("upload").ok());
  FinalizeOptions o = Options();
  o.outbox = &box;
  o.outbox_queues = {"catalog", "upload"};
  Result<FinalizeResult> r = FinalizeCall(fs_, clock_, o, {.spool_dir = Spool(id)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const std::string& queue : o.outbox_queues) {
    Result<std::string> text = fs_.ReadFile(box.EntryPath(queue, id));
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    const nlohmann::json e = nlohmann::json::parse(*text);
    EXPECT_EQ(e["format"], "callvault-outbox");
    EXPECT_EQ(e["version"], 1);
    EXPECT_EQ(e["call_id"], id);
    EXPECT_EQ(o.recordings_dir + "/" + e["manifest"].get<std::string>(), r->manifest_path);
    EXPECT_EQ(e["state"], "completed");
    EXPECT_EQ(e["finalized"], r->manifest["times"]["finalized"]);
  }
  EXPECT_FALSE(fs_.Exists(Spool(id)));
}

TEST_F(FinalizerTest, AnUnwritableOutboxKeepsTheSpoolForTheNextRun) {
  const std::string id = "0193a000-0000-7000-8000-000000000002";
  TwoToneCall(id, 1);
  outbox::Outbox box(tmp_.path() + "/outbox", &fs_, nullptr);
  ASSERT_TRUE(box.OpenQueue("catalog").ok());
  FinalizeOptions o = Options();
  o.outbox = &box;
  o.outbox_queues = {"catalog"};
  // The queue's bucket cannot be made: a file is in the way.
  const std::string bucket = tmp_.path() + "/outbox/catalog/" + id.substr(0, 8);
  ASSERT_TRUE(WriteFileDurably(fs_, bucket, "a file, not a directory").ok());
  EXPECT_FALSE(FinalizeCall(fs_, clock_, o, {.spool_dir = Spool(id)}).ok());
  EXPECT_TRUE(fs_.Exists(Spool(id)));  // nothing handed off: nothing retired
  ASSERT_TRUE(fs_.Remove(bucket).ok());
  Result<FinalizeResult> r = FinalizeCall(fs_, clock_, o, {.spool_dir = Spool(id)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(box.Contains("catalog", id));
  EXPECT_FALSE(fs_.Exists(Spool(id)));
}

TEST_F(FinalizerTest, HoldIsSilenceOfTheRightLength) {
  SpoolBuilder b(&fs_, Spool("hold"), kT0);
  b.Start(kT0);
  b.Stream(kT0, "s0", 0, "PCMU", 0);
  b.Stream(kT0, "s1", 1, "PCMU", 0);
  for (const std::string id : {"s0", "s1"}) {
    const uint32_t ssrc = id == "s0" ? 1 : 2;
    // 5 s talk, 30 s hold (no packets, timestamps keep running), 5 s talk.
    std::vector<Packet> p = MakeStream({.ssrc = ssrc, .start_ns = kT0, .seconds = 5});
    std::vector<Packet> q = MakeStream({.ssrc = ssrc,
                                        .seq0 = 1250,
                                        .ts0 = 123456 + 35 * 8000,
                                        .start_ns = kT0 + 35 * kSec,
                                        .start_s = 35,
                                        .seconds = 5});
    p.insert(p.end(), q.begin(), q.end());
    b.Rtp(id, p);
  }
  b.Line(kT0 + 5 * kSec, "state", {{"state", "paused"}});
  b.Line(kT0 + 35 * kSec, "state", {{"state", "resumed"}});
  b.End(kT0 + 40 * kSec);
  b.Close();
  Result<FinalizeResult> r = FinalizeCall(fs_, clock_, Options(), {.spool_dir = Spool("hold")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const testing::Wav w = ReadWav(r->audio_path);
  EXPECT_NEAR(static_cast<double>(w.left.size()) / 8000, 40.0, 0.4);
  EXPECT_LT(Rms(w.left, 6 * 8000, 28 * 8000), 1.0);
  EXPECT_GT(Rms(w.left, 36 * 8000, 8000), 3000);
  EXPECT_GT(Rms(w.left, 4 * 8000, 4000), 3000);
  EXPECT_EQ(r->manifest["streams"][0]["lost"], 0);
  ASSERT_EQ(r->manifest["streams"][0]["paused"].size(), 1u);
  EXPECT_NEAR(r->manifest["streams"][0]["paused"][0]["duration_ms"].get<int>(), 30000, 1);
}

TEST_F(FinalizerTest, ManifestCarriesWhatTheCallerAndTheSessionLogKnow) {
  SpoolBuilder b(&fs_, Spool("meta"), kT0);
  b.Start(kT0);
  b.Line(kT0 + 2 * kMs, "sdp", {{"source", "INVITE"}, {"offer", "v=0"}, {"answer", "v=0"}});
  b.Line(kT0 + 2 * kMs, "metadata",
         {{"source", "INVITE"}, {"content_type", "application/rs-metadata+xml"}, {"raw", "<r/>"}});
  b.Stream(kT0, "s0", 0, "PCMU", 0);
  b.Rtp("s0", MakeStream({.start_ns = kT0, .seconds = 2}));
  b.Line(kT0 + 2 * kSec, "end",
         {{"reason", "rtp_timeout"},
          {"siprec_session_id", "aGVsbG8="},
          {"warnings", {"from siprec"}}});
  b.Close();
  const nlohmann::json participants = {{{"id", "p1"}, {"aor", "sip:alice@a"}, {"channel", 0}}};
  Result<FinalizeResult> r = FinalizeCall(
      fs_, clock_, Options(),
      {.spool_dir = Spool("meta"), .participants = participants, .warnings = {"from caller"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const nlohmann::json& m = r->manifest;
  EXPECT_EQ(m["state"], "timed_out");
  EXPECT_EQ(m["end_reason"], "rtp_timeout");
  EXPECT_EQ(m["siprec_session_id"], "aGVsbG8=");
  EXPECT_EQ(m["participants"], participants);
  EXPECT_EQ(m["metadata"][0]["raw"], "<r/>");
  EXPECT_EQ(m["warnings"][0], "from siprec");
  EXPECT_EQ(m["warnings"][1], "from caller");
  EXPECT_EQ(m["times"]["answered"], "2026-11-25T09:46:40.002Z");
  EXPECT_EQ(m["times"]["ended"], "2026-11-25T09:46:42.000Z");
  EXPECT_EQ(m["times"]["duration_ms"], 1998);
  EXPECT_EQ(m["src"]["headers"]["X-Test"], "1");
  EXPECT_EQ(m["audio"]["started"], "2026-11-25T09:46:40.002Z");
}

TEST_F(FinalizerTest, HoldWithoutTimestampAdvanceIsReanchoredNotCompressed) {
  // Some SRCs keep the RTP timestamp running on from where it stopped after a hold: the 30 s
  // must still be 30 s of silence, and the DTMF digit after it lands at its wall time.
  SpoolBuilder b(&fs_, Spool("hold2"), kT0);
  b.Start(kT0);
  b.Stream(kT0, "s0", 0, "PCMU", 0);
  b.Stream(kT0, "s1", 1, "PCMU", 0);
  std::vector<Packet> p = MakeStream({.ssrc = 1, .start_ns = kT0, .seconds = 5});
  std::vector<Packet> q = MakeStream({.ssrc = 1,
                                      .seq0 = 1250,
                                      .ts0 = 123456 + 5 * 8000,
                                      .start_ns = kT0 + 35 * kSec,
                                      .start_s = 35,
                                      .seconds = 5});
  q[0].marker = true;
  for (int k = 0; k < 4; ++k) {  // digit 7 at 37 s: 4 packets, the last with the end bit
    Packet& e = q[100 + k];
    e.pt = 101;
    e.ts = q[100].ts;
    const int duration = 160 * (k + 1);
    e.payload = {7, static_cast<char>(k == 3 ? 0x8a : 0x0a), static_cast<char>(duration >> 8),
                 static_cast<char>(duration & 0xff)};
  }
  p.insert(p.end(), q.begin(), q.end());
  b.Rtp("s0", p);
  b.Rtp("s1",
        MakeStream({.ssrc = 2, .start_ns = kT0, .seconds = 40, .signal = testing::Tone(2000)}));
  b.End(kT0 + 40 * kSec);
  b.Close();
  Result<FinalizeResult> r =
      FinalizeCall(fs_, clock_, Options(),
                   {.spool_dir = Spool("hold2"), .stream_channels = {{"s0", 1}, {"s1", 0}}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const testing::Wav w = ReadWav(r->audio_path);
  // s0 is on the right this time (the caller said so).
  EXPECT_LT(Rms(w.right, 6 * 8000, 28 * 8000), 1.0);
  EXPECT_GT(Rms(w.right, 36 * 8000, 4000), 3000);
  EXPECT_GT(Goertzel(w.left, 20 * 8000, 800, 8000, 2000),
            1e3 * Goertzel(w.left, 20 * 8000, 800, 8000, 1000));
  const nlohmann::json& s0 = r->manifest["streams"][0];
  EXPECT_EQ(s0["channel"], 1);
  EXPECT_EQ(s0["lost"], 0);
  ASSERT_EQ(s0["dtmf"].size(), 1u);
  EXPECT_EQ(s0["dtmf"][0]["digit"], "7");
  EXPECT_EQ(s0["dtmf"][0]["duration_ms"], 80);
  EXPECT_NEAR(s0["dtmf"][0]["at_ms"].get<int>(), 37000 + 60, 25);
}

// Issue 21: a disk that stayed full past the memory budget at the end of a call. The spool holds
// what was kept and an unwritten marker; the manifest counts the rest, lists it as a gap with its
// reason and names the seconds in a warning; the call ended by BYE, so it is `completed`.
TEST_F(FinalizerTest, PacketsTheDiskRefusedAreCountedListedAndWarnedAbout) {
  FaultInjectingFs ffs(&fs_);
  SpoolBuilder b(&fs_, Spool("full"), kT0);
  b.Start(kT0);
  b.Stream(kT0, "s0", 0, "PCMU", 0);
  const std::vector<Packet> packets = MakeStream({.start_ns = kT0, .seconds = 10});  // 500
  const std::string path = Spool("full") + "/" + std::string(media::spool::kCallSpoolName);
  auto w = media::CallSpoolWriter::Create(&ffs, path, {.max_buffer_bytes = 8192}).value();
  const uint16_t slot = w->AddSlot("s0", kT0).value();
  for (size_t i = 0; i < packets.size(); ++i) {
    if (i == 300) ffs.InjectFault(FsOp::kAppend, path, ENOSPC, 1, /*repeat=*/true);  // at 6 s
    w->Append(slot, media::spool::RecordKind::kRtp, 0, packets[i].arrival_ns, packets[i].Bytes());
    if (i % 10 == 9) (void)w->Flush();
  }
  EXPECT_EQ(w->Close().code(), StatusCode::kResourceExhausted);  // kept for the disk
  ffs.ClearFaults();
  ASSERT_TRUE(w->Close().ok());
  const uint64_t dropped = w->dropped_records();
  ASSERT_GT(dropped, 100u);
  b.End(kT0 + 10 * kSec);
  b.Close();
  Result<FinalizeResult> r = FinalizeCall(fs_, clock_, Options(), {.spool_dir = Spool("full")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const nlohmann::json& m = r->manifest;
  EXPECT_EQ(m["state"], "completed");
  const nlohmann::json& s0 = m["streams"][0];
  EXPECT_EQ(s0["not_written"], dropped);
  EXPECT_EQ(s0["packets"].get<uint64_t>() + dropped, 500u);
  const nlohmann::json* span = nullptr;
  for (const auto& g : s0["gaps"])
    if (g.value("reason", "") == "disk_full") span = &g;
  ASSERT_NE(span, nullptr) << s0["gaps"].dump();
  EXPECT_EQ((*span)["packets"], dropped);
  // The last `dropped` packets are missing: from packet 500 - dropped to the end (10 s).
  const int64_t origin = *ParseRfc3339Ns(m["audio"]["started"].get<std::string>());
  EXPECT_NEAR((*span)["at_ms"].get<int64_t>(), (packets[500 - dropped].arrival_ns - origin) / kMs,
              1);
  EXPECT_NEAR((*span)["at_ms"].get<int64_t>() + (*span)["duration_ms"].get<int64_t>(),
              (packets[499].arrival_ns - origin) / kMs, 1);
  bool warned = false;
  for (const auto& w : m["warnings"])
    warned = warned ||
             w.get<std::string>().find(std::to_string(dropped) +
                                       " packets received but not written") != std::string::npos;
  EXPECT_TRUE(warned) << m["warnings"].dump();
}

// The finalizer never starts audio it has no room for: the name is not even claimed.
TEST_F(FinalizerTest, NoRoomForTheAudioFailsBeforeANameIsClaimed) {
  TwoToneCall("room", 10);
  FinalizeOptions o = Options();
  ASSERT_TRUE(fs_.CreateDirs(o.recordings_dir).ok());
  FaultInjectingFs tiny(&fs_);
  tiny.SetFreeBytes(100 << 10);  // 100 KiB: a 10 s WAV needs ~320 KiB
  Result<FinalizeResult> r = FinalizeCall(tiny, clock_, o, {.spool_dir = Spool("room")});
  ASSERT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  EXPECT_NE(r.status().message().find("no room for the recording"), std::string::npos);
  EXPECT_FALSE(fs_.Exists(Spool("room") + "/CLAIM"));
  EXPECT_TRUE(fs_.ListDir(o.recordings_dir).value().empty());
  ASSERT_TRUE(FinalizeCall(fs_, clock_, o, {.spool_dir = Spool("room")}).ok());  // room again
}

// A crash (or a stop that gave up) while the disk refused the spool leaves DISK_FULL.<ns>: the
// recording says from when the records were lost.
TEST_F(FinalizerTest, ALeftoverOutageMarkerIsAWarningNamingWhen) {
  TwoToneCall("outage", 10, nullptr, /*end=*/false);  // crashed: no end line
  ASSERT_TRUE(
      WriteFileDurably(fs_, Spool("outage") + "/DISK_FULL." + std::to_string(kT0 + 6 * kSec), "")
          .ok());
  Result<FinalizeResult> r = FinalizeCall(fs_, clock_, Options(), {.spool_dir = Spool("outage")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->manifest["state"], "partial");
  double from = -1;
  const std::string key = "refused this call's writes from ";
  for (const auto& w : r->manifest["warnings"])
    if (size_t at = w.get<std::string>().find(key); at != std::string::npos)
      from = std::stod(w.get<std::string>().substr(at + key.size()));
  EXPECT_NEAR(from, 6.0, 0.2) << r->manifest["warnings"].dump();
}

}  // namespace
}  // namespace callvault::recording
