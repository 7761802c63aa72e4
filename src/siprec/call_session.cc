#include "siprec/call_session.h"

#include <algorithm>
#include <random>

#include "base/log.h"
#include "base/strings.h"
#include "base/time_format.h"
#include "siprec/sdp_answer.h"
#include "siprec/sdp_crypto.h"

namespace callvault::siprec {
namespace {

// Headers that describe the call (kept in the session log and manifest); transport and
// dialog machinery is not kept.
bool KeepHeader(sip::HeaderId id, std::string_view name) {
  switch (id) {
    case sip::HeaderId::kOther:
      return true;
    case sip::HeaderId::kSubject:
    case sip::HeaderId::kReason:
      return true;
    default:
      (void)name;
      return false;
  }
}

constexpr size_t kMaxKeptHeaders = 64;
constexpr size_t kMaxKeptHeaderValue = 2048;
constexpr size_t kMaxRuleHeaders = 128;  // headers of an INVITE the tenant rules look at

std::string RandomDigits() {
  std::random_device rd;
  uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return std::to_string(v % 9000000000000000000ULL + 1000000000ULL);
}

}  // namespace

RequestInfo RequestInfo::From(const sip::IncomingRequest& r) {
  const sip::Message& m = r.message;
  RequestInfo info;
  info.method = std::string(m.method_text);
  info.content_type = std::string(m.Find(sip::HeaderId::kContentType).value_or(""));
  info.body = std::string(m.body);
  info.sip_call_id = std::string(m.call_id);
  info.from = std::string(m.Find(sip::HeaderId::kFrom).value_or(""));
  info.to = std::string(m.Find(sip::HeaderId::kTo).value_or(""));
  info.request_uri = std::string(m.request_uri);
  info.user_agent = std::string(m.Find(sip::HeaderId::kUserAgent).value_or(""));
  info.src = r.flow.remote.ToString();
  info.transport = std::string(sip::TransportName(r.flow.transport));
  const bool invite = m.method == sip::Method::kInvite;
  size_t kept = 0;
  for (const sip::Header& h : m.headers) {
    if (invite && info.all_headers.size() < kMaxRuleHeaders) {
      std::string_view canonical = sip::HeaderName(h.id);
      info.all_headers.emplace_back(canonical.empty() ? h.name : canonical,
                                    h.value.substr(0, kMaxKeptHeaderValue));
    }
    if (!KeepHeader(h.id, h.name) || kept >= kMaxKeptHeaders) continue;
    std::string name(h.name), value(h.value.substr(0, kMaxKeptHeaderValue));
    if (info.headers.contains(name)) {
      info.headers[name] = info.headers[name].get<std::string>() + ", " + value;
    } else {
      info.headers[name] = value;
      ++kept;
    }
  }
  return info;
}

CallSession::CallSession(std::string call_id, sip::DialogId dialog, RecordingBackend* backend,
                         const Clock* clock, const RecorderOptions* options)
    : call_id_(std::move(call_id)),
      dialog_(std::move(dialog)),
      backend_(backend),
      clock_(clock),
      options_(options),
      sdp_session_id_(RandomDigits()) {}

std::string CallSession::Now() const { return FormatRfc3339Ms(clock_->WallNow()); }

void CallSession::Log(nlohmann::json event) {
  Status s = backend_->LogEvent(call_id_, std::move(event));
  if (!s.ok()) {
    // The audio keeps recording; the event is lost from the log and the call flagged.
    CV_LOG_WARN("siprec.log_failed", "call={} reason=\"{}\"", call_id_, s.message());
    warnings_.push_back("session log write failed: " + std::string(s.message()));
  }
}

sip::Response CallSession::Refuse(int code, std::string why) const {
  CV_LOG_INFO("siprec.refused", "call={} sip_call={} code={} reason=\"{}\"", call_id_,
              dialog_.call_id, code, why);
  sip::Response r = sip::Response::Error(code, std::move(why));
  if (code == 503) r.retry_after_s = options_->retry_after_s;
  return r;
}

sip::Response CallSession::RefuseBody(const Status& why) const {
  if (why.code() == StatusCode::kUnimplemented) {  // a media type we cannot use
    sip::Response r = Refuse(415, std::string(why.message()));
    r.headers.emplace_back("Accept", "application/sdp, multipart/mixed");
    return r;
  }
  return Refuse(400, "bad body: " + std::string(why.message()));
}

sip::Response CallSession::Start(const RequestInfo& invite) {
  if (std::optional<BibLeg> bib = ParseBibFrom(invite.from)) return StartBib(invite, *bib);
  auto body = ExtractOfferBody(invite.content_type, invite.body);
  if (!body.ok()) return RefuseBody(body.status());
  if (!body->sdp) {
    return Refuse(488, invite.body.empty()
                           ? "SDP offer required: INVITE without SDP (delayed offer) is not "
                             "supported"
                           : "no application/sdp part in the body");
  }
  // Cisco CUBE network-based recording: participants in headers instead of metadata.
  const std::vector<NbrParticipant> nbr =
      body->metadata.empty() ? NbrParticipants(invite.all_headers) : std::vector<NbrParticipant>{};
  nbr_ = !nbr.empty();
  if (body->metadata.empty() && !nbr_ && !options_->accept_without_metadata) {
    return Refuse(488,
                  "not a SIPREC session: no recording metadata (application/rs-metadata+xml) "
                  "part and no X-Cisco-Recording-Participant header");
  }
  // The metadata is parsed before the spool exists: the tenant rules may look at participants,
  // and the tenant goes into the call's first durable record.
  std::vector<RecordingMetadata> parsed;
  for (const MetadataPart& part : body->metadata) parsed.push_back(ParseMetadata(part.raw));
  if (nbr_) parsed.push_back(NbrMetadata(nbr, nullptr, Now()));
  if (auto refusal = BeginRecording(invite, parsed)) return std::move(*refusal);
  for (const std::string& w : body->warnings) warnings_.push_back(w);
  if (body->metadata.empty() && !nbr_) warnings_.push_back("no recording metadata in the INVITE");
  if (nbr_) {
    ApplyNbrParticipants(nbr, "INVITE");
    // Cisco-Guid names the call across CUBE and CUCM: the session id.
    if (std::string guid = HeaderValue(invite, "Cisco-Guid"); !guid.empty() && metadata_)
      metadata_->sessions = {MetadataSession{.id = guid}};
  } else {
    ApplyMetadata(body->metadata, "INVITE", std::move(parsed));
  }
  sip::Response r = ApplyOffer(*body->sdp, "INVITE", /*initial=*/true);
  if (r.code != 200) {
    backend_->AbortCall(call_id_);
    return r;
  }
  LogParticipants();
  accepted_ = true;  // the caller syncs the log (SyncCallAsync), then Committed()
  return r;
}

std::optional<sip::Response> CallSession::BeginRecording(
    const RequestInfo& invite, const std::vector<RecordingMetadata>& metadata) {
  if (backend_->FreeStreams() < options_->min_free_streams) {
    return Refuse(503, "no free RTP ports");
  }
  if (options_->admit_call) {
    if (Status s = options_->admit_call(); !s.ok()) return Refuse(503, std::string(s.message()));
  }
  const TenantDecision tenant = DecideTenant(invite, metadata);
  if (tenant.refused) {
    CV_LOG_WARN("siprec.tenant_refused", "call={} sip_call={} src={} rule=\"{}\" reason=\"{}\"",
                call_id_, dialog_.call_id, invite.src, tenant.matched, tenant.problem);
    return Refuse(403, tenant.problem);
  }
  tenant_ = tenant.tenant;
  CallStart start{
      call_id_,          invite.sip_call_id, invite.from,      invite.to,      invite.request_uri,
      invite.user_agent, invite.src,         invite.transport, invite.headers, tenant_};
  if (Status s = backend_->BeginCall(start); !s.ok()) {
    backend_->AbortCall(call_id_);
    return Refuse(503, "cannot write the spool: " + std::string(s.message()));
  }
  warnings_.clear();
  if (!tenant.problem.empty()) {
    CV_LOG_WARN("siprec.tenant_fallback", "call={} sip_call={} src={} tenant={} reason=\"{}\"",
                call_id_, dialog_.call_id, invite.src, tenant_.empty() ? "-" : tenant_,
                tenant.problem);
    warnings_.push_back(tenant.problem);
  }
  src_ = invite.src;
  tenant_by_ = tenant.matched;
  return std::nullopt;
}

std::string CallSession::HeaderValue(const RequestInfo& request, std::string_view name) {
  for (const auto& [n, value] : request.all_headers) {
    if (EqualsIgnoreCase(n, name)) return value.substr(0, 256);
  }
  return "";
}

std::optional<sip::Response> CallSession::Committed(const Status& synced) {
  if (!accepted_ || started_ || ended_) return std::nullopt;  // not awaiting its sync
  if (!synced.ok()) {
    backend_->AbortCall(call_id_);
    ended_ = true;
    return Refuse(503, "cannot sync the spool: " + std::string(synced.message()));
  }
  started_ = true;
  if (!legs_.empty()) legs_.front().committed = true;
  CV_LOG_INFO("siprec.call_started", "call={} sip_call={} src={} streams={} tenant={} tenant_by={}",
              call_id_, dialog_.call_id, src_, streams_.size(), tenant_.empty() ? "-" : tenant_,
              tenant_by_.empty() ? "none" : tenant_by_);
  return std::nullopt;
}

sip::Response CallSession::Update(const RequestInfo& request, const std::string& leg) {
  if (request.method == "INFO") return sip::Response::WithCode(200);
  if (bib_) {
    Leg* l = FindLeg(leg);
    if (l == nullptr) return Refuse(481, "no such leg of this recording session");
    return UpdateLeg(*l, request);
  }
  auto body = ExtractOfferBody(request.content_type, request.body);
  if (!body.ok()) return RefuseBody(body.status());
  const std::string source = request.method == "INVITE" ? "re-INVITE" : request.method;
  ApplyMetadata(body->metadata, source);
  if (nbr_ && request.method == "INVITE") {
    const std::vector<NbrParticipant> nbr = NbrParticipants(request.all_headers);
    if (!nbr.empty()) ApplyNbrParticipants(nbr, source);
  }
  sip::Response r = sip::Response::WithCode(200);
  if (body->sdp) {
    r = ApplyOffer(*body->sdp, source, /*initial=*/false);
  } else if (request.method == "INVITE" && !last_answer_.empty()) {
    // A re-INVITE without SDP asks us for an offer (RFC 3264 §8): our current session, newer
    // version; the SRC answers in the ACK.
    std::string offer = last_answer_;
    ++sdp_version_;
    size_t o = offer.find("o=");
    if (o != std::string::npos) {
      size_t eol = offer.find("\r\n", o);
      std::string line = offer.substr(o, eol - o);
      size_t sp3 = line.find(' ', line.find(' ', line.find(' ') + 1) + 1);
      size_t sp2 = line.rfind(' ', sp3 - 1);
      line.replace(sp2 + 1, sp3 - sp2 - 1, std::to_string(sdp_version_));
      offer.replace(o, eol - o, line);
    }
    r = sip::Response::WithBody(200, "application/sdp", offer);
  }
  LogParticipants();
  if (Status s = backend_->SyncCall(call_id_); !s.ok()) {
    warnings_.push_back("session log sync failed: " + std::string(s.message()));
  }
  return r;
}

void CallSession::Ack(const RequestInfo& ack, const std::string& leg) {
  auto body = ExtractOfferBody(ack.content_type, ack.body);
  if (!body.ok() || !body->sdp) return;
  if (bib_) {
    if (Leg* l = FindLeg(leg)) AckLeg(*l, *body->sdp);
    return;
  }
  Log({{"t", "sdp"}, {"source", "ACK"}, {"offer", last_answer_}, {"answer", *body->sdp}});
}

sip::Response CallSession::Bye(const RequestInfo& bye, const std::string& leg) {
  if (bib_) {
    LegEnded(leg, CallState::kCompleted, "bye");
    return sip::Response::WithCode(200);
  }
  auto body = ExtractOfferBody(bye.content_type, bye.body);
  if (body.ok()) ApplyMetadata(body->metadata, "BYE");
  End(CallState::kCompleted, "bye");
  return sip::Response::WithCode(200);
}

void CallSession::SetPendingEnd(CallState state, std::string reason) {
  pending_end_ = {state, std::move(reason)};
}

void CallSession::Abort() {
  if (ended_) return;
  ended_ = true;
  backend_->AbortCall(call_id_);
  CV_LOG_INFO("siprec.call_aborted", "call={} sip_call={}", call_id_, dialog_.call_id);
}

void CallSession::LegEnded(const std::string& leg, CallState state, std::string reason) {
  if (bib_ && started_) {
    Leg* l = FindLeg(leg);
    if (l == nullptr || l->ended) return;
    l->ended = true;
    Log({{"t", "leg_end"}, {"leg", std::string(BibSideName(l->index == 0
                                                               ? BibLeg::Side::kNearEnd
                                                               : BibLeg::Side::kFarEnd))},
         {"sip_call_id", l->sip_call_id}, {"reason", reason}});
    if (AnyLiveLeg()) {
      // The other direction still records; what still arrives on this leg's port (a phone
      // that streams on after its BYE) is not part of the call.
      if (l->index < streams_.size() && streams_[l->index].open)
        SetStreamPaused(streams_[l->index], true);
      return;
    }
  }
  Ended(state, std::move(reason));
}

void CallSession::Ended(CallState state, std::string reason) {
  if (ended_) return;
  if (!started_) {
    backend_->AbortCall(call_id_);
    ended_ = true;
    return;
  }
  if (pending_end_) {
    state = pending_end_->first;
    reason = pending_end_->second;
  }
  End(state, reason);
}

TenantDecision CallSession::DecideTenant(const RequestInfo& invite,
                                         const std::vector<RecordingMetadata>& metadata) const {
  if (!options_->assign_tenant) return {};
  CallFacts facts;
  facts.src = invite.src;
  facts.request_uri = invite.request_uri;
  facts.from = invite.from;
  facts.to = invite.to;
  facts.headers = invite.all_headers;
  for (const RecordingMetadata& md : metadata) {
    for (const MetadataParticipant& p : md.participants) {
      facts.participant_aors.insert(facts.participant_aors.end(), p.aors.begin(), p.aors.end());
    }
  }
  return options_->assign_tenant(facts);
}

void CallSession::ApplyMetadata(const std::vector<MetadataPart>& parts, const std::string& source,
                                std::vector<RecordingMetadata> parsed) {
  for (size_t i = 0; i < parts.size(); ++i) {
    const MetadataPart& part = parts[i];
    RecordingMetadata md = i < parsed.size() ? std::move(parsed[i]) : ParseMetadata(part.raw);
    Log({{"t", "metadata"},
         {"source", source},
         {"content_type", part.content_type},
         {"raw", part.raw}});
    nlohmann::json snap = {{"at", Now()},
                           {"source", source},
                           {"content_type", part.content_type},
                           {"raw", md.raw},
                           {"well_formed", md.well_formed},
                           {"problems", md.problems}};
    snapshots_.push_back(std::move(snap));
    if (!md.well_formed) {
      CV_LOG_WARN("siprec.metadata_malformed", "call={} source={} problem=\"{}\"", call_id_, source,
                  md.problems.empty() ? "" : md.problems.front());
    }
    metadata_ = metadata_ ? Merge(*metadata_, md) : md;
  }
}

sip::Response CallSession::ApplyOffer(const std::string& sdp, const std::string& source,
                                      bool initial) {
  auto offer = ParseSdp(sdp);
  if (!offer.ok()) return Refuse(488, "bad SDP: " + std::string(offer.status().message()));
  const size_t n = offer->media.size();
  AnswerOptions opts;
  opts.local_ipv4 = backend_->MediaAddressV4();
  opts.local_ipv6 = backend_->MediaAddressV6();
  opts.session_id = sdp_session_id_;
  opts.session_version = sdp_version_ + 1;
  opts.can_decode = options_->can_decode;
  // Pass 1 learns which m-lines we can record (placeholder ports for those not open yet).
  opts.ports.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const bool open = i < streams_.size() && streams_[i].open;
    opts.ports[i] = offer->media[i].port == 0 ? 0 : (open ? streams_[i].local_port : 9);
  }
  auto probe = BuildRecorderAnswer(*offer, opts);
  if (!probe.ok())
    return Refuse(500, "building the SDP answer: " + std::string(probe.status().message()));
  if (initial && probe->accepted_count() == 0) {
    std::string why;
    for (const AnsweredMedia& m : probe->media) {
      if (!why.empty()) why += "; ";
      why += "m-line " + std::to_string(m.index) + ": " + m.reject_reason;
    }
    return Refuse(488, "no recordable stream (" + why + ")");
  }
  if (streams_.size() < n) streams_.resize(n);
  std::vector<size_t> opened;
  for (const AnsweredMedia& m : probe->media) {
    Stream& st = streams_[m.index];
    const std::string key =
        m.srtp_suite.empty() ? std::string() : Base64Encode(m.remote_master_key);
    if (!m.accepted) continue;
    if (!st.open) {
      StreamOpen so;
      so.call_id = call_id_;
      so.stream_id = "s" + std::to_string(m.index);
      so.ipv6 =
          m.remote_address.find(':') != std::string::npos && !backend_->MediaAddressV6().empty();
      so.clock_rate = static_cast<uint32_t>(m.codec.clock_rate > 0 ? m.codec.clock_rate : 8000);
      so.srtp_suite = m.srtp_suite;
      so.srtp_key_base64 = key;
      auto port = backend_->OpenStream(so);
      if (!port.ok()) {
        if (initial)
          return Refuse(503, "cannot open an RTP stream: " + std::string(port.status().message()));
        warnings_.push_back("stream " + so.stream_id +
                            " not opened: " + std::string(port.status().message()));
        opts.ports[m.index] = 0;
        continue;
      }
      // NBR m-lines are named by their index (X-Cisco-Recording-Participant media-index).
      st = Stream{true, so.stream_id, *port, false, key,
                  m.label.value_or(nbr_ ? std::to_string(m.index) : "")};
      opened.push_back(m.index);
    } else if (key != st.srtp_key) {
      Status s = backend_->UpdateSrtp(call_id_, st.id, m.srtp_suite, key);
      if (!s.ok()) warnings_.push_back("SRTP rekey failed on " + st.id);
      st.srtp_key = key;
    }
    if (m.label) st.label = *m.label;
    opts.ports[m.index] = st.local_port;
  }
  for (size_t i = 0; i < n; ++i) {
    if (!streams_[i].open && opts.ports[i] == 9) opts.ports[i] = 0;  // rejected in pass 1
  }
  auto answer = BuildRecorderAnswer(*offer, opts);
  if (!answer.ok())
    return Refuse(500, "building the SDP answer: " + std::string(answer.status().message()));
  sdp_version_ = opts.session_version;
  last_answer_ = answer->text;
  Log({{"t", "sdp"}, {"source", source}, {"offer", sdp}, {"answer", answer->text}});
  for (size_t i = 0; i < streams_.size(); ++i) {
    Stream& st = streams_[i];
    if (!st.open) continue;
    const AnsweredMedia* m = i < answer->media.size() ? &answer->media[i] : nullptr;
    const bool paused = m == nullptr || !m->accepted || m->answer_direction == Direction::kInactive;
    const bool is_new = std::find(opened.begin(), opened.end(), i) != opened.end();
    if (is_new && m != nullptr) {
      Log({{"t", "stream"},
           {"stream", st.id},
           {"index", i},
           {"label", st.label},
           {"local_port", st.local_port},
           {"payload_types", PayloadTypesJson(*m)},
           {"direction", std::string(DirectionName(m->offer_direction))},
           {"srtp", !m->srtp_suite.empty()}});
    }
    if (paused != st.paused || (is_new && paused)) SetStreamPaused(st, paused);
  }
  return sip::Response::WithBody(200, "application/sdp", answer->text);
}

