// Cisco's non-SIPREC forks through the Recorder: UCM Built-in-Bridge (two delayed-offer legs
// paired into one recording) and CUBE network-based recording (participants in headers), with
// our own messages for each variant and the reconstructed CUCM trace of
// ../shared/siprec-samples (read in place, skipped when absent).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "siprec/cisco.h"
#include "siprec/metadata.h"
#include "siprec/sdp.h"
#include "siprec/sdp_offer.h"
#include "siprec/testing/recorder_fixture.h"

namespace callvault::siprec {
namespace {

using testing::RecorderTest;
using namespace std::chrono_literals;

const char kBibFrom[] =
    "\"Janice Holland\" <sip:4062@192.0.2.30;x-farend;x-refci=82731258;"
    "x-nearendclusterid=CCM1-Cluster;x-nearenddevice=SEP189C5DB7C8AC;x-nearendaddr=4062;"
    "x-farendrefci=82730980;x-farendclusterid=CCM1-Cluster;x-farenddevice=10.1.20.11;"
    "x-farendaddr=8172710497>;tag=99";

TEST(CiscoBib, FromParametersNameTheLegAndBothEnds) {
  std::optional<BibLeg> leg = ParseBibFrom(kBibFrom);
  ASSERT_TRUE(leg);
  EXPECT_EQ(leg->side, BibLeg::Side::kFarEnd);
  EXPECT_EQ(leg->index(), 1u);
  EXPECT_EQ(leg->near_end.addr, "4062");
  EXPECT_EQ(leg->near_end.device, "SEP189C5DB7C8AC");
  EXPECT_EQ(leg->near_end.refci, "82731258");
  EXPECT_EQ(leg->far_end.addr, "8172710497");
  EXPECT_EQ(leg->far_end.device, "10.1.20.11");
  EXPECT_EQ(leg->PairKey(), "CCM1-Cluster|82731258");
  std::string near = kBibFrom;
  near.replace(near.find("x-farend;"), 9, "X-NearEnd;");  // names are case-insensitive
  leg = ParseBibFrom(near);
  ASSERT_TRUE(leg);
  EXPECT_EQ(leg->side, BibLeg::Side::kNearEnd);

  EXPECT_FALSE(ParseBibFrom("<sip:src@192.0.2.10>;tag=1"));
  EXPECT_FALSE(ParseBibFrom("<sip:4062@192.0.2.30;x-nearend>;tag=1")) << "no x-refci";
  EXPECT_FALSE(ParseBibFrom("<sip:4062@192.0.2.30;x-refci=1>;tag=1")) << "no side";
  EXPECT_FALSE(ParseBibFrom("garbage <<"));
}

TEST(CiscoBib, MetadataPutsTheNearEndOnTheFirstStream) {
  RecordingMetadata md = BibMetadata(*ParseBibFrom(kBibFrom));
  std::vector<ParticipantChannel> map = MapParticipantsToStreams(md, {"nearend", "farend"});
  ASSERT_EQ(map.size(), 2u);
  EXPECT_EQ(map[0].participant_id, "nearend");
  EXPECT_EQ(map[0].stream_match, ChannelMatch::kLabel);
  EXPECT_EQ(map[0].association, AssociationSource::kSipHeaders);
  EXPECT_FALSE(map[0].guessed());
  EXPECT_EQ(map[1].participant_id, "farend");
  nlohmann::json j = ToJson(md);
  EXPECT_EQ(j["participants"][0]["aor"], "4062");
  EXPECT_EQ(j["participants"][1]["aor"], "8172710497");
  EXPECT_EQ(j["participants"][0]["association"], "sip_headers");
}

TEST(CiscoNbr, ParticipantHeadersInEveryForm) {
  std::vector<std::pair<std::string, std::string>> h = {
      {"X-Cisco-Recording-Participant", "sip:2164485925@ccf.org;media-index=\"0\""},
      {"x-cisco-recording-participant", "<sip:20053@10.144.106.41;user=phone>;media-index=1"},
      {"X-Cisco-Recording-Participant", "sip:a@b, sip:c@d;media-index=\"3\""},
      {"X-Cisco-Recording-Participant", "sip:x@y;media-index=\"abc\""},
      {"Subject", "sip:z@z;media-index=0"}};
  std::vector<NbrParticipant> p = NbrParticipants(h);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].aor, "sip:2164485925@ccf.org");
  EXPECT_EQ(p[0].media_index, 0);
  EXPECT_EQ(p[1].aor, "sip:20053@10.144.106.41;user=phone");
  EXPECT_EQ(p[1].media_index, 1);
  EXPECT_EQ(p[2].aor, "sip:c@d");
  EXPECT_EQ(p[2].media_index, 3);
}

