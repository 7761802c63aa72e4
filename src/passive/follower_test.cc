// Follower: captured SIP (as the dispatcher delivers it) in → CallSessions through a fake
// RecordingBackend and media bindings out. Our own messages for SIPREC (answer, re-INVITE that
// moves a port, BYE from either side), a refusal by the primary, retransmissions, a CANCEL,
// Cisco BiB legs and the timeouts.
#include "passive/follower.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "siprec/testing/recorder_fixture.h"

namespace callvault::passive {
namespace {

using siprec::testing::FakeBackend;
using siprec::testing::kMetadata;
using siprec::testing::kSdp;
using siprec::testing::Multipart;

capture::Endpoint Ep(const char* ip, uint16_t port) {
  uint8_t b[4];
  inet_pton(AF_INET, ip, b);
  return capture::Endpoint{capture::IpAddress::V4(b), port};
}

const capture::Endpoint kSrc = Ep("192.0.2.10", 5060);
const capture::Endpoint kPrimary = Ep("192.0.2.20", 5060);

std::string Answer(int port0, int port1) {
  return "v=0\r\no=callvault 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\n"
         "m=audio " +
         std::to_string(port0) +
         " RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=label:1\r\na=recvonly\r\n"
         "m=audio " +
         std::to_string(port1) + " RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=label:2\r\na=recvonly\r\n";
}

struct Msg {
  std::string start;  // request line or status line
  std::string call_id = "pc-1@src";
  std::string from = "<sip:src@192.0.2.10>;tag=srctag";
  std::string to = "<sip:srs@192.0.2.20>";
  std::string cseq = "1 INVITE";
  std::string content_type, body;
};

std::string Text(const Msg& m) {
  std::string t = m.start + "\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-" + m.cseq +
                  "\r\nFrom: " + m.from + "\r\nTo: " + m.to + "\r\nCall-ID: " + m.call_id +
                  "\r\nCSeq: " + m.cseq + "\r\nMax-Forwards: 70\r\n";
  if (!m.content_type.empty()) t += "Content-Type: " + m.content_type + "\r\n";
  return t + "Content-Length: " + std::to_string(m.body.size()) + "\r\n\r\n" + m.body;
}

class FollowerTest : public ::testing::Test {
 protected:
  FollowerTest() { Make({}); }

  void Make(std::vector<capture::Endpoint> primary) {
    follower_.reset();
    FollowerOptions o;
    o.primary = std::move(primary);
    o.recorder.can_decode = [](const codec::CodecSpec& c) {
      return c.name == "PCMA" || c.name == "PCMU";
    };
    o.answer_timeout = std::chrono::seconds(32);
    o.rtp_timeout = std::chrono::seconds(20);
    follower_ = std::make_unique<Follower>(o, &backend_, RealClock(),
                                           [this](const MediaBinding& b) { bindings_.push_back(b); });
  }

  // A message captured at `t_s` seconds, from the SRC to the primary or the other way.
  void See(const Msg& m, bool from_src, double t_s = 0) {
    const std::string text = Text(m);
    capture::SipDatagram d;
    d.bytes = text;
    d.src = from_src ? kSrc : kPrimary;
    d.dst = from_src ? kPrimary : kSrc;
    d.ts_ns = static_cast<int64_t>(t_s * 1e9) + kT0;
    follower_->OnSipMessage(d);
  }
  void Invite(double t = 0) {
    See({.start = "INVITE sip:srs@192.0.2.20 SIP/2.0",
         .content_type = "multipart/mixed;boundary=b1",
         .body = Multipart(kSdp, kMetadata)},
        true, t);
  }
  void Ok(const std::string& cseq, const std::string& sdp, double t = 0) {
    See({.start = "SIP/2.0 200 OK",
         .to = "<sip:srs@192.0.2.20>;tag=prim",
         .cseq = cseq,
         .content_type = sdp.empty() ? "" : "application/sdp",
         .body = sdp},
        false, t);
  }
  void InDialog(const std::string& method, const std::string& cseq, bool from_src = true,
                const std::string& sdp = "") {
    Msg m{.start = method + " sip:x@192.0.2.20 SIP/2.0",
          .to = "<sip:srs@192.0.2.20>;tag=prim",
          .cseq = cseq,
          .content_type = sdp.empty() ? "" : "application/sdp",
          .body = sdp};
    if (!from_src) std::swap(m.from, m.to);
    See(m, from_src);
  }