nlohmann::json CallSession::PayloadTypesJson(const AnsweredMedia& m) {
  nlohmann::json pts = nlohmann::json::object();
  pts[std::to_string(m.payload_type)] = {{"name", m.codec.name},
                                         {"rate", m.codec.clock_rate},
                                         {"channels", m.codec.channels},
                                         {"fmtp", m.codec.fmtp}};
  if (m.telephone_event_pt >= 0) {
    pts[std::to_string(m.telephone_event_pt)] = {
        {"name", "telephone-event"}, {"rate", m.codec.clock_rate}, {"channels", 1}, {"fmtp", ""}};
  }
  if (m.comfort_noise_pt >= 0) {
    pts[std::to_string(m.comfort_noise_pt)] = {
        {"name", "CN"}, {"rate", 8000}, {"channels", 1}, {"fmtp", ""}};
  }
  return pts;
}

void CallSession::SetStreamPaused(Stream& st, bool paused) {
  Status s = backend_->SetPaused(call_id_, st.id, paused);
  if (!s.ok()) warnings_.push_back("pause/resume failed on " + st.id);
  if (paused != st.paused) {
    Log({{"t", "state"}, {"stream", st.id}, {"state", paused ? "paused" : "resumed"}});
    CV_LOG_INFO("siprec.stream_state", "call={} stream={} state={}", call_id_, st.id,
                paused ? "paused" : "resumed");
  }
  st.paused = paused;
}