TEST(CiscoNbr, ATransferDisassociatesWhoLeft) {
  RecordingMetadata first =
      NbrMetadata({{"sip:a@x", 0}, {"sip:b@x", 1}}, nullptr, "2026-12-07T10:00:00.000Z");
  ASSERT_EQ(first.participants.size(), 2u);
  ASSERT_EQ(first.streams.size(), 2u);
  EXPECT_EQ(first.streams[1].label, "1");
  RecordingMetadata after =
      NbrMetadata({{"sip:a@x", 0}, {"sip:c@x", 1}}, &first, "2026-12-07T10:01:00.000Z");
  ASSERT_EQ(after.participants.size(), 3u);
  EXPECT_EQ(after.participants[2].id, "sip:b@x");
  EXPECT_FALSE(after.participants[2].active());
  std::vector<ParticipantChannel> map = MapParticipantsToStreams(after, {"0", "1"});
  ASSERT_EQ(map.size(), 2u);
  EXPECT_EQ(map[1].participant_id, "sip:c@x");
  EXPECT_FALSE(map[1].mixed);
}

TEST(SdpOffer, OffersWhatThisBuildDecodesRecvOnly) {
  OfferOptions o;
  o.local_ipv4 = "192.0.2.20";
  o.session_id = "123";
  o.session_version = 1;
  o.port = 40000;
  o.can_decode = [](const codec::CodecSpec& c) { return c.name != "G729"; };
  auto offer = BuildRecorderOffer(o);
  ASSERT_TRUE(offer.ok()) << offer.status().ToString();
  EXPECT_NE(offer->text.find("m=audio 40000 RTP/AVP 0 8 9 101\r\n"), std::string::npos)
      << offer->text;
  EXPECT_NE(offer->text.find("a=recvonly"), std::string::npos);
  auto parsed = ParseSdp(offer->text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->media[0].direction, Direction::kRecvOnly);
  EXPECT_EQ(parsed->media[0].connection.address, "192.0.2.20");
  o.port = 0;
  EXPECT_FALSE(BuildRecorderOffer(o).ok());
}

// A CUCM BiB leg as CUCM 10.5 sends it (our own message, fields as in the cisco-200788 trace).
std::string BibInvite(const std::string& side, const std::string& call_id,
                      const std::string& refci = "38960750") {
  return "INVITE sip:8675309@192.0.2.20:5060 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-" +
         call_id +
         "\r\n"
         "From: <sip:9110001@192.0.2.10;" +
         side + ";x-refci=" + refci +
         ";x-nearendclusterid=cl1;x-nearenddevice=sep001795bdd16b;"
         "x-nearendaddr=9110001;x-farendrefci=38960749;x-farendclusterid=cl1;"
         "x-farenddevice=sep0018195aa209;x-farendaddr=9110006>;tag=t-" +
         call_id +
         "\r\n"
         "To: <sip:8675309@192.0.2.20>\r\n"
         "Call-ID: " +
         call_id +
         "\r\n"
         "CSeq: 101 INVITE\r\n"
         "Min-SE:  1800\r\nUser-Agent: Cisco-CUCM10.5\r\n"
         "Cisco-Guid: 2881195520-0000065536-0000000011-1512058894\r\n"
         "Contact: <sip:9110001@192.0.2.10:5060>;isFocus\r\nMax-Forwards: 70\r\n"
         "Content-Length: 0\r\n\r\n";
}

