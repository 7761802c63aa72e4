// Shard tests: SIP message in → messages out, with a fake clock (RFC 3261 timers, RFC 6026,
// RFC 4028). No sockets, no threads.
#include "sip/shard.h"

#include <gtest/gtest.h>

#include <deque>

#include "sip/builder.h"

namespace callvault::sip {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class FakeSender : public Sender {
 public:
  Result<Flow> Send(const Flow& flow, std::string data) override {
    sent.push_back({flow, std::move(data)});
    return flow;
  }
  struct Sent {
    Flow flow;
    std::string data;
  };
  std::vector<Sent> sent;
};

class FakeExecutor : public Executor {
 public:
  void Post(std::function<void()> fn) override { posted.push_back(std::move(fn)); }
  bool IsCurrent() const override { return current; }
  TimePoint Now() const override { return now; }
  std::deque<std::function<void()>> posted;
  bool current = true;
  TimePoint now{};
};

// An application that answers as told and remembers what it saw.
class TestApp : public Application {
 public:
  void OnInvite(const IncomingRequest& r, Responder responder) override {
    invites++;
    last_dialog = r.dialog;
    if (answer_invite)
      responder.Respond(Response::WithBody(invite_code, "application/sdp", "v=0\r\n"));
    else
      pending.push_back(responder);
  }
  void OnDialogRequest(const IncomingRequest& r, Responder responder) override {
    dialog_requests.emplace_back(r.message.method_text);
    if (answer_in_dialog)
      responder.Respond(Response::WithCode(200));
    else
      pending.push_back(responder);
  }
  void OnAck(const IncomingRequest&) override { acks++; }
  void OnDialogEnded(const DialogId& d, EndReason reason) override { ended.push_back({d, reason}); }
  bool AdoptDialog(const Message&) override { return adopt; }

  int invites = 0, acks = 0, invite_code = 200;
  bool answer_invite = true, answer_in_dialog = true, adopt = false;
  DialogId last_dialog;
  std::vector<std::string> dialog_requests;
  std::vector<Responder> pending;
  std::vector<std::pair<DialogId, EndReason>> ended;
};

struct Req {
  std::string method = "INVITE";
  std::string call_id = "call-1@src";
  std::string branch = "z9hG4bK-1";
  uint32_t cseq = 1;
  std::string to_tag;
  std::string cseq_method;  // default = method
  std::vector<std::string> headers;
  std::string body;
  std::string uri = "sip:srs@10.0.0.2:5060";
};

std::string Build(const Req& r) {
  std::string m = r.method + " " + r.uri + " SIP/2.0\r\n";
  m += "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=" + r.branch + ";rport\r\n";
  m += "Max-Forwards: 70\r\n";
  m += "From: <sip:src@10.0.0.1>;tag=src-tag\r\n";
  m += "To: <sip:srs@10.0.0.2>" + (r.to_tag.empty() ? "" : ";tag=" + r.to_tag) + "\r\n";
  m += "Call-ID: " + r.call_id + "\r\n";
  m += "CSeq: " + std::to_string(r.cseq) + " " +
       (r.cseq_method.empty() ? r.method : r.cseq_method) + "\r\n";
  m += "Contact: <sip:src@10.0.0.1:5070>\r\n";
  for (const auto& h : r.headers) m += h + "\r\n";
  if (!r.body.empty()) m += "Content-Type: application/sdp\r\n";
  m += "Content-Length: " + std::to_string(r.body.size()) + "\r\n\r\n" + r.body;
  return m;
}

class ShardTest : public ::testing::Test {
 protected:
  ShardTest() {
    flow_.transport = Transport::kUdp;
    flow_.local = *SocketAddress::Parse("10.0.0.2:5060");
    flow_.remote = *SocketAddress::Parse("10.0.0.1:5060");
    options_.timers = TimerOptions{};
    shard_ = std::make_unique<Shard>(options_, &sender_, &app_, &exec_, 42);
  }