void CallSession::ApplyNbrParticipants(const std::vector<NbrParticipant>& participants,
                                       const std::string& source) {
  RecordingMetadata md =
      NbrMetadata(participants, metadata_ ? &*metadata_ : nullptr, Now());
  if (metadata_) md.sessions = metadata_->sessions;  // Cisco-Guid, set once
  Log({{"t", "cisco_participants"}, {"source", source}, {"raw", md.raw}});
  metadata_ = std::move(md);
}

std::vector<ParticipantChannel> CallSession::MapParticipants() const {
  if (!metadata_) return {};
  std::vector<std::string> labels;
  for (const Stream& st : streams_) labels.push_back(st.label);
  return MapParticipantsToStreams(*metadata_, labels);
}

std::map<std::string, int> CallSession::StreamChannels(
    const std::vector<ParticipantChannel>& mapping) const {
  std::map<std::string, int> out;
  std::vector<std::string> senders;  // participants that send, in m-line order
  for (const ParticipantChannel& c : mapping) {
    if (c.participant_id.empty() || c.mixed) continue;
    if (std::find(senders.begin(), senders.end(), c.participant_id) == senders.end())
      senders.push_back(c.participant_id);
  }
  if (senders.size() < 2) return out;  // nothing to separate: the finalizer's default
  for (const ParticipantChannel& c : mapping) {
    if (c.mline >= streams_.size() || !streams_[c.mline].open) continue;
    const std::string& id = streams_[c.mline].id;
    if (c.mixed) {
      out[id] = -1;
      continue;
    }
    auto pos = std::find(senders.begin(), senders.end(), c.participant_id);
    if (pos == senders.end()) continue;
    const int channel = static_cast<int>((pos - senders.begin()) % 2);
    auto [it, inserted] = out.emplace(id, channel);
    if (!inserted && it->second != channel) it->second = -1;  // two senders: mixed
  }
  return out;
}

