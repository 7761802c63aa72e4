// CallSession for Cisco UCM Built-in-Bridge recording (siprec/call_session.h, siprec/cisco.h):
// one dialog per direction, each a leg with its own stream of the one recording — near end on
// stream s0 (channel 0), far end on s1 (channel 1). A leg's INVITE normally has no SDP: its
// 200 carries our offer and the SRC (CUCM, for the phone's bridge) answers in the ACK with the
// phone's address and a=sendonly.
#include <algorithm>

#include "base/log.h"
#include "siprec/call_session.h"
#include "siprec/sdp_answer.h"
#include "siprec/sdp_offer.h"

namespace callvault::siprec {
namespace {

BibLeg::Side SideOf(size_t index) {
  return index == 0 ? BibLeg::Side::kNearEnd : BibLeg::Side::kFarEnd;
}

// The first audio m= line of an SDP (a BiB leg has one stream), nullptr when there is none.
const MediaDescription* FirstAudio(const SessionDescription& sdp) {
  for (const MediaDescription& m : sdp.media) {
    if (EncodingIs(m.media, "audio") && m.port != 0) return &m;
  }
  return nullptr;
}

}  // namespace

sip::Response CallSession::StartBib(const RequestInfo& invite, const BibLeg& bib) {
  RecordingMetadata md = BibMetadata(bib);
  if (std::string guid = HeaderValue(invite, "Cisco-Guid"); !guid.empty())
    md.sessions = {MetadataSession{.id = guid}};
  if (auto refusal = BeginRecording(invite, {md})) return std::move(*refusal);
  bib_ = bib;
  Log({{"t", "cisco_participants"}, {"source", "INVITE"}, {"raw", md.raw}});
  metadata_ = std::move(md);
  streams_.resize(2);
  streams_[0].label = "nearend";
  streams_[1].label = "farend";
  sip::Response r = AddLeg(invite, dialog_, bib.side);
  if (r.code != 200) {
    backend_->AbortCall(call_id_);
    return r;
  }
  LogParticipants();
  accepted_ = true;  // the caller syncs the log (SyncCallAsync), then Committed()
  return r;
}

sip::Response CallSession::JoinLeg(const RequestInfo& invite, const sip::DialogId& dialog) {
  std::optional<BibLeg> bib = ParseBibFrom(invite.from);
  if (!bib_ || !bib || ended_) return Refuse(500, "not a Cisco BiB recording session");
  if (std::optional<BibLeg::Side> missing = MissingBibSide(); !missing || *missing != bib->side)
    return Refuse(500, "this BiB call already records the " +
                           std::string(BibSideName(bib->side)) + " leg");
  sip::Response r = AddLeg(invite, dialog, bib->side);
  if (r.code == 200) {
    CV_LOG_INFO("siprec.bib_leg_joined", "call={} sip_call={} leg={}", call_id_,
                invite.sip_call_id, BibSideName(bib->side));
    LogParticipants();
  }
  return r;
}

std::optional<sip::Response> CallSession::LegCommitted(const std::string& leg,
                                                       const Status& synced) {
  Leg* l = FindLeg(leg);
  if (l == nullptr || l->committed || l->ended) return std::nullopt;
  if (!synced.ok()) {
    // Its stream stays open (the media engine closes it with the call) but the SRC got no 2xx.
    l->ended = true;
    return Refuse(503, "cannot sync the spool: " + std::string(synced.message()));
  }
  l->committed = true;
  return std::nullopt;
}

sip::Response CallSession::AddLeg(const RequestInfo& invite, const sip::DialogId& dialog,
                                  BibLeg::Side side) {
  auto body = ExtractOfferBody(invite.content_type, invite.body);
  if (!body.ok()) return RefuseBody(body.status());
  const size_t index = side == BibLeg::Side::kNearEnd ? 0 : 1;
  Stream& st = streams_[index];
  StreamOpen so;
  so.call_id = call_id_;
  so.stream_id = "s" + std::to_string(index);
  so.ipv6 = backend_->MediaAddressV4().empty();
  so.clock_rate = 8000;
  auto port = backend_->OpenStream(so);
  if (!port.ok())
    return Refuse(503, "cannot open an RTP stream: " + std::string(port.status().message()));
  st.open = true;
  st.id = so.stream_id;
  st.local_port = *port;
  legs_.push_back(Leg{DialogKey(dialog), dialog, index, invite.sip_call_id, "", 0, false, false});
  Leg& leg = legs_.back();  // the first leg is committed by Committed(), others LegCommitted()
  Log({{"t", "leg"},
       {"leg", std::string(BibSideName(side))},
       {"stream", st.id},
       {"sip_call_id", invite.sip_call_id},
       {"from", invite.from},
       {"src", invite.src}});
  if (body->sdp) return AnswerLegOffer(leg, *body->sdp, "INVITE");  // early offer

  auto offer = LegOffer(leg);
  if (!offer.ok())
    return Refuse(500, "building the SDP offer: " + std::string(offer.status().message()));
  // Every payload type offered is decodable: whatever the phone picks is recorded.
  nlohmann::json pts = nlohmann::json::object();
  for (const PayloadFormat& p : offer->payloads) {
    pts[std::to_string(p.payload_type)] = {{"name", p.codec.name},
                                           {"rate", p.codec.clock_rate},
                                           {"channels", p.codec.channels},
                                           {"fmtp", p.codec.fmtp}};
  }
  Log({{"t", "stream"},
       {"stream", st.id},
       {"index", index},
       {"label", st.label},
       {"local_port", st.local_port},
       {"payload_types", pts},
       {"direction", "sendonly"},
       {"srtp", false}});
  leg.last_offer = offer->text;
  return sip::Response::WithBody(200, "application/sdp", offer->text);
}

Result<SdpOffer> CallSession::LegOffer(Leg& leg) {
  OfferOptions opts;
  opts.local_ipv4 = backend_->MediaAddressV4();
  opts.local_ipv6 = backend_->MediaAddressV6();
  opts.session_id = sdp_session_id_;
  opts.session_version = ++leg.sdp_version;
  opts.port = streams_[leg.index].local_port;
  opts.can_decode = options_->can_decode;
  return BuildRecorderOffer(opts);
}

sip::Response CallSession::AnswerLegOffer(Leg& leg, const std::string& sdp,
                                          const std::string& source) {
  auto offer = ParseSdp(sdp);
  if (!offer.ok()) return Refuse(488, "bad SDP: " + std::string(offer.status().message()));
  const MediaDescription* audio = FirstAudio(*offer);
  if (audio == nullptr) return Refuse(488, "no audio stream in the SDP offer");
  Stream& st = streams_[leg.index];
  AnswerOptions opts;
  opts.local_ipv4 = backend_->MediaAddressV4();
  opts.local_ipv6 = backend_->MediaAddressV6();
  opts.session_id = sdp_session_id_;
  opts.session_version = ++leg.sdp_version;
  opts.can_decode = options_->can_decode;
  opts.ports.assign(offer->media.size(), 0);
  opts.ports[audio - offer->media.data()] = st.local_port;
  auto answer = BuildRecorderAnswer(*offer, opts);
  if (!answer.ok())
    return Refuse(500, "building the SDP answer: " + std::string(answer.status().message()));
  const AnsweredMedia& m = answer->media[audio - offer->media.data()];
  if (!m.accepted) return Refuse(488, "no recordable stream (" + m.reject_reason + ")");
  Log({{"t", "sdp"}, {"source", source}, {"offer", sdp}, {"answer", answer->text}});
  if (source == "INVITE") {
    Log({{"t", "stream"},
         {"stream", st.id},
         {"index", leg.index},
         {"label", st.label},
         {"local_port", st.local_port},
         {"payload_types", PayloadTypesJson(m)},
         {"direction", std::string(DirectionName(m.offer_direction))},
         {"srtp", !m.srtp_suite.empty()}});
  }
  const bool paused = m.answer_direction == Direction::kInactive;
  if (paused != st.paused) SetStreamPaused(st, paused);
  leg.last_offer.clear();
  return sip::Response::WithBody(200, "application/sdp", answer->text);
}

sip::Response CallSession::UpdateLeg(Leg& leg, const RequestInfo& request) {
  auto body = ExtractOfferBody(request.content_type, request.body);
  if (!body.ok()) return RefuseBody(body.status());
  const std::string source = request.method == "INVITE" ? "re-INVITE" : request.method;
  sip::Response r = sip::Response::WithCode(200);
  if (body->sdp) {
    r = AnswerLegOffer(leg, *body->sdp, source);
  } else if (request.method == "INVITE") {
    // A re-INVITE without SDP (hold, resume, transfer): a fresh offer, answered in the ACK.
    auto offer = LegOffer(leg);
    if (!offer.ok())
      return Refuse(500, "building the SDP offer: " + std::string(offer.status().message()));
    leg.last_offer = offer->text;
    r = sip::Response::WithBody(200, "application/sdp", offer->text);
  }
  if (Status s = backend_->SyncCall(call_id_); !s.ok()) {
    warnings_.push_back("session log sync failed: " + std::string(s.message()));
  }
  return r;
}

void CallSession::AckLeg(Leg& leg, const std::string& sdp) {
  Log({{"t", "sdp"}, {"source", "ACK"}, {"offer", leg.last_offer}, {"answer", sdp}});
  Stream& st = streams_[leg.index];
  auto answer = ParseSdp(sdp);
  const MediaDescription* audio = answer.ok() ? FirstAudio(*answer) : nullptr;
  if (audio == nullptr) {
    warnings_.push_back("Cisco BiB " + std::string(BibSideName(SideOf(leg.index))) +
                        " leg: the ACK's SDP answer is unusable" +
                        (answer.ok() ? std::string(" (no audio)")
                                     : ": " + std::string(answer.status().message())));
    return;
  }
  // The phone sends (sendonly/sendrecv) or, on hold, does not (inactive/recvonly).
  const bool paused =
      audio->direction == Direction::kInactive || audio->direction == Direction::kRecvOnly;
  if (paused != st.paused) SetStreamPaused(st, paused);
  leg.last_offer.clear();
}

CallSession::Leg* CallSession::FindLeg(const std::string& key) {
  for (Leg& l : legs_) {
    if (l.key == key) return &l;
  }
  return nullptr;
}

bool CallSession::AnyLiveLeg() const {
  return std::any_of(legs_.begin(), legs_.end(), [](const Leg& l) { return !l.ended; });
}

std::optional<BibLeg::Side> CallSession::MissingBibSide() const {
  if (!bib_ || streams_.size() < 2) return std::nullopt;
  if (!streams_[0].open) return BibLeg::Side::kNearEnd;
  if (!streams_[1].open) return BibLeg::Side::kFarEnd;
  return std::nullopt;
}

std::string CallSession::StreamIdFor(const std::string& leg, size_t mline) const {
  size_t index = mline;
  if (bib_) {
    auto l = std::find_if(legs_.begin(), legs_.end(), [&](const Leg& x) { return x.key == leg; });
    if (l == legs_.end() || mline != 0) return "";
    index = l->index;
  }
  return index < streams_.size() && streams_[index].open ? streams_[index].id : "";
}

std::vector<sip::DialogId> CallSession::LiveDialogs() const {
  std::vector<sip::DialogId> out;
  if (ended_) return out;
  if (!bib_) return {dialog_};
  for (const Leg& l : legs_) {
    if (!l.ended) out.push_back(l.dialog);
  }
  return out;
}

}  // namespace callvault::siprec