  void Deliver(const Req& r) { DeliverRaw(Build(r)); }
  void DeliverRaw(std::string data) {
    auto in = std::make_unique<InboundMessage>();
    in->data = std::move(data);
    ParseResult p = Parse(in->data);
    ASSERT_TRUE(p.status.ok()) << p.status.ToString() << "\n" << in->data;
    in->message = std::move(p.message);
    shard_->OnMessage(std::move(in), flow_, exec_.now);
  }
  void Advance(milliseconds d) {
    exec_.now += d;
    shard_->OnTimers(exec_.now);
  }
  // Parsed copy of the i-th sent message (negative: from the end).
  Message SentAt(int i) {
    if (i < 0) i += static_cast<int>(sender_.sent.size());
    EXPECT_GE(i, 0);
    EXPECT_LT(i, static_cast<int>(sender_.sent.size()));
    ParseResult p = Parse(sender_.sent[i].data);
    EXPECT_TRUE(p.status.ok()) << p.status.ToString() << "\n" << sender_.sent[i].data;
    return p.message;
  }
  int CountSent(std::string_view first_line_prefix) {
    int n = 0;
    for (const auto& s : sender_.sent) n += s.data.rfind(first_line_prefix, 0) == 0;
    return n;
  }
  std::string LocalTag() { return app_.last_dialog.local_tag; }