std::string BibInDialog(const std::string& method, int cseq, const std::string& side,
                        const std::string& call_id, const std::string& to_tag,
                        const std::string& sdp = "") {
  std::string m = method + " sip:192.0.2.20:5060 SIP/2.0\r\n"
                  "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-" +
                  method + std::to_string(cseq) + call_id +
                  "\r\n"
                  "From: <sip:9110001@192.0.2.10;" +
                  side + ";x-refci=38960750>;tag=t-" + call_id +
                  "\r\n"
                  "To: <sip:8675309@192.0.2.20>;tag=" +
                  to_tag + "\r\nCall-ID: " + call_id + "\r\nCSeq: " + std::to_string(cseq) +
                  " " + method + "\r\nMax-Forwards: 70\r\n";
  if (!sdp.empty()) m += "Content-Type: application/sdp\r\n";
  m += "Content-Length: " + std::to_string(sdp.size()) + "\r\n\r\n" + sdp;
  return m;
}

std::string PhoneSdp(int port, const std::string& direction = "sendonly") {
  return "v=0\r\no=CiscoSystemsCCM-SIP 73601 1 IN IP4 192.0.2.10\r\ns=SIP Call\r\n"
         "c=IN IP4 192.0.2.33\r\nt=0 0\r\nm=audio " +
         std::to_string(port) +
         " RTP/AVP 0 101\r\na=ptime:20\r\na=rtpmap:0 PCMU/8000\r\na=" + direction +
         "\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n";
}

TEST_F(RecorderTest, CiscoBibLegsBecomeOneTwoChannelRecording) {
  // The far end's leg first: the pairing does not depend on the order.
  DeliverRaw(BibInvite("x-farend", "bib-far@cucm"));
  sip::Message ok_far = Final();
  ASSERT_EQ(ok_far.status_code, 200) << last_;
  const std::string far_tag = Tag(ok_far);
  auto offer = ParseSdp(ok_far.body);
  ASSERT_TRUE(offer.ok()) << ok_far.body;
  ASSERT_EQ(offer->media.size(), 1u);
  EXPECT_EQ(offer->media[0].direction, Direction::kRecvOnly);
  EXPECT_EQ(offer->media[0].port, 40000);
  DeliverRaw(BibInDialog("ACK", 101, "x-farend", "bib-far@cucm", far_tag, PhoneSdp(4002)));

  DeliverRaw(BibInvite("x-nearend", "bib-near@cucm"));
  sip::Message ok_near = Final();
  ASSERT_EQ(ok_near.status_code, 200) << last_;
  const std::string near_tag = Tag(ok_near);
  EXPECT_EQ(ParseSdp(ok_near.body)->media[0].port, 40002);
  DeliverRaw(BibInDialog("ACK", 101, "x-nearend", "bib-near@cucm", near_tag, PhoneSdp(4000)));

  ASSERT_EQ(backend_.begun.size(), 1u) << "one recording, not two";
  ASSERT_EQ(backend_.opened.size(), 2u);
  EXPECT_EQ(backend_.opened[0].stream_id, "s1");  // far end
  EXPECT_EQ(backend_.opened[1].stream_id, "s0");  // near end
  EXPECT_EQ(backend_.opened[1].call_id, backend_.opened[0].call_id);
  EXPECT_EQ(backend_.Events("leg").size(), 2u);
  // Whatever codec of our offer the phone picks is decodable: all are in the stream line.
  std::vector<nlohmann::json> streams = backend_.Events("stream");
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_TRUE(streams[0]["payload_types"].contains("0"));
  EXPECT_TRUE(streams[0]["payload_types"].contains("8"));
  // ACKs get no answer: wait (bounded) for the worker to log them.
  for (int i = 0; i < 2000 && backend_.Events("sdp").size() < 2; ++i)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(backend_.Events("sdp").size(), 2u) << "the ACK answers are logged";
  EXPECT_EQ(recorder_->active_calls(), 1u);

  // One leg's BYE does not end the recording; the other's does.
  DeliverRaw(BibInDialog("BYE", 102, "x-farend", "bib-far@cucm", far_tag));
  EXPECT_EQ(Final().status_code, 200);
  EXPECT_TRUE(backend_.ended.empty());
  DeliverRaw(BibInDialog("BYE", 102, "x-nearend", "bib-near@cucm", near_tag));
  EXPECT_EQ(Final().status_code, 200);
  ASSERT_EQ(backend_.ended.size(), 1u);
  const CallEnd& end = backend_.ended[0];
  EXPECT_EQ(end.state, CallState::kCompleted);
  EXPECT_EQ(end.stream_channels, (std::map<std::string, int>{{"s0", 0}, {"s1", 1}}));
  ASSERT_EQ(end.participants.size(), 2u);
  EXPECT_EQ(end.participants[0]["aor"], "9110001");
  EXPECT_EQ(end.participants[0]["channel"], 0);
  EXPECT_EQ(end.participants[1]["aor"], "9110006");
  EXPECT_EQ(end.participants[1]["channel"], 1);
  EXPECT_EQ(end.siprec_session_id, "2881195520-0000065536-0000000011-1512058894");
  EXPECT_TRUE(end.warnings.empty()) << end.warnings[0];
  EXPECT_EQ(recorder_->active_calls(), 0u);
}