nlohmann::json CallSession::ParticipantsJson(
    const std::vector<ParticipantChannel>& channels,
    const std::map<std::string, int>& stream_channels) const {
  nlohmann::json out = nlohmann::json::array();
  if (!metadata_) return out;
  nlohmann::json md = ToJson(*metadata_);
  for (const auto& p : md.value("participants", nlohmann::json::array())) {
    nlohmann::json q = p;
    q["channel"] = nullptr;
    for (const ParticipantChannel& c : channels) {
      if (c.participant_id != p.value("id", "")) continue;
      int channel = static_cast<int>(c.mline % 2);  // the finalizer's default by m-line order
      if (c.mline < streams_.size()) {
        auto it = stream_channels.find(streams_[c.mline].id);
        if (it != stream_channels.end()) channel = it->second;
      }
      if (channel >= 0) q["channel"] = channel;
      q["mline"] = c.mline;
      q["stream_match"] = std::string(ChannelMatchName(c.stream_match));
      q["guessed"] = c.guessed();
      q["mixed"] = c.mixed || channel < 0;
      break;
    }
    out.push_back(std::move(q));
  }
  return out;
}

void CallSession::LogParticipants() {
  const std::vector<ParticipantChannel> mapping = MapParticipants();
  const std::map<std::string, int> channels = StreamChannels(mapping);
  nlohmann::json line = {
      {"participants", ParticipantsJson(mapping, channels)},
      {"stream_channels", channels},
      {"siprec_session_id",
       metadata_ && !metadata_->sessions.empty() ? metadata_->sessions[0].id : std::string()}};
  if (line == logged_participants_) return;
  logged_participants_ = line;
  line["t"] = "participants";
  Log(std::move(line));
}