  CoreOptions options_;
  FakeSender sender_;
  FakeExecutor exec_;
  TestApp app_;
  Flow flow_;
  std::unique_ptr<Shard> shard_;
};

TEST_F(ShardTest, InviteGets100Then200WithTagContactAndAllow) {
  Deliver({});
  ASSERT_EQ(sender_.sent.size(), 2u);
  Message trying = SentAt(0);
  EXPECT_EQ(trying.status_code, 100);
  EXPECT_TRUE(trying.to.tag.empty());
  Message ok = SentAt(1);
  EXPECT_EQ(ok.status_code, 200);
  EXPECT_EQ(ok.to.tag, LocalTag());
  EXPECT_FALSE(LocalTag().empty());
  EXPECT_EQ(ok.call_id, "call-1@src");
  EXPECT_EQ(ok.cseq.number, 1u);
  EXPECT_EQ(ok.top_via.branch, "z9hG4bK-1");
  EXPECT_NE(ok.Find(HeaderId::kContact).value_or("").find("sip:10.0.0.2:5060"), std::string::npos);
  EXPECT_TRUE(ok.HasOptionTag(HeaderId::kAllow, "UPDATE"));
  EXPECT_EQ(ok.body, "v=0\r\n");
  EXPECT_EQ(shard_->dialog_count(), 1u);
}

TEST_F(ShardTest, RetransmittedInviteIsAbsorbedAndAnsweredAgain) {
  Deliver({});
  Deliver({});
  EXPECT_EQ(app_.invites, 1);
  EXPECT_EQ(CountSent("SIP/2.0 200"), 2);
  EXPECT_EQ(shard_->counters().retransmissions_absorbed, 1u);
}

TEST_F(ShardTest, TwoHundredIsRetransmittedUntilAck) {
  Deliver({});
  Advance(milliseconds(500));   // T1
  Advance(milliseconds(1000));  // 2*T1
  EXPECT_EQ(CountSent("SIP/2.0 200"), 3);
  Deliver({.method = "ACK", .branch = "z9hG4bK-ack", .to_tag = LocalTag()});
  EXPECT_EQ(app_.acks, 1);
  Advance(seconds(10));
  EXPECT_EQ(CountSent("SIP/2.0 200"), 3);
  EXPECT_TRUE(app_.ended.empty());
}

TEST_F(ShardTest, AckWithForeignCSeqStillConfirmsTheOnlyPending2xx) {
  Deliver({});
  // BroadWorks replays: an ACK numbered on its own, and one with "CSeq: n INVITE".
  Deliver({.method = "ACK", .branch = "z9hG4bK-ack", .cseq = 832544241, .to_tag = LocalTag()});
  EXPECT_EQ(app_.acks, 1);
  Advance(seconds(40));
  EXPECT_EQ(CountSent("SIP/2.0 200"), 1);
  EXPECT_TRUE(app_.ended.empty());
  Deliver({.method = "BYE",
           .branch = "z9hG4bK-bye",
           .cseq = 3,
           .to_tag = LocalTag(),
           .cseq_method = "INVITE"});
  EXPECT_EQ(SentAt(-1).status_code, 200);
  EXPECT_EQ(shard_->dialog_count(), 0u);
}

// MiaRec's CUBE NBR scenarios ACK the 2xx without a To tag: the one dialog of that Call-ID
// and From tag is confirmed (no 200 retransmissions, a re-INVITE is not "still in progress").
TEST_F(ShardTest, AckWithoutToTagConfirmsTheOneMatchingDialog) {
  Deliver({});
  Deliver({.method = "ACK", .branch = "z9hG4bK-ack"});  // no To tag
  EXPECT_EQ(app_.acks, 1);
  Advance(seconds(10));
  EXPECT_EQ(CountSent("SIP/2.0 200"), 1);
  EXPECT_TRUE(app_.ended.empty());
}

TEST_F(ShardTest, ByeWithoutToTagEndsTheOneMatchingDialog) {
  Deliver({});
  Deliver({.method = "ACK", .branch = "z9hG4bK-ack", .to_tag = LocalTag()});
  Deliver({.method = "BYE", .branch = "z9hG4bK-bye", .cseq = 2});  // no To tag
  Message ok = SentAt(-1);
  EXPECT_EQ(ok.status_code, 200);
  EXPECT_EQ(ok.to.tag, LocalTag());
  EXPECT_EQ(shard_->dialog_count(), 0u);
  Deliver({.method = "BYE", .branch = "z9hG4bK-bye2", .cseq = 3});
  EXPECT_EQ(SentAt(-1).status_code, 481);
}

TEST_F(ShardTest, MissingAckEndsTheCallWithBye) {
  Deliver({});
  Advance(seconds(33));  // 64*T1 = 32 s
  ASSERT_EQ(app_.ended.size(), 1u);
  EXPECT_EQ(app_.ended[0].second, EndReason::kAckTimeout);
  Message bye = SentAt(-1);
  EXPECT_EQ(bye.method, Method::kBye);
  EXPECT_EQ(bye.request_uri, "sip:src@10.0.0.1:5070");
  EXPECT_EQ(bye.from.tag, LocalTag());
  EXPECT_EQ(bye.to.tag, "src-tag");
  EXPECT_EQ(sender_.sent.back().flow.remote.ToString(), "10.0.0.1:5070");
  EXPECT_EQ(shard_->dialog_count(), 0u);
}

TEST_F(ShardTest, ByeEndsTheDialog) {
  Deliver({});
  Deliver({.method = "ACK", .branch = "z9hG4bK-ack", .to_tag = LocalTag()});
  Deliver({.method = "BYE", .branch = "z9hG4bK-bye", .cseq = 2, .to_tag = LocalTag()});
  EXPECT_EQ(app_.dialog_requests, std::vector<std::string>{"BYE"});
  Message ok = SentAt(-1);
  EXPECT_EQ(ok.status_code, 200);
  EXPECT_EQ(ok.cseq.method, Method::kBye);
  EXPECT_EQ(shard_->dialog_count(), 0u);
  EXPECT_TRUE(app_.ended.empty());
  // A retransmitted BYE gets the same 200 without reaching the application again.
  Deliver({.method = "BYE", .branch = "z9hG4bK-bye", .cseq = 2, .to_tag = LocalTag()});
  EXPECT_EQ(app_.dialog_requests.size(), 1u);
  EXPECT_EQ(CountSent("SIP/2.0 200"), 3);
}

TEST_F(ShardTest, CancelBeforeAnswerGives487AndEndsTheDialog) {
  app_.answer_invite = false;
  Deliver({});
  Deliver({.method = "CANCEL"});
  Message cancel_ok = SentAt(-2);
  EXPECT_EQ(cancel_ok.status_code, 200);
  EXPECT_EQ(cancel_ok.cseq.method, Method::kCancel);
  Message terminated = SentAt(-1);
  EXPECT_EQ(terminated.status_code, 487);
  EXPECT_EQ(terminated.cseq.method, Method::kInvite);
  ASSERT_EQ(app_.ended.size(), 1u);
  EXPECT_EQ(app_.ended[0].second, EndReason::kCancelled);
  // The application's late answer is ignored.
  app_.pending[0].Respond(Response::WithCode(200));
  EXPECT_EQ(CountSent("SIP/2.0 200"), 1);
  // 487 is retransmitted (Timer G) until the ACK of the INVITE transaction.
  Advance(milliseconds(500));
  EXPECT_EQ(CountSent("SIP/2.0 487"), 2);
  Deliver({.method = "ACK", .to_tag = std::string(terminated.to.tag), .cseq_method = "ACK"});
  Advance(milliseconds(2000));
  EXPECT_EQ(CountSent("SIP/2.0 487"), 2);
}

TEST_F(ShardTest, CancelWithoutTransactionGets481) {
  Deliver({.method = "CANCEL", .branch = "z9hG4bK-none"});
  EXPECT_EQ(SentAt(-1).status_code, 481);
}

TEST_F(ShardTest, RejectedInviteIsRetransmittedUntilTimerH) {
  app_.invite_code = 488;
  Deliver({});
  EXPECT_EQ(shard_->dialog_count(), 0u);
  for (int i = 0; i < 400; ++i) Advance(milliseconds(100));
  // G fires at 0.5, 1.5, 3.5, 7.5, 11.5, ... capped at T2 = 4 s until H at 32 s.
  EXPECT_GE(CountSent("SIP/2.0 488"), 8);
  EXPECT_EQ(shard_->transaction_count(), 0u);
  EXPECT_TRUE(app_.ended.empty());
}

TEST_F(ShardTest, OptionsAnswered200WithCapabilities) {
  Deliver({.method = "OPTIONS", .branch = "z9hG4bK-o"});
  Message ok = SentAt(-1);
  EXPECT_EQ(ok.status_code, 200);
  EXPECT_TRUE(ok.HasOptionTag(HeaderId::kAllow, "INVITE"));
  EXPECT_TRUE(ok.HasOptionTag(HeaderId::kSupported, "timer"));
  EXPECT_TRUE(ok.Find(HeaderId::kAccept).has_value());
  EXPECT_FALSE(ok.to.tag.empty());
}

TEST_F(ShardTest, UnavailableNodeAnswers503WithRetryAfter) {
  shard_->SetAvailability(
      {.accept_calls = false, .retry_after_s = 30, .reason = "node is draining"});
  Deliver({.method = "OPTIONS", .branch = "z9hG4bK-o"});
  Message o = SentAt(-1);
  EXPECT_EQ(o.status_code, 503);
  EXPECT_EQ(o.Find(HeaderId::kRetryAfter).value_or(""), "30");
  Deliver({});
  Message i = SentAt(-1);
  EXPECT_EQ(i.status_code, 503);
  EXPECT_NE(i.Find(HeaderId::kWarning).value_or("").find("node is draining"), std::string::npos);
  EXPECT_EQ(app_.invites, 0);
}

TEST_F(ShardTest, UnsupportedRequireGets420) {
  Deliver({.headers = {"Require: 100rel, siprec"}});
  Message r = SentAt(-1);
  EXPECT_EQ(r.status_code, 420);
  EXPECT_EQ(r.Find(HeaderId::kUnsupported).value_or(""), "100rel");
  EXPECT_EQ(app_.invites, 0);
}

TEST_F(ShardTest, RequireSiprecIsAccepted) {
  Deliver({.headers = {"Require: siprec"}});
  EXPECT_EQ(SentAt(-1).status_code, 200);
}

// RFC 3261 §8.2.2.3 on every request but ACK and CANCEL, OPTIONS included (the shape of
// RFC 4475 §3.3.5): Unsupported lists every tag we lack, from every Require header.
TEST_F(ShardTest, UnsupportedRequireOnOptionsGets420ListingEveryTag) {
  Deliver({.method = "OPTIONS",
           .branch = "z9hG4bK-o",
           .headers = {"Require: nothingSupportedHere, siprec", "Require: nothingHere2"}});
  Message r = SentAt(-1);
  EXPECT_EQ(r.status_code, 420);
  EXPECT_EQ(r.Find(HeaderId::kUnsupported).value_or(""), "nothingSupportedHere, nothingHere2");
  EXPECT_NE(r.Find(HeaderId::kWarning).value_or("").find("unsupported extension"),
            std::string::npos);
  // §8.2.2 header inspection comes before dialog matching (481) ...
  Deliver({.method = "BYE", .branch = "z9hG4bK-b", .headers = {"Require: foo"}});
  EXPECT_EQ(SentAt(-1).status_code, 420);
  // ... and after method inspection (501).
  Deliver({.method = "FOO", .branch = "z9hG4bK-f", .headers = {"Require: foo"}});
  EXPECT_EQ(SentAt(-1).status_code, 501);
  Deliver({.method = "OPTIONS", .branch = "z9hG4bK-o2", .headers = {"Require: Timer, SIPREC"}});
  EXPECT_EQ(SentAt(-1).status_code, 200);
}

TEST_F(ShardTest, RequireInsideADialogGets420AndIsIgnoredOnAck) {
  Deliver({});
  Deliver({.method = "ACK",
           .branch = "z9hG4bK-ack",
           .to_tag = LocalTag(),
           .headers = {"Require: foo"}});
  EXPECT_EQ(app_.acks, 1);
  for (const char* method : {"INFO", "UPDATE", "BYE", "OPTIONS"}) {
    Deliver({.method = method,
             .branch = std::string("z9hG4bK-") + method,
             .cseq = 2,
             .to_tag = LocalTag(),
             .headers = {"Require: foo"}});
    EXPECT_EQ(SentAt(-1).status_code, 420) << method;
  }
  EXPECT_TRUE(app_.dialog_requests.empty());
  EXPECT_EQ(shard_->dialog_count(), 1u);  // the refused BYE did not end the call
}

TEST_F(ShardTest, CancelIgnoresRequire) {
  app_.answer_invite = false;
  Deliver({});
  Deliver({.method = "CANCEL", .headers = {"Require: foo"}});
  EXPECT_EQ(SentAt(-2).status_code, 200);
  EXPECT_EQ(SentAt(-1).status_code, 487);
}

// RFC 3261 §8.2.2.1 (RFC 4475 §3.3.2/§3.3.3): only sip, sips and tel, in any case.
TEST_F(ShardTest, RequestUriSchemeOtherThanSipSipsTelGets416) {
  int n = 0;
  for (const char* uri : {"nobodyKnowsThisScheme:totallyopaquecontent",
                          "soap.beep://192.0.2.103:3002", "urn:service:sos", "http://h/x"}) {
    Deliver({.method = "OPTIONS", .branch = "z9hG4bK-u" + std::to_string(n++), .uri = uri});
    Message r = SentAt(-1);
    EXPECT_EQ(r.status_code, 416) << uri;
    EXPECT_NE(r.Find(HeaderId::kWarning).value_or("").find("scheme"), std::string::npos) << uri;
  }
  Deliver({.branch = "z9hG4bK-ui", .uri = "im:srs@10.0.0.2"});
  EXPECT_EQ(SentAt(-1).status_code, 416);
  EXPECT_EQ(app_.invites, 0);
  for (const char* uri : {"tel:+1-555-0100", "SIPS:srs@10.0.0.2", "Sip:srs@10.0.0.2"}) {
    Deliver({.method = "OPTIONS", .branch = "z9hG4bK-u" + std::to_string(n++), .uri = uri});
    EXPECT_EQ(SentAt(-1).status_code, 200) << uri;
  }
}

// RFC 3261 §21.4.7 (RFC 4475 §3.3.15): our answer is SDP, so an INVITE whose Accept allows
// neither application/sdp nor multipart/mixed gets 406; no Accept means application/sdp.
TEST_F(ShardTest, InviteWhoseAcceptExcludesSdpGets406) {
  struct Case {
    std::vector<std::string> headers;
    int code;
  };
  const std::vector<Case> cases = {
      {{"Accept: text/nobodyKnowsThis"}, 406},
      {{"Accept: application/sdp;q=0, text/plain"}, 406},
      {{"Accept: application/sdp; q=0.000"}, 406},
      {{"Accept:"}, 406},  // RFC 3261 §20.1: an empty Accept allows nothing
      {{}, 200},
      {{"Accept: text/plain", "Accept: application/sdp"}, 200},
      {{"Accept: Application/SDP;q=0.5"}, 200},
      {{"Accept: application/*"}, 200},
      {{"Accept: */*;q=0.1"}, 200},
      {{"Accept: multipart/mixed;boundary=x"}, 200},
      // Intrado VIPER lists only metadata types and takes the SDP answer (siprec-samples).
      {{"Accept: application/rs-metadata", "Accept: application/rs-metadata-request"}, 200},
  };
  int n = 0, invites = 0;
  for (const Case& c : cases) {
    ++n;
    Deliver({.call_id = "accept-" + std::to_string(n),
             .branch = "z9hG4bK-a" + std::to_string(n),
             .headers = c.headers});
    Message r = SentAt(-1);
    std::string what = c.headers.empty() ? "no Accept" : c.headers[0];
    EXPECT_EQ(r.status_code, c.code) << what;
    if (c.code == 406) {
      EXPECT_NE(r.Find(HeaderId::kWarning).value_or("").find("Accept allows none"),
                std::string::npos)
          << what;
    } else {
      ++invites;
    }
    EXPECT_EQ(app_.invites, invites) << what;
  }
}

TEST_F(ShardTest, ReInviteWhoseAcceptExcludesSdpGets406AndTheCallGoesOn) {
  Deliver({});
  Deliver({.method = "ACK", .branch = "z9hG4bK-ack", .to_tag = LocalTag()});
  Deliver({.branch = "z9hG4bK-re",
           .cseq = 2,
           .to_tag = LocalTag(),
           .headers = {"Accept: text/nobodyKnowsThis"}});
  EXPECT_EQ(SentAt(-1).status_code, 406);
  EXPECT_EQ(shard_->dialog_count(), 1u);
  Deliver({.branch = "z9hG4bK-re2", .cseq = 3, .to_tag = LocalTag()});
  EXPECT_EQ(SentAt(-1).status_code, 200);
}

// RFC 3261 §25.1: a quoted-pair may escape NUL, BEL and DEL; with a method token made of every
// token character (the shape of RFC 4475 §3.1.1.2) the request is answered like any unknown
// method.
TEST_F(ShardTest, UnusualMethodWithEscapedNulInDisplayNameGets501) {
  const std::string method = "!odd-Method0123456789_*+`.%really'~";
  std::string to = "To: \"nul:\\";
  to += '\0';
  to += " bel:\\\x07 del:\\\x7f\" <sip:srs@10.0.0.2>";
  std::string m = Build({.method = method, .branch = "z9hG4bK-.!%77*_+`'~"});
  m.replace(m.find("To: "), m.find("\r\n", m.find("To: ")) - m.find("To: "), to);
  DeliverRaw(m);
  ASSERT_EQ(sender_.sent.size(), 1u);
  EXPECT_EQ(sender_.sent[0].data.rfind("SIP/2.0 501 ", 0), 0u) << sender_.sent[0].data;
  // The To comes back with our tag; the builder writes no NUL (it becomes a space, still a
  // valid quoted-pair), BEL and DEL are echoed as they came.
  Message r = SentAt(0);
  EXPECT_EQ(r.to.display_name, "nul:\\  bel:\\\x07 del:\\\x7f");
  EXPECT_FALSE(r.to.tag.empty());
}

TEST_F(ShardTest, SmallSessionExpiresGets422WithMinSe) {
  Deliver({.headers = {"Supported: timer", "Session-Expires: 30"}});
  Message r = SentAt(-1);
  EXPECT_EQ(r.status_code, 422);
  EXPECT_EQ(r.Find(HeaderId::kMinSe).value_or(""), "90");
}

TEST_F(ShardTest, SessionTimerExpiresWithoutRefresh) {
  Deliver({.headers = {"Supported: timer", "Session-Expires: 90;refresher=uac"}});
  Message ok = SentAt(-1);
  EXPECT_EQ(ok.Find(HeaderId::kSessionExpires).value_or(""), "90;refresher=uac");
  EXPECT_TRUE(ok.HasOptionTag(HeaderId::kRequire, "timer"));
  Deliver({.method = "ACK", .branch = "z9hG4bK-ack", .to_tag = LocalTag()});
  Advance(seconds(59));
  EXPECT_TRUE(app_.ended.empty());
  Advance(seconds(2));  // 90 - min(32, 90/3) = 60 s
  ASSERT_EQ(app_.ended.size(), 1u);
  EXPECT_EQ(app_.ended[0].second, EndReason::kSessionExpired);
  EXPECT_EQ(SentAt(-1).method, Method::kBye);
}

TEST_F(ShardTest, UpdateRefreshKeepsTheSessionAlive) {
  Deliver({.headers = {"Supported: timer", "Session-Expires: 90;refresher=uac"}});
  Deliver({.method = "ACK", .branch = "z9hG4bK-ack", .to_tag = LocalTag()});
  Advance(seconds(45));
  Deliver({.method = "UPDATE",
           .branch = "z9hG4bK-u",
           .cseq = 2,
           .to_tag = LocalTag(),
           .headers = {"Supported: timer", "Session-Expires: 90;refresher=uac"}});
  Message ok = SentAt(-1);
  EXPECT_EQ(ok.status_code, 200);
  EXPECT_EQ(ok.Find(HeaderId::kSessionExpires).value_or(""), "90;refresher=uac");
  Advance(seconds(45));  // 90 s after the INVITE, 45 s after the refresh
  EXPECT_TRUE(app_.ended.empty());
  Advance(seconds(16));
  ASSERT_EQ(app_.ended.size(), 1u);
}

TEST_F(ShardTest, WeRefreshWithUpdateWhenAskedToBeRefresher) {
  Deliver({.headers = {"Supported: timer", "Session-Expires: 120;refresher=uas"}});
  Deliver({.method = "ACK", .branch = "z9hG4bK-ack", .to_tag = LocalTag()});
  Advance(seconds(60));
  Message update = SentAt(-1);
  ASSERT_EQ(update.method, Method::kUpdate);
  EXPECT_EQ(update.Find(HeaderId::kSessionExpires).value_or(""), "120;refresher=uac");
  // The peer confirms: the next refresh comes 60 s later.
  std::string answer = "SIP/2.0 200 OK\r\nVia: " + std::string(update.top_via.text) +
                       "\r\nFrom: " + std::string(*update.Find(HeaderId::kFrom)) +
                       "\r\nTo: " + std::string(*update.Find(HeaderId::kTo)) +
                       "\r\nCall-ID: call-1@src\r\nCSeq: " + std::to_string(update.cseq.number) +
                       " UPDATE\r\nSession-Expires: 120;refresher=uac\r\nContent-Length: 0\r\n\r\n";
  DeliverRaw(answer);
  size_t before = sender_.sent.size();
  Advance(seconds(59));
  EXPECT_EQ(sender_.sent.size(), before);
  Advance(seconds(2));
  EXPECT_EQ(SentAt(-1).method, Method::kUpdate);
  // No answer to this one: Timer F ends the call with a BYE.
  Advance(seconds(33));
  ASSERT_EQ(app_.ended.size(), 1u);
  EXPECT_EQ(app_.ended[0].second, EndReason::kRefreshFailed);
  EXPECT_EQ(SentAt(-1).method, Method::kBye);
}

TEST_F(ShardTest, UnknownDialogGets481UnlessAdopted) {
  Deliver({.method = "BYE", .branch = "z9hG4bK-b", .cseq = 5, .to_tag = "gone"});
  EXPECT_EQ(SentAt(-1).status_code, 481);
  app_.adopt = true;
  Deliver({.method = "BYE", .branch = "z9hG4bK-b2", .cseq = 6, .to_tag = "gone"});
  EXPECT_EQ(SentAt(-1).status_code, 200);
  EXPECT_EQ(app_.dialog_requests, std::vector<std::string>{"BYE"});
}

TEST_F(ShardTest, ReInviteWhileOneIsPendingGets500RetryAfter) {
  Deliver({});
  Deliver({.method = "ACK", .branch = "z9hG4bK-ack", .to_tag = LocalTag()});
  app_.answer_in_dialog = false;
  Deliver({.branch = "z9hG4bK-re1", .cseq = 2, .to_tag = LocalTag()});
  Deliver({.branch = "z9hG4bK-re2", .cseq = 3, .to_tag = LocalTag()});
  Message r = SentAt(-1);
  EXPECT_EQ(r.status_code, 500);
  EXPECT_TRUE(r.Find(HeaderId::kRetryAfter).has_value());
}

TEST_F(ShardTest, OutOfOrderCSeqGets500) {
  Deliver({.cseq = 10});
  Deliver({.method = "ACK", .branch = "z9hG4bK-ack", .cseq = 10, .to_tag = LocalTag()});
  Deliver({.method = "INFO", .branch = "z9hG4bK-i", .cseq = 9, .to_tag = LocalTag()});
  EXPECT_EQ(SentAt(-1).status_code, 500);
}

TEST_F(ShardTest, UnansweredInviteGets500AfterTimeout) {
  app_.answer_invite = false;
  Deliver({});
  Advance(seconds(33));
  EXPECT_EQ(CountSent("SIP/2.0 500"), 1);
  ASSERT_EQ(app_.ended.size(), 1u);
  EXPECT_EQ(app_.ended[0].second, EndReason::kNotAnswered);
}

TEST_F(ShardTest, AsynchronousAnswerIsPostedToTheShard) {
  app_.answer_invite = false;
  Deliver({});
  exec_.current = false;
  app_.pending[0].Respond(Response::WithCode(200));
  EXPECT_EQ(CountSent("SIP/2.0 200"), 0);
  ASSERT_EQ(exec_.posted.size(), 1u);
  exec_.current = true;
  exec_.posted.front()();
  EXPECT_EQ(CountSent("SIP/2.0 200"), 1);
}

TEST_F(ShardTest, MethodsOutsideDialog) {
  Deliver({.method = "REGISTER", .branch = "z9hG4bK-r"});
  EXPECT_EQ(SentAt(-1).status_code, 405);
  EXPECT_TRUE(SentAt(-1).Find(HeaderId::kAllow).has_value());
  Deliver({.method = "FOO", .branch = "z9hG4bK-f"});
  EXPECT_EQ(SentAt(-1).status_code, 501);
  Deliver({.method = "BYE", .branch = "z9hG4bK-b"});
  EXPECT_EQ(SentAt(-1).status_code, 481);
}

TEST_F(ShardTest, TerminateDialogSendsByeWithReason) {
  Deliver({});
  Deliver({.method = "ACK", .branch = "z9hG4bK-ack", .to_tag = LocalTag()});
  shard_->TerminateDialog(app_.last_dialog, 200, "RTP timeout", exec_.now);
  Message bye = SentAt(-1);
  EXPECT_EQ(bye.method, Method::kBye);
  EXPECT_NE(bye.Find(HeaderId::kReason).value_or("").find("RTP timeout"), std::string::npos);
  ASSERT_EQ(app_.ended.size(), 1u);
  EXPECT_EQ(app_.ended[0].second, EndReason::kTerminatedLocally);
  // BYE is retransmitted over UDP (Timer E) until answered.
  Advance(milliseconds(500));
  EXPECT_EQ(CountSent("BYE "), 2);
}

}  // namespace
}  // namespace callvault::sip