TEST_F(RecorderTest, CiscoBibLegWithoutPartnerIsRecordedAloneWithAWarning) {
  DeliverRaw(BibInvite("x-nearend", "alone@cucm", "111"));
  sip::Message ok = Final();
  ASSERT_EQ(ok.status_code, 200) << last_;
  const std::string tag = Tag(ok);  // ok's views die with the next Final()
  // Another call's far end (other x-refci) does not pair with it.
  DeliverRaw(BibInvite("x-farend", "other@cucm", "222"));
  sip::Message other = Final();
  ASSERT_EQ(other.status_code, 200);
  EXPECT_EQ(backend_.begun.size(), 2u);
  DeliverRaw(BibInDialog("BYE", 102, "x-nearend", "alone@cucm", tag));
  EXPECT_EQ(Final().status_code, 200);
  ASSERT_EQ(backend_.ended.size(), 1u);
  EXPECT_EQ(backend_.ended[0].stream_channels, (std::map<std::string, int>{{"s0", 0}}));
  ASSERT_EQ(backend_.ended[0].warnings.size(), 1u);
  EXPECT_NE(backend_.ended[0].warnings[0].find("far-end leg (x-farend) never arrived"),
            std::string::npos);
  // A second near end for the same x-refci after the first ended: a call of its own.
  DeliverRaw(BibInvite("x-nearend", "late@cucm", "222"));
  sip::Message late = Final();
  ASSERT_EQ(late.status_code, 200);
  EXPECT_EQ(backend_.begun.size(), 2u) << "it joined the far end of refci 222";
}

TEST_F(RecorderTest, CiscoBibRtpTimeoutByesBothLegs) {
  DeliverRaw(BibInvite("x-nearend", "t-near@cucm", "333"));
  const std::string a = Tag(Final());
  DeliverRaw(BibInvite("x-farend", "t-far@cucm", "333"));
  const std::string b = Tag(Final());
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  DeliverRaw(BibInDialog("ACK", 101, "x-nearend", "t-near@cucm", a, PhoneSdp(4000)));
  DeliverRaw(BibInDialog("ACK", 101, "x-farend", "t-far@cucm", b, PhoneSdp(4002)));
  recorder_->OnRtpTimeout(backend_.begun.at(0).call_id);
  for (int i = 0; i < 10 && recorder_->active_calls() != 0; ++i) exec_.Pump();
  ASSERT_EQ(backend_.ended.size(), 1u);
  EXPECT_EQ(backend_.ended[0].state, CallState::kTimedOut);
  EXPECT_EQ(backend_.ended[0].reason, "rtp_timeout");
  int byes = 0;
  for (const auto& s : sender_.sent) byes += s.rfind("BYE ", 0) == 0 ? 1 : 0;
  EXPECT_EQ(byes, 2);
  EXPECT_EQ(recorder_->active_calls(), 0u);
}

