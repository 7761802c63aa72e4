// Recorder tests: real SIP messages through a real sip::Shard into the Recorder, a fake
// RecordingBackend underneath. Message in → SIP answer and backend calls out.
#include "siprec/recorder.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "sip/shard.h"
#include "siprec/testing/recorder_fixture.h"
#include "siprec/multipart.h"
#include "siprec/sdp.h"

namespace callvault::siprec {
namespace {

using namespace std::chrono_literals;

using testing::FakeBackend;
using testing::kMetadata;
using testing::kSdp;
using testing::Multipart;
using testing::RecorderTest;

TEST_F(RecorderTest, SiprecInviteIsAnsweredAndRecordedUntilBye) {
  Deliver("INVITE", 1, "multipart/mixed;boundary=b1", Multipart(kSdp, kMetadata));
  sip::Message ok = Final();
  ASSERT_EQ(ok.status_code, 200) << last_;
  std::string answer(ok.body);
  EXPECT_NE(answer.find("m=audio 40000 RTP/AVP 8 101\r\n"), std::string::npos) << answer;
  EXPECT_NE(answer.find("m=audio 40002 RTP/AVP 8 101\r\n"), std::string::npos) << answer;
  EXPECT_NE(answer.find("a=label:1"), std::string::npos);
  EXPECT_NE(answer.find("a=recvonly"), std::string::npos);
  EXPECT_NE(answer.find("c=IN IP4 192.0.2.20"), std::string::npos);
  ASSERT_EQ(backend_.begun.size(), 1u);
  EXPECT_EQ(backend_.begun[0].sip_call_id, "rec-1@src");
  EXPECT_EQ(backend_.begun[0].user_agent, "TestSRC");
  EXPECT_EQ(backend_.begun[0].headers.value("X-Tenant-Hint", ""), "acme");
  EXPECT_EQ(backend_.opened.size(), 2u);
  EXPECT_GE(backend_.syncs, 1);
  EXPECT_EQ(backend_.Events("metadata").size(), 1u);
  EXPECT_EQ(backend_.Events("stream").size(), 2u);
  // Who is on the call is in the spool before the 200 OK (a crash keeps it: spool.md).
  std::vector<nlohmann::json> who = backend_.Events("participants");
  ASSERT_EQ(who.size(), 1u);
  ASSERT_EQ(who[0]["participants"].size(), 2u);
  EXPECT_EQ(who[0]["participants"][0]["aor"], "sip:alice@example.com");
  EXPECT_EQ(who[0]["participants"][0]["channel"], 0);
  EXPECT_EQ(who[0]["stream_channels"]["s1"], 1);
  EXPECT_EQ(who[0]["siprec_session_id"], "c2Vzcw==");
  EXPECT_EQ(recorder_->active_calls(), 1u);

  Deliver("ACK", 1, "", "", Tag(ok));
  Deliver("BYE", 2, "", "", Tag(ok));
  sip::Message bye_ok = Final();
  EXPECT_EQ(bye_ok.status_code, 200);
  EXPECT_EQ(bye_ok.cseq.method, sip::Method::kBye);
  ASSERT_EQ(backend_.ended.size(), 1u);
  const CallEnd& end = backend_.ended[0];
  EXPECT_EQ(end.state, CallState::kCompleted);
  EXPECT_EQ(end.reason, "bye");
  EXPECT_EQ(end.siprec_session_id, "c2Vzcw==");
  ASSERT_EQ(end.participants.size(), 2u);
  EXPECT_EQ(end.participants[0]["aor"], "sip:alice@example.com");
  EXPECT_EQ(end.participants[0]["channel"], 0);
  EXPECT_EQ(end.participants[1]["channel"], 1);
  EXPECT_EQ(end.stream_channels, (std::map<std::string, int>{{"s0", 0}, {"s1", 1}}));
  EXPECT_EQ(end.metadata.size(), 1u);
  EXPECT_EQ(recorder_->active_calls(), 0u);
}

TEST_F(RecorderTest, InDialogRequestsForACallRecoveredAfterARestartGetAnAnswer) {
  recorder_->AddRecoveredCalls({{"crashed@src", "01936b2e-7c4a-7d1e-9b0a-4f1e2d3c4b5a"}});
  // A session refresh: the dialog is gone (the call was finalized as partial) → 481, and the
  // SRC starts a new recording session.
  Deliver("UPDATE", 5, "", "", "srs-tag-before-restart", "crashed@src");
  EXPECT_EQ(Final().status_code, 481);
  // Its BYE ends it cleanly.
  Deliver("BYE", 6, "", "", "srs-tag-before-restart", "crashed@src");
  sip::Message ok = Final();
  EXPECT_EQ(ok.status_code, 200) << last_;
  EXPECT_EQ(ok.cseq.method, sip::Method::kBye);
  // Once: a second BYE (a retransmission is absorbed by the transaction) for a dialog that
  // ended gets 481, like any unknown dialog.
  Deliver("BYE", 7, "", "", "srs-tag-before-restart", "crashed@src");
  EXPECT_EQ(Final().status_code, 481);
  Deliver("BYE", 2, "", "", "some-tag", "never-seen@src");
  EXPECT_EQ(Final().status_code, 481);
  EXPECT_TRUE(backend_.ended.empty());
}

TEST_F(RecorderTest, RefusalsSayWhy) {
  Deliver("INVITE", 1, "application/sdp", kSdp, "", "plain-sdp");
  sip::Message r = Final();
  EXPECT_EQ(r.status_code, 488);
  EXPECT_NE(Warning(r).find("not a SIPREC session"), std::string::npos) << Warning(r);

  Deliver("INVITE", 1, "", "", "", "delayed-offer");
  r = Final();
  EXPECT_EQ(r.status_code, 488);
  EXPECT_NE(Warning(r).find("delayed offer"), std::string::npos) << last_;

  Deliver("INVITE", 1, "text/plain", "hello", "", "text");
  r = Final();
  EXPECT_EQ(r.status_code, 415);
  EXPECT_TRUE(r.Find(sip::HeaderId::kAccept).has_value());

  Deliver("INVITE", 1, "multipart/mixed;boundary=b1",
          Multipart("v=0\r\nm=audio x RTP/AVP 0\r\n", kMetadata), "", "bad-sdp");
  r = Final();
  EXPECT_EQ(r.status_code, 488);
  EXPECT_NE(Warning(r).find("bad SDP"), std::string::npos) << Warning(r);

  std::string gsm = kSdp;
  for (size_t i; (i = gsm.find("RTP/AVP 8 101")) != std::string::npos;)
    gsm.replace(i, 13, "RTP/AVP 3");
  Deliver("INVITE", 1, "multipart/mixed;boundary=b1", Multipart(gsm, kMetadata), "", "gsm");
  r = Final();
  EXPECT_EQ(r.status_code, 488);
  EXPECT_NE(Warning(r).find("no recordable stream"), std::string::npos) << Warning(r);

  backend_.free_streams = 0;
  Deliver("INVITE", 1, "multipart/mixed;boundary=b1", Multipart(kSdp, kMetadata), "", "full");
  r = Final();
  EXPECT_EQ(r.status_code, 503);
  EXPECT_TRUE(r.Find(sip::HeaderId::kRetryAfter).has_value());
  backend_.free_streams = 1000;

  // The descriptor budget says no: refused before anything of the call was opened.
  admission_ = false;
  const size_t opened = backend_.opened.size(), begun = backend_.begun.size();
  Deliver("INVITE", 1, "multipart/mixed;boundary=b1", Multipart(kSdp, kMetadata), "", "fds");
  r = Final();
  EXPECT_EQ(r.status_code, 503);
  EXPECT_TRUE(r.Find(sip::HeaderId::kRetryAfter).has_value());
  EXPECT_NE(Warning(r).find("file descriptors: 19997 of 20000 in use"), std::string::npos)
      << Warning(r);
  EXPECT_EQ(backend_.opened.size(), opened);
  EXPECT_EQ(backend_.begun.size(), begun);
  admission_ = true;

  backend_.fail_begin = true;
  Deliver("INVITE", 1, "multipart/mixed;boundary=b1", Multipart(kSdp, kMetadata), "", "disk");
  r = Final();
  EXPECT_EQ(r.status_code, 503);
  EXPECT_NE(Warning(r).find("spool"), std::string::npos);
  EXPECT_EQ(recorder_->active_calls(), 0u);
  EXPECT_TRUE(backend_.ended.empty());
}

TEST_F(RecorderTest, PauseResumeAndMetadataUpdates) {
  Deliver("INVITE", 1, "multipart/mixed;boundary=b1", Multipart(kSdp, kMetadata));
  sip::Message ok = Final();
  ASSERT_EQ(ok.status_code, 200);
  const std::string tag = Tag(ok);
  Deliver("ACK", 1, "", "", tag);

  std::string inactive = kSdp;
  for (size_t i; (i = inactive.find("a=sendonly")) != std::string::npos;)
    inactive.replace(i, 10, "a=inactive");
  Deliver("INVITE", 2, "application/sdp", inactive, tag);
  sip::Message r = Final();
  ASSERT_EQ(r.status_code, 200) << last_;
  EXPECT_NE(std::string(r.body).find("a=inactive"), std::string::npos);
  EXPECT_NE(std::string(r.body).find("m=audio 40000 "), std::string::npos);  // same ports
  Deliver("ACK", 2, "", "", tag);
  Deliver("INVITE", 3, "application/sdp", kSdp, tag);
  r = Final();
  ASSERT_EQ(r.status_code, 200);
  Deliver("ACK", 3, "", "", tag);
  EXPECT_EQ(backend_.Events("state").size(), 4u);  // 2 streams paused, then resumed

  Deliver("UPDATE", 4, "application/rs-metadata+xml", kMetadata, tag);
  r = Final();
  EXPECT_EQ(r.status_code, 200);
  EXPECT_EQ(backend_.Events("metadata").size(), 2u);
  EXPECT_EQ(backend_.opened.size(), 2u);  // no new streams
  // The same participants again: no new `participants` line.
  EXPECT_EQ(backend_.Events("participants").size(), 1u);
}

TEST_F(RecorderTest, RtpTimeoutByesTheCallAndEndsItTimedOut) {
  Deliver("INVITE", 1, "multipart/mixed;boundary=b1", Multipart(kSdp, kMetadata));
  sip::Message ok = Final();
  ASSERT_EQ(ok.status_code, 200);
  Deliver("ACK", 1, "", "", Tag(ok));
  std::string call_id = backend_.begun.at(0).call_id;
  recorder_->OnRtpTimeout(call_id);
  for (int i = 0; i < 10 && backend_.ended.empty(); ++i) exec_.Pump();
  ASSERT_EQ(backend_.ended.size(), 1u);
  EXPECT_EQ(backend_.ended[0].state, CallState::kTimedOut);
  EXPECT_EQ(backend_.ended[0].reason, "rtp_timeout");
  bool bye = false;
  for (const auto& s : sender_.sent)
    bye |= s.rfind("BYE ", 0) == 0 && s.find("no RTP") != std::string::npos;
  EXPECT_TRUE(bye);
}

TEST_F(RecorderTest, StopEndsCallsStillRecording) {
  Deliver("INVITE", 1, "multipart/mixed;boundary=b1", Multipart(kSdp, kMetadata));
  ASSERT_EQ(Final().status_code, 200);
  recorder_->Stop();
  ASSERT_EQ(backend_.ended.size(), 1u);
  EXPECT_EQ(backend_.ended[0].reason, "shutdown");
}

// Acceptance: every body-only sample of ../shared/siprec-samples (read in place), wrapped into an
// INVITE, gets 200 with an answer that is right field by field.
TEST_F(RecorderTest, EveryBodyOnlySampleGetsAFieldByFieldCorrectAnswer) {
  namespace fs = std::filesystem;
  const fs::path dir = CALLVAULT_SAMPLES_DIR;
  if (!fs::is_directory(dir)) GTEST_SKIP() << "no samples at " << dir;
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.find("body") == std::string::npos || entry.path().extension() != ".sip") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string body;  // LF → CRLF, as on the wire
    for (char c : ss.str()) {
      if (c == '\n' && (body.empty() || body.back() != '\r')) body += '\r';
      body += c;
    }
    size_t b = body.find("--");
    ASSERT_NE(b, std::string::npos) << name;
    std::string boundary = body.substr(b + 2, body.find_first_of("\r\n ", b) - b - 2);
    const std::string call_id = "sample-" + name;
    Deliver("INVITE", 1, "multipart/mixed;boundary=\"" + boundary + "\"", body, "", call_id);
    sip::Message ok = Final();
    ASSERT_EQ(ok.status_code, 200) << name << "\n" << last_;
    auto parts = SplitMultipart("multipart/mixed;boundary=\"" + boundary + "\"", body);
    ASSERT_TRUE(parts.ok()) << name;
    std::optional<SessionDescription> offer;
    for (const auto& p : parts->parts)
      if (MediaTypeIs(p.content_type, "application/sdp")) offer = *ParseSdp(p.body);
    ASSERT_TRUE(offer) << name;
    auto answer = ParseSdp(ok.body);
    ASSERT_TRUE(answer.ok()) << name << ": " << answer.status().ToString() << "\n" << ok.body;
    EXPECT_EQ(answer->origin.username, "callvault") << name;
    ASSERT_EQ(answer->media.size(), offer->media.size()) << name;
    for (size_t i = 0; i < offer->media.size(); ++i) {
      const MediaDescription& o = offer->media[i];
      const MediaDescription& a = answer->media[i];
      SCOPED_TRACE(name + " m-line " + std::to_string(i));
      EXPECT_EQ(a.media, o.media);
      EXPECT_EQ(a.proto, o.proto);
      EXPECT_NE(a.port, 0) << "every sample stream is recordable";
      EXPECT_EQ(a.connection.address, "192.0.2.20");
      EXPECT_EQ(a.direction,
                o.direction == Direction::kInactive ? Direction::kInactive : Direction::kRecvOnly);
      EXPECT_EQ(a.label, o.label);
      ASSERT_FALSE(a.payloads.empty());
      const PayloadFormat& chosen = a.payloads[0];
      EXPECT_NE(o.FindPayload(chosen.payload_type), nullptr) << "answered an offered format";
      EXPECT_TRUE(chosen.codec.name == "PCMA" || chosen.codec.name == "PCMU" ||
                  chosen.codec.name == "G722" || chosen.codec.name == "opus")
          << chosen.codec.name;
    }
    Deliver("ACK", 1, "", "", Tag(ok), call_id);
    Deliver("BYE", 2, "", "", Tag(ok), call_id);
    EXPECT_EQ(Final().status_code, 200) << name;
    ++checked;
  }
  EXPECT_GE(checked, 11);
  std::printf("body-only samples answered: %d\n", checked);
}

}  // namespace
}  // namespace callvault::siprec