  static constexpr int64_t kT0 = 1'800'000'000'000'000'000;
  FakeBackend backend_;
  std::vector<MediaBinding> bindings_;
  std::unique_ptr<Follower> follower_;
};

TEST_F(FollowerTest, FollowsASiprecSessionAndBindsWhereThePrimaryReceives) {
  Invite();
  Invite();  // retransmission
  ASSERT_EQ(backend_.begun.size(), 1u);
  EXPECT_EQ(backend_.begun[0].sip_call_id, "pc-1@src");
  EXPECT_EQ(backend_.opened.size(), 2u);
  EXPECT_TRUE(bindings_.empty()) << "nothing is bound before the primary answers";
  Ok("1 INVITE", Answer(31000, 31002));
  ASSERT_EQ(bindings_.size(), 2u);
  EXPECT_EQ(bindings_[0].to, Ep("192.0.2.20", 31000));
  EXPECT_EQ(bindings_[0].stream_id, "s0");
  EXPECT_EQ(bindings_[1].to, Ep("192.0.2.20", 31002));
  EXPECT_EQ(bindings_[1].stream_id, "s1");
  EXPECT_EQ(bindings_[0].call_id, backend_.begun[0].call_id);
  InDialog("ACK", "1 ACK");

  // A re-INVITE; the primary moves stream 1 to a new port.
  InDialog("INVITE", "2 INVITE", true, kSdp);
  Ok("2 INVITE", Answer(31000, 31010));
  ASSERT_EQ(bindings_.size(), 4u);
  EXPECT_FALSE(bindings_[2].bind);
  EXPECT_EQ(bindings_[2].to, Ep("192.0.2.20", 31002));
  EXPECT_TRUE(bindings_[3].bind);
  EXPECT_EQ(bindings_[3].to, Ep("192.0.2.20", 31010));

  InDialog("BYE", "3 BYE");
  InDialog("BYE", "3 BYE");  // retransmission
  ASSERT_EQ(backend_.ended.size(), 1u);
  EXPECT_EQ(backend_.ended[0].state, CallState::kCompleted);
  EXPECT_EQ(backend_.ended[0].reason, "bye");
  EXPECT_EQ(backend_.ended[0].participants[0]["aor"], "sip:alice@example.com");
  ASSERT_EQ(bindings_.size(), 6u);
  EXPECT_FALSE(bindings_[4].bind);
  EXPECT_FALSE(bindings_[5].bind);
  EXPECT_EQ(follower_->dialogs(), 0u);
  EXPECT_EQ(follower_->sessions(), 0u);
  EXPECT_EQ(follower_->counters().retransmissions, 1u);
  EXPECT_EQ(follower_->counters().unknown_dialog, 1u) << "the BYE retransmitted after its end";
}

// What the backend is told carries the wire's time: the capture time of the message being
// processed (app/ stamps the session log with it).
TEST_F(FollowerTest, TheCaptureTimeOfWhatIsProcessedIsKnown) {
  EXPECT_EQ(follower_->capture_ns(), 0);
  Invite(1.5);
  EXPECT_EQ(follower_->capture_ns(), kT0 + 1'500'000'000);
  Ok("1 INVITE", Answer(31000, 31002), 1.75);
  EXPECT_EQ(follower_->capture_ns(), kT0 + 1'750'000'000);
  follower_->Tick(kT0 + 2'000'000'000, [](const std::string&) { return int64_t{0}; });
  EXPECT_EQ(follower_->capture_ns(), kT0 + 2'000'000'000);
}

TEST_F(FollowerTest, TheByeOfThePrimaryEndsItToo) {
  Invite();
  Ok("1 INVITE", Answer(31000, 31002));
  InDialog("BYE", "1 BYE", /*from_src=*/false);
  ASSERT_EQ(backend_.ended.size(), 1u);
  EXPECT_EQ(follower_->sessions(), 0u);
}

TEST_F(FollowerTest, WhatThePrimaryRefusesOrTheSrcCancelsIsNotKept) {
  Invite();
  See({.start = "SIP/2.0 503 Service Unavailable", .to = "<sip:srs@192.0.2.20>;tag=p"}, false);
  EXPECT_EQ(backend_.aborted.size(), 1u);
  EXPECT_TRUE(backend_.ended.empty());
  EXPECT_EQ(follower_->sessions(), 0u);

  Msg invite{.start = "INVITE sip:srs@192.0.2.20 SIP/2.0",
             .call_id = "pc-2@src",
             .content_type = "multipart/mixed;boundary=b1",
             .body = Multipart(kSdp, kMetadata)};
  See(invite, true);
  See({.start = "CANCEL sip:srs@192.0.2.20 SIP/2.0", .call_id = "pc-2@src", .cseq = "1 CANCEL"},
      true);
  EXPECT_EQ(backend_.aborted.size(), 2u);
  EXPECT_EQ(follower_->dialogs(), 0u);
}

TEST_F(FollowerTest, OnlyInvitesToThePrimaryAreFollowedWhenItIsKnown) {
  Make({Ep("192.0.2.99", 5060)});
  Invite();
  EXPECT_TRUE(backend_.begun.empty());
  Make({kPrimary});
  Invite();
  EXPECT_EQ(backend_.begun.size(), 1u);
}

TEST_F(FollowerTest, NoAnswerAbortsAndSilenceTimesOut) {
  Invite(0);
  follower_->Tick(kT0 + 33'000'000'000, [](const std::string&) { return 0; });
  EXPECT_EQ(backend_.aborted.size(), 1u);

  Msg invite{.start = "INVITE sip:srs@192.0.2.20 SIP/2.0",
             .call_id = "pc-3@src",
             .content_type = "multipart/mixed;boundary=b1",
             .body = Multipart(kSdp, kMetadata)};
  See(invite, true, 40);
  Msg ok{.start = "SIP/2.0 200 OK",
         .call_id = "pc-3@src",
         .to = "<sip:srs@192.0.2.20>;tag=prim",
         .content_type = "application/sdp",
         .body = Answer(31000, 31002)};
  See(ok, false, 40);
  const int64_t last = kT0 + 50'000'000'000;
  follower_->Tick(kT0 + 65'000'000'000, [&](const std::string&) { return last; });
  EXPECT_TRUE(backend_.ended.empty()) << "15 s of silence < 20 s";
  follower_->Tick(kT0 + 71'000'000'000, [&](const std::string&) { return last; });
  ASSERT_EQ(backend_.ended.size(), 1u);
  EXPECT_EQ(backend_.ended[0].state, CallState::kTimedOut);
  EXPECT_EQ(backend_.ended[0].reason, "rtp_timeout");
}

std::string BibFrom(const std::string& side, const std::string& tag) {
  return "<sip:9110001@192.0.2.10;" + side +
         ";x-refci=777;x-nearendclusterid=cl;x-nearendaddr=9110001;x-farendaddr=9110006>;tag=" +
         tag;
}

std::string PrimaryOffer(int port) {
  return "v=0\r\no=callvault 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\n"
         "m=audio " +
         std::to_string(port) + " RTP/AVP 0 8 101\r\na=recvonly\r\n";
}

TEST_F(FollowerTest, CiscoBibLegsAreOneSessionBoundPerSide) {
  for (const char* side : {"x-nearend", "x-farend"}) {
    const std::string tag = std::string("t-") + side;
    See({.start = "INVITE sip:8675309@192.0.2.20 SIP/2.0",
         .call_id = std::string("bib-") + side,
         .from = BibFrom(side, tag)},
        true);
    See({.start = "SIP/2.0 200 OK",
         .call_id = std::string("bib-") + side,
         .from = BibFrom(side, tag),
         .to = "<sip:8675309@192.0.2.20>;tag=p",
         .content_type = "application/sdp",
         .body = PrimaryOffer(side[2] == 'n' ? 32000 : 32002)},
        false);
  }
  EXPECT_EQ(backend_.begun.size(), 1u);
  EXPECT_EQ(follower_->sessions(), 1u);
  ASSERT_EQ(bindings_.size(), 2u);
  EXPECT_EQ(bindings_[0].stream_id, "s0");
  EXPECT_EQ(bindings_[0].to, Ep("192.0.2.20", 32000));
  EXPECT_EQ(bindings_[1].stream_id, "s1");
  EXPECT_EQ(bindings_[1].to, Ep("192.0.2.20", 32002));
  for (const char* side : {"x-nearend", "x-farend"}) {
    See({.start = "BYE sip:8675309@192.0.2.20 SIP/2.0",
         .call_id = std::string("bib-") + side,
         .from = BibFrom(side, std::string("t-") + side),
         .to = "<sip:8675309@192.0.2.20>;tag=p",
         .cseq = "2 BYE"},
        true);
  }
  ASSERT_EQ(backend_.ended.size(), 1u);
  EXPECT_EQ(backend_.ended[0].stream_channels, (std::map<std::string, int>{{"s0", 0}, {"s1", 1}}));
  EXPECT_EQ(follower_->sessions(), 0u);
}

TEST_F(FollowerTest, GarbageIsCountedNotFollowed) {
  capture::SipDatagram d;
  d.bytes = "INVITE nonsense\r\n\r\n";
  d.src = kSrc;
  d.dst = kPrimary;
  follower_->OnSipMessage(d);
  d.bytes = "SIP/2.0 200 OK\r\nCall-ID: nowhere\r\nCSeq: 1 INVITE\r\n\r\n";
  follower_->OnSipMessage(d);
  EXPECT_EQ(follower_->counters().unparsable, 2u);
  EXPECT_TRUE(backend_.begun.empty());
}

}  // namespace
}  // namespace callvault::passive