TEST_F(RecorderTest, CiscoBibHoldPausesTheLegsStream) {
  DeliverRaw(BibInvite("x-nearend", "hold@cucm", "444"));
  const std::string tag = Tag(Final());
  ASSERT_FALSE(tag.empty());
  DeliverRaw(BibInDialog("ACK", 101, "x-nearend", "hold@cucm", tag, PhoneSdp(4000)));
  // A re-INVITE without SDP: we offer again, the hold answer comes in the ACK.
  DeliverRaw(BibInDialog("INVITE", 102, "x-nearend", "hold@cucm", tag));
  sip::Message again = Final();
  ASSERT_EQ(again.status_code, 200);
  EXPECT_EQ(ParseSdp(again.body)->origin.session_version, "2");
  DeliverRaw(BibInDialog("ACK", 102, "x-nearend", "hold@cucm", tag,
                         PhoneSdp(4000, "inactive")));
  // A re-INVITE with an offer (resume): answered for the leg's stream.
  DeliverRaw(BibInDialog("INVITE", 103, "x-nearend", "hold@cucm", tag, PhoneSdp(4010)));
  sip::Message resume = Final();
  ASSERT_EQ(resume.status_code, 200);
  auto answer = ParseSdp(resume.body);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->media[0].port, 40000);
  EXPECT_EQ(answer->media[0].direction, Direction::kRecvOnly);
  ASSERT_EQ(backend_.paused.size(), 2u);
  EXPECT_EQ(backend_.paused[0], std::make_pair(std::string("s0"), true));
  EXPECT_EQ(backend_.paused[1], std::make_pair(std::string("s0"), false));
}

const char kNbrSdp[] =
    "v=0\r\no=CUBE-UA 2009 576 IN IP4 192.0.2.10\r\ns=SIP Call\r\nc=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\nm=audio 30000 RTP/AVP 0 101 19\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=rtpmap:19 CN/8000\r\n"
    "a=ptime:20\r\na=sendonly\r\n"
    "m=audio 30002 RTP/AVP 0 101 19\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=rtpmap:19 CN/8000\r\n"
    "a=ptime:20\r\na=sendonly\r\n";

std::string NbrInvite(int cseq, const std::string& to_tag, const std::string& party1) {
  return "INVITE sip:7603213214@192.0.2.20:5060 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-nbr" +
         std::to_string(cseq) +
         "\r\nFrom: <sip:192.0.2.10>;tag=cube1\r\nTo: <sip:8000@192.0.2.20>" +
         (to_tag.empty() ? "" : ";tag=" + to_tag) +
         "\r\nCall-ID: nbr-1@cube\r\nCSeq: " + std::to_string(cseq) +
         " INVITE\r\n"
         "X-Cisco-Recording-Participant: sip:2164485925@ccf.org;media-index=\"0\"\r\n"
         "X-Cisco-Recording-Participant: " +
         party1 +
         ";media-index=\"1\"\r\n"
         "User-Agent: Cisco-SIPGateway/IOS-15.5.3.S5\r\n"
         "Cisco-Guid: 1234-5678-GUID\r\nContent-Type: application/sdp\r\n"
         "Contact: <sip:192.0.2.10:5060>\r\nMax-Forwards: 70\r\nContent-Length: " +
         std::to_string(std::string(kNbrSdp).size()) + "\r\n\r\n" + kNbrSdp;
}