namespace callvault::siprec {
namespace {

// Group commit: an INVITE's decision is synced while its worker moves on. A CANCEL that arrives
// meanwhile is answered by the core (487) at once; the recorder runs the dialog's end only after
// the call was committed, so the call is aborted cleanly, never left half-started or recorded.
TEST_F(RecorderTest, CancelWhileTheInviteIsBeingSyncedAbortsTheCallAfterItsCommit) {
  backend_.defer_syncs = true;
  Deliver("INVITE", 1, "multipart/mixed;boundary=b1", Multipart(kSdp, kMetadata));
  ASSERT_TRUE(backend_.WaitForDeferredSyncs(1));
  const std::string call_id = backend_.begun.at(0).call_id;
  std::string cancel =
      "CANCEL sip:srs@192.0.2.20 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-INVITE1-rec-1@src\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:src@192.0.2.10>;tag=srctag\r\n"
      "To: <sip:srs@192.0.2.20>\r\nCall-ID: rec-1@src\r\nCSeq: 1 CANCEL\r\n"
      "Content-Length: 0\r\n\r\n";
  auto in = std::make_unique<sip::InboundMessage>();
  in->data = std::move(cancel);
  sip::ParseResult p = sip::Parse(in->data);
  ASSERT_TRUE(p.status.ok());
  in->message = std::move(p.message);
  shard_->OnMessage(std::move(in), flow_, exec_.now);
  bool got_487 = false;
  for (const auto& m : sender_.sent) got_487 |= m.rfind("SIP/2.0 487", 0) == 0;
  EXPECT_TRUE(got_487);
  {
    std::lock_guard<std::mutex> l(backend_.mu);
    EXPECT_TRUE(backend_.aborted.empty());  // the end waits for the commit
  }
  backend_.CompleteDeferredSync(Status::Ok());
  for (int i = 0; i < 20; ++i) {
    {
      std::lock_guard<std::mutex> l(backend_.mu);
      if (!backend_.aborted.empty()) break;
    }
    exec_.Pump();
  }
  std::lock_guard<std::mutex> l(backend_.mu);
  ASSERT_EQ(backend_.aborted.size(), 1u);
  EXPECT_EQ(backend_.aborted[0], call_id);
  EXPECT_TRUE(backend_.ended.empty());
  EXPECT_EQ(recorder_->active_calls(), 0u);
}

// A failed sync answers 503 for the INVITEs its round covered, and only those: an INVITE whose
// sync succeeds is answered 200 and recorded.
TEST_F(RecorderTest, FailedSyncRefusesOnlyTheInvitesItCovered) {
  backend_.defer_syncs = true;
  Deliver("INVITE", 1, "multipart/mixed;boundary=b1", Multipart(kSdp, kMetadata), "", "a@src");
  ASSERT_TRUE(backend_.WaitForDeferredSyncs(1));
  Deliver("INVITE", 1, "multipart/mixed;boundary=b1", Multipart(kSdp, kMetadata), "", "b@src");
  ASSERT_TRUE(backend_.WaitForDeferredSyncs(2));
  EXPECT_EQ(sender_.sent.size(), 2u);  // two 100 Trying, no final response before a sync
  backend_.CompleteDeferredSync(IoError("syncing the filesystem", EIO));
  backend_.CompleteDeferredSync(Status::Ok());
  std::map<std::string, int> finals;  // Call-ID → final code
  for (int i = 0; i < 20 && finals.size() < 2; ++i) {
    exec_.Pump();
    for (const auto& m : sender_.sent) {
      sip::ParseResult r = sip::Parse(m);
      if (r.status.ok() && !r.message.is_request && r.message.status_code >= 200) {
        finals[std::string(r.message.call_id)] = r.message.status_code;
      }
    }
  }
  EXPECT_EQ(finals["a@src"], 503);
  EXPECT_EQ(finals["b@src"], 200);
  for (int i = 0; i < 20 && recorder_->active_calls() != 1; ++i) exec_.Pump();
  EXPECT_EQ(recorder_->active_calls(), 1u);
  std::lock_guard<std::mutex> l(backend_.mu);
  ASSERT_EQ(backend_.aborted.size(), 1u);
  EXPECT_EQ(backend_.aborted[0], backend_.begun.at(0).call_id);
}

}  // namespace
}  // namespace callvault::siprec