void CallSession::End(CallState state, const std::string& reason) {
  if (ended_) return;
  ended_ = true;
  CallEnd end;
  end.call_id = call_id_;
  end.state = state;
  end.reason = reason;
  if (metadata_ && !metadata_->sessions.empty()) end.siprec_session_id = metadata_->sessions[0].id;
  const std::vector<ParticipantChannel> mapping = MapParticipants();
  end.stream_channels = StreamChannels(mapping);
  end.participants = ParticipantsJson(mapping, end.stream_channels);
  end.metadata = snapshots_;
  end.warnings = warnings_;
  if (bib_) {
    for (size_t i = 0; i < 2; ++i) {
      if (i < streams_.size() && streams_[i].open) continue;
      const bool near = i == 0;
      end.warnings.push_back(std::string("Cisco BiB: the ") + (near ? "near-end" : "far-end") +
                             " leg (" + (near ? "x-nearend" : "x-farend") +
                             ") never arrived: only the " + (near ? "far" : "near") +
                             " end is recorded");
    }
  }
  if (metadata_) {
    for (const std::string& p : metadata_->problems) end.warnings.push_back("metadata: " + p);
  }
  Status s = backend_->EndCall(end);
  CV_LOG_INFO("siprec.call_ended", "call={} sip_call={} state={} reason={} ok={}", call_id_,
              dialog_.call_id, CallStateName(state), reason, s.ok());
  if (!s.ok()) {
    // The spool still holds everything: start-up recovery finalizes it (as partial).
    CV_LOG_ERROR("siprec.end_failed", "call={} reason=\"{}\"", call_id_, s.message());
  }
}

}  // namespace callvault::siprec