TEST_F(RecorderTest, CiscoNbrParticipantsComeFromHeadersAndFollowATransfer) {
  DeliverRaw(NbrInvite(101, "", "sip:20053@10.144.106.41"));
  sip::Message ok = Final();
  ASSERT_EQ(ok.status_code, 200) << last_;
  const std::string tag = Tag(ok);
  std::vector<nlohmann::json> who = backend_.Events("participants");
  ASSERT_EQ(who.size(), 1u);
  EXPECT_EQ(who[0]["participants"][0]["aor"], "sip:2164485925@ccf.org");
  EXPECT_EQ(who[0]["participants"][0]["channel"], 0);
  EXPECT_EQ(who[0]["participants"][1]["channel"], 1);
  EXPECT_EQ(who[0]["siprec_session_id"], "1234-5678-GUID");
  Deliver("ACK", 101, "", "", tag, "nbr-1@cube");

  DeliverRaw(NbrInvite(102, tag, "sip:10012@10.144.106.41"));  // transfer
  sip::Message re = Final();
  ASSERT_EQ(re.status_code, 200) << last_;
  EXPECT_EQ(backend_.opened.size(), 2u) << "same streams";
  Deliver("BYE", 103, "", "", tag, "nbr-1@cube");
  EXPECT_EQ(Final().status_code, 200);
  ASSERT_EQ(backend_.ended.size(), 1u);
  const CallEnd& end = backend_.ended[0];
  ASSERT_EQ(end.participants.size(), 3u);
  EXPECT_EQ(end.participants[1]["aor"], "sip:10012@10.144.106.41");
  EXPECT_EQ(end.participants[1]["channel"], 1);
  EXPECT_EQ(end.participants[2]["aor"], "sip:20053@10.144.106.41");
  EXPECT_EQ(end.participants[2]["channel"], nullptr) << "left on the transfer";
  EXPECT_EQ(end.stream_channels, (std::map<std::string, int>{{"s0", 0}, {"s1", 1}}));
  EXPECT_EQ(end.siprec_session_id, "1234-5678-GUID");
  for (const std::string& w : end.warnings) ADD_FAILURE() << w;
}

// The reconstructed CUCM 10.5 trace (cisco-200788): both INVITEs and their ACKs as CUCM sent
// them, in place; only the To tag of the ACKs is ours (the trace's SRS answered with tags 1 and 2).
TEST_F(RecorderTest, CiscoBibTraceFromTheSamplesIsOneRecording) {
  namespace fs = std::filesystem;
  const fs::path dir = CALLVAULT_SAMPLES_DIR;
  if (!fs::is_directory(dir)) GTEST_SKIP() << "no samples at " << dir;
  auto read = [&](const std::string& name) {
    std::ifstream in(dir / name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  std::vector<std::string> tags;
  for (const char* leg : {"nearend", "farend"}) {
    DeliverRaw(read(std::string("cisco-ucm-bib-invite") + (leg[0] == 'n' ? "1-" : "2-") + leg +
                    ".sip"));
    sip::Message ok = Final();
    ASSERT_EQ(ok.status_code, 200) << leg << "\n" << last_;
    tags.push_back(Tag(ok));
  }
  for (int i = 0; i < 2; ++i) {
    std::string ack =
        read(std::string("cisco-ucm-bib-ack") + (i == 0 ? "1-nearend" : "2-farend") + "-sdp.sip");
    const size_t to = ack.find("\r\nTo: ");
    ASSERT_NE(to, std::string::npos);
    const size_t t = ack.find(";tag=", to), eol = ack.find("\r\n", to + 2);
    ASSERT_LT(t, eol);
    ack.replace(t, eol - t, ";tag=" + tags[i]);
    DeliverRaw(ack);
  }
  for (int i = 0; i < 2000 && backend_.Events("sdp").size() < 2; ++i)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(backend_.begun.size(), 1u);
  EXPECT_EQ(backend_.opened.size(), 2u);
  EXPECT_EQ(backend_.Events("sdp").size(), 2u);
  recorder_->Stop();
  ASSERT_EQ(backend_.ended.size(), 1u);
  EXPECT_EQ(backend_.ended[0].participants[0]["aor"], "9110001");
  EXPECT_EQ(backend_.ended[0].participants[1]["aor"], "9110006");
  EXPECT_EQ(backend_.ended[0].stream_channels, (std::map<std::string, int>{{"s0", 0}, {"s1", 1}}));
}

}  // namespace
}  // namespace callvault::siprec
